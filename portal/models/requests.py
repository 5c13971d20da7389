"""Models of resource requests (附件1/附件2), provisioning jobs, cloud resources, receipts, API tokens."""
from datetime import datetime

from sqlalchemy import (JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, SmallInteger, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import Base, UTCDateTime, utcnow
from ..text import _l
from ..workflow import JobAction, JobState, RequestKind, RequestState


def _in(values):
    return ", ".join(f"'{v.value}'" for v in values)


class ResourceRequest(Base):
    """A 政务云资源需求申请 (kind new) or a 资源变更申请 / 资源注销 (kind change / decommission).

    `spec` is the desired state of the system's resources as the department asks for it;
    `approved_spec` is what the bureau approved (with `adjustment` the difference). A change or
    decommission points at the system's first request (`system_id`); the new request is its own
    system.
    """

    __tablename__ = "resource_request"
    __table_args__ = (
        CheckConstraint(f"state IN ({_in(RequestState)})", name="state"),
        CheckConstraint(f"kind IN ({_in(RequestKind)})", name="kind"),
        # a department's list, newest first; the monthly report's months (issue 21: 100,000 requests)
        Index("ix_resource_request_department_id_id", "department_id", "id"),
        Index("ix_resource_request_submitted_at", "submitted_at"),
        Index("ix_resource_request_approved_at", "approved_at"),
        Index("ix_resource_request_provisioned_at", "provisioned_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default=RequestKind.NEW)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    system_id: Mapped[int | None] = mapped_column(ForeignKey("resource_request.id", ondelete="RESTRICT"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=RequestState.DRAFT, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    system_name: Mapped[str] = mapped_column(String(120))
    purpose: Mapped[str] = mapped_column(Text, default="")
    project_ref: Mapped[str] = mapped_column(String(200), default="")  # 信息化项目 (free text, before issue 19)
    # issue 19: the 信息化项目 whose design review it rests on (第七条(七)); a system keeps it
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"), index=True)
    in_use_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a system put in use (第十五条: after acceptance)
    # 第四条: a system already built and in use moves to the cloud (no new project; project_ref names it)
    existing_system: Mapped[bool] = mapped_column(Boolean, default=False)
    security_level: Mapped[int] = mapped_column(Integer, default=2)  # 等保级别 1..4
    construction_plan: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")  # why a change / decommission
    backup_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)  # 第十条(二): data migrated
    migration_note: Mapped[str] = mapped_column(Text, default="")  # where the data went (the migration confirmed)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)  # 绿色通道 第二十四条
    spec: Mapped[dict] = mapped_column(JSON, default=dict)
    approved_spec: Mapped[dict | None] = mapped_column(JSON)
    adjustment: Mapped[list | None] = mapped_column(JSON)
    review_comment: Mapped[str] = mapped_column(Text, default="")
    failure_message: Mapped[str] = mapped_column(Text, default="")
    resolution: Mapped[str] = mapped_column(Text, default="")  # how the vendor handled a failure (resolve)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provisioned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    department = relationship("Department")
    project = relationship("Project")
    system: Mapped["ResourceRequest | None"] = relationship(remote_side=[id])
    created_by = relationship("User", foreign_keys=[created_by_id])
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])
    versions: Mapped[list["RequestVersion"]] = relationship(back_populates="request",
                                                            order_by="RequestVersion.version")
    attachments: Mapped[list["RequestAttachment"]] = relationship(back_populates="request",
                                                                  order_by="RequestAttachment.id")

    __scope_column__ = "department_id"

    FIELDS = ("number", "kind", "state", "version", "system_name", "urgent")

    @property
    def system_root_id(self):
        return self.system_id or self.id

    def snapshot(self):
        return {f: getattr(self, f) for f in self.FIELDS}


class RequestVersion(Base):
    """The request as submitted, one row per submission (kept when it is returned and resubmitted)."""

    __tablename__ = "request_version"
    __table_args__ = (UniqueConstraint("request_id", "version", name="uq_request_version_request_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("resource_request.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict] = mapped_column(JSON)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by: Mapped[str] = mapped_column(String(64), default="")
    review_comment: Mapped[str] = mapped_column(Text, default="")  # the 退回意见 that ended it

    request: Mapped[ResourceRequest] = relationship(back_populates="versions")


class RequestAttachment(Base):
    """An uploaded construction plan or self-test report, stored in the instance folder."""

    __tablename__ = "request_attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("resource_request.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))  # construction_plan / self_test
    filename: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(80))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[ResourceRequest] = relationship(back_populates="attachments")


class ProvisioningJob(Base):
    """Durable work for the provisioner: make the cloud match one approved request.

    A worker claims a row by setting lease_owner/lease_expires_at (on PostgreSQL with
    SELECT ... FOR UPDATE SKIP LOCKED); a lease that expires may be taken over, and the steps
    resume because each stored its result in cloud_resource before the next began. lease_token,
    raised by each claim, fences the holder: a worker commits only while the row carries its token
    and its lease has not run out (provisioner/jobs.py). priority 1: green channel (第二十四条).
    """

    __tablename__ = "provisioning_job"
    __table_args__ = (
        CheckConstraint(f"state IN ({_in(JobState)})", name="state"),
        CheckConstraint(f"action IN ({_in(JobAction)})", name="action"),
        Index("ix_provisioning_job_claim", "state", "available_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("resource_request.id", ondelete="RESTRICT"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=JobState.QUEUED)
    action: Mapped[str] = mapped_column(String(16), default=JobAction.PROVISION, server_default="provision")
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # failures so far (not claims)
    lease_token: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    priority: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    current_step: Mapped[str] = mapped_column(String(120), default="")
    lease_owner: Mapped[str] = mapped_column(String(120), default="")
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_message: Mapped[str] = mapped_column(Text, default="")  # for people (Chinese in the UI)
    error_detail: Mapped[str] = mapped_column(Text, default="")  # for the vendor: exception, traceback
    step_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when current_step began (timings)

    request: Mapped[ResourceRequest] = relationship()

    __scope_column__ = "department_id"


class CloudResource(Base):
    """One thing govcloud created in OpenStack, keyed by a deterministic key per department.

    key examples: `project`, `router`, `network:default`, `server:R12:web-1`, `volume:R12:web-1:d1`.
    The OpenStack name carries the key too (`gc-...`), so a resource created just before a crash
    (id not yet stored) is found by name.
    """

    __tablename__ = "cloud_resource"
    __table_args__ = (UniqueConstraint("department_id", "key", name="uq_cloud_resource_department_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    system_id: Mapped[int | None] = mapped_column(ForeignKey("resource_request.id", ondelete="RESTRICT"), index=True)
    created_by_request_id: Mapped[int | None] = mapped_column(ForeignKey("resource_request.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(160))
    name: Mapped[str] = mapped_column(String(160))
    openstack_id: Mapped[str] = mapped_column(String(64), default="")
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __scope_column__ = "department_id"


class DeliveryReceipt(Base):
    """A 资源交付回执单 (附件3): what was delivered for one request; the department signs (签收)."""

    __tablename__ = "delivery_receipt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("resource_request.id", ondelete="RESTRICT"), unique=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    operator: Mapped[str] = mapped_column(String(64), default="")
    items: Mapped[list] = mapped_column(JSON, default=list)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    request: Mapped[ResourceRequest] = relationship()
    confirmed_by = relationship("User")

    __scope_column__ = "department_id"


TOKEN_SCOPES = ("read", "write")  # read: GET/HEAD/OPTIONS only; write: every method the role allows
TOKEN_SCOPE_LABELS = {"read": _l("Read-only"), "write": _l("Read-write")}
TOKEN_STATE_LABELS = {"active": _l("Active"), "expired": _l("Expired"), "revoked": _l("Revoked")}


class ApiToken(Base):
    """A personal API token; only its SHA-256 is stored. It expires (at most a year after creation)
    and is scoped read-only or read-write."""

    __tablename__ = "api_token"
    __table_args__ = (CheckConstraint("scope IN ('read', 'write')", name="scope"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    scope: Mapped[str] = mapped_column(String(8))
    last_used_addr: Mapped[str] = mapped_column(String(64), default="")

    user = relationship("User")

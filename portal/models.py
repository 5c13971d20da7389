"""Database models of the portal foundation: departments, users, audit events."""
import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .database import Base, UTCDateTime, utcnow


class Role(StrEnum):
    DEPARTMENT = "department"
    BUREAU = "bureau"
    VENDOR = "vendor"
    AUDITOR = "auditor"
    ADMIN = "admin"


class DepartmentLevel(StrEnum):
    CITY = "city"
    COUNTY = "county"
    SUB_UNIT = "sub_unit"


def _in(values):
    return ", ".join(f"'{v.value}'" for v in values)


def new_session_token():
    """Return a random token that identifies a user's sessions (rotated on password change)."""
    return secrets.token_urlsafe(32)


class Department(Base):
    """A 使用部门(单位): city department, county government or sub-unit."""

    __tablename__ = "department"
    __table_args__ = (
        CheckConstraint(f"level IN ({_in(DepartmentLevel)})", name="level"),
        CheckConstraint("(level = 'sub_unit') = (parent_id IS NOT NULL)", name="parent_iff_sub_unit"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    # 第十七条: security officer
    security_officer_name: Mapped[str] = mapped_column(String(64), default="")
    security_officer_phone: Mapped[str] = mapped_column(String(32), default="")
    # 第二十六条: IT lead and emergency contact
    it_lead_name: Mapped[str] = mapped_column(String(64), default="")
    it_lead_phone: Mapped[str] = mapped_column(String(32), default="")
    it_lead_email: Mapped[str] = mapped_column(String(120), default="")
    emergency_contact_name: Mapped[str] = mapped_column(String(64), default="")
    emergency_contact_phone: Mapped[str] = mapped_column(String(32), default="")
    # one OpenStack project per department (第十八条); set when the project is created
    openstack_project_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    parent: Mapped["Department | None"] = relationship(remote_side=[id])
    users: Mapped[list["User"]] = relationship(back_populates="department")

    # scoping.scoped() filters this column for department users
    __scope_column__ = "id"

    CONTACT_FIELDS = ("security_officer_name", "security_officer_phone", "it_lead_name",
                      "it_lead_phone", "it_lead_email", "emergency_contact_name",
                      "emergency_contact_phone")
    FIELDS = ("name", "code", "level", "parent_id", "openstack_project_id") + CONTACT_FIELDS

    def snapshot(self):
        """Return the audited fields as a plain dict."""
        return {f: getattr(self, f) for f in self.FIELDS}

    def __repr__(self):
        return f"<Department {self.code}>"


class User(Base):
    """A person who logs in; department users belong to exactly one department."""

    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(f"role IN ({_in(Role)})", name="role"),
        CheckConstraint("(role = 'department') = (department_id IS NOT NULL)",
                        name="department_iff_department_role"),
        CheckConstraint("NOT is_department_admin OR role = 'department'", name="admin_flag_only_department"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(64), default="")
    email: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    role: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    is_department_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active_account: Mapped[bool] = mapped_column(Boolean, default=True)
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    failed_login_count: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    previous_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # shown to the user
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    department: Mapped[Department | None] = relationship(back_populates="users")

    __scope_column__ = "department_id"

    FIELDS = ("username", "full_name", "email", "phone", "role", "department_id",
              "is_department_admin", "is_active_account")

    # The Flask-Login user interface, without importing Flask here. The session carries the
    # rotating token, not the primary key.
    is_authenticated = True
    is_anonymous = False

    def get_id(self):
        return self.session_token

    @property
    def is_active(self):
        return self.is_active_account

    def has_role(self, *roles):
        return self.role in roles

    @property
    def is_dept_admin(self):
        return self.role == Role.DEPARTMENT and self.is_department_admin

    def snapshot(self):
        return {f: getattr(self, f) for f in self.FIELDS}

    def __repr__(self):
        return f"<User {self.username} {self.role}>"


class AuditEvent(Base):
    """One line of the 操作日志: who did what to which object, with before/after."""

    __tablename__ = "audit_event"
    __table_args__ = (
        CheckConstraint("outcome IN ('success', 'failure', 'denied')", name="outcome"),
        Index("ix_audit_event_object", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # actor columns are copies, so the log survives renamed or deleted users
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    actor_username: Mapped[str] = mapped_column(String(64), default="")
    actor_role: Mapped[str] = mapped_column(String(16), default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(64), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(16), default="success")
    request_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    remote_addr: Mapped[str] = mapped_column(String(64), default="", index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    # the hash chain (portal/audit_chain.py): set when the writing transaction commits
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))

    __scope_column__ = "department_id"


class AuditChainHead(Base):
    """The newest link of the audit chain; its row lock orders concurrent appends."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class AuditDigest(Base):
    """A signed record of the chain head at one moment (HMAC key kept outside the database)."""

    __tablename__ = "audit_digest"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(64))


# Operations models (issue 6: jobs, maintenance windows, probes, incidents, notifications).
from .ops_models import *  # noqa: E402,F401,F403

# Resource request models (issue 4: requests, versions, jobs, cloud resources, receipts, API tokens).
from .request_models import *  # noqa: E402,F401,F403

# Billing models (issue 9: metering runs, usage, rate card, statements, monthly reports).
from .billing_models import *  # noqa: E402,F401,F403

# Vendor access grants (issue 8: 运维授权, 第十八条).
from .grant_models import *  # noqa: E402,F401,F403

# Backup and recovery (issue 7: policies, runs, artifacts, restores, extractions, 第十九条).
from .backup_models import *  # noqa: E402,F401,F403

# Provisioning operations (issue 5: reconciler findings, step timings).
from .reconcile_models import *  # noqa: E402,F401,F403

# The working-day calendar (issue 13: holidays and adjusted workdays per year).
from .calendar_models import *  # noqa: E402,F401,F403

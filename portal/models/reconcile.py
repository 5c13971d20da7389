"""Models of provisioning operations (issue 5): reconciler runs and findings, step timings."""
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..database import Base, UTCDateTime, utcnow

FINDING_KINDS = ("orphan", "drift", "quota")
# what a person should do about a finding (labels in portal/services/provisioning_ops.py)
SUGGESTIONS = ("delete_orphan", "rollback", "reprovision", "repair", "fix_quota")



def _in(values):
    return ", ".join(f"'{v}'" for v in values)


class ReconcileRun(Base):
    """One pass of the reconciler: the cloud (admin, all projects) compared with the database."""

    __tablename__ = "reconcile_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    duration_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    findings: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[list] = mapped_column(JSON, default=list)  # department codes with a job in flight
    error: Mapped[str] = mapped_column(Text, default="")  # the cloud could not be listed


class ReconcileFinding(Base):
    """A difference the last reconciler run found, with its suggested action (latest run only)."""

    __tablename__ = "reconcile_finding"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(FINDING_KINDS)})", name="kind"),
        CheckConstraint(f"suggestion IN ({_in(SUGGESTIONS)})", name="suggestion"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("reconcile_run.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("resource_request.id", ondelete="SET NULL"))
    resource_kind: Mapped[str] = mapped_column(String(32), default="")
    name: Mapped[str] = mapped_column(String(200), default="")
    openstack_id: Mapped[str] = mapped_column(String(64), default="")
    project_id: Mapped[str] = mapped_column(String(64), default="")
    problem: Mapped[str] = mapped_column(String(32))  # no_owner, missing, error, flavor, size, quota, ...
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    suggestion: Mapped[str] = mapped_column(String(32))

    __scope_column__ = "department_id"


class ProvisioningStep(Base):
    """How long one step of a provisioning job took; the kind is a small fixed set (metrics label)."""

    __tablename__ = "provisioning_step"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("provisioning_job.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    seconds: Mapped[float] = mapped_column(Float)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

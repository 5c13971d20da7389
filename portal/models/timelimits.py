"""Time limits (办理时限, issue 17): the reminders and escalations sent, one of each per step."""
from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..database import Base, UTCDateTime, utcnow
from ..text import _l

STEPS = ("review", "provisioning", "extraction", "grant")
STEP_LABELS = {
    "review": _l("Request review"),
    "provisioning": _l("Resource provisioning"),
    "extraction": _l("Backup extraction decision"),
    "grant": _l("Vendor access decision"),
}
STAGES = ("remind", "escalate")


class TimeLimitNotice(Base):
    """A reminder (before the limit) or an escalation (after it) sent for one step of one object.

    A step is identified by what it waits on and when it began: a request returned and submitted
    again is a new review step, with its own reminder.
    """

    __tablename__ = "time_limit_notice"
    __table_args__ = (
        CheckConstraint("step IN ('review', 'provisioning', 'extraction', 'grant')", name="step"),
        CheckConstraint("stage IN ('remind', 'escalate')", name="stage"),
        UniqueConstraint("step", "object_id", "started_at", "stage", name="uq_time_limit_notice_step"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    step: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stage: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[int | None] = mapped_column(Integer, index=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recipients: Mapped[int] = mapped_column(Integer, default=0)  # notifications queued

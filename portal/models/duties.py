"""The platform's duties (issue 20, Regulation 2): emergency plans and drills (第六条(四), 第二十三条),
rectification notices (第二十条) and key changes to the platform (第二十一条).

Names kept stable for the evaluation (issue 20, branch evaluation), which reads these tables:
- drills done: Drill rows in DRILL_DONE_STATES, by `ended_at`; `rto_met` / `rpo_met` when measured;
- rectifications closed on time: Rectification rows in state accepted with `closed_at` and
  `due_date` (`closed_on_time`).

portal.models imports this module, so every table is in one metadata.
"""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, false)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import Base, UTCDateTime, utcnow
from ..text import _l
from ..workdays import CHINA


def _in(values):
    return ", ".join(f"'{v.value}'" for v in values)


def _iso(value):
    return value.isoformat() if value is not None else None


class _Document:
    """An uploaded document kept under the instance's uploads (PDF, Office); only its name,
    size and SHA-256 are in the row."""

    document_name: Mapped[str] = mapped_column(String(200), default="")
    document_stored: Mapped[str] = mapped_column(String(64), default="")
    document_type: Mapped[str] = mapped_column(String(100), default="")
    document_size: Mapped[int] = mapped_column(Integer, default=0)
    document_sha256: Mapped[str] = mapped_column(String(64), default="")

    def document_snapshot(self):
        if not self.document_stored:
            return None
        return {"name": self.document_name, "size": self.document_size, "sha256": self.document_sha256}


# ---------------------------------------------------------------- emergency plans (第二十三条)

class PlanScope(StrEnum):
    PLATFORM = "platform"  # the platform's overall plan, the vendor's (总体应急预案)
    SYSTEM = "system"      # a department's plan for one of its systems


PLAN_SCOPE_LABELS = {
    PlanScope.PLATFORM: _l("Platform (overall plan)"),
    PlanScope.SYSTEM: _l("Department system"),
}


class PlanVersionState(StrEnum):
    DRAFT = "draft"            # being written by its owner
    SUBMITTED = "submitted"    # waiting for the bureau
    APPROVED = "approved"      # the plan in force
    RETURNED = "returned"      # the bureau sent it back with a reason; a new version follows
    SUPERSEDED = "superseded"  # a later version was approved


PLAN_VERSION_STATE_LABELS = {
    PlanVersionState.DRAFT: _l("Draft"),
    PlanVersionState.SUBMITTED: _l("Awaiting approval"),
    PlanVersionState.APPROVED: _l("Approved (in force)"),
    PlanVersionState.RETURNED: _l("Returned"),
    PlanVersionState.SUPERSEDED: _l("Superseded"),
}


class EmergencyPlan(Base):
    """An 应急预案: the platform's (vendor, no department) or a department's for one system.

    Its content lives in versions (EmergencyPlanVersion); the one approved is in force; a drill
    must follow at least every `drill_interval_months`."""

    __tablename__ = "emergency_plan"
    __table_args__ = (
        CheckConstraint(f"scope IN ({_in(PlanScope)})", name="scope"),
        CheckConstraint("(scope = 'platform') = (department_id IS NULL)", name="department_iff_system"),
        CheckConstraint("drill_interval_months BETWEEN 1 AND 36", name="drill_interval"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    system_id: Mapped[int | None] = mapped_column(ForeignKey("resource_request.id", ondelete="RESTRICT"),
                                                  index=True)
    title: Mapped[str] = mapped_column(String(200))
    drill_interval_months: Mapped[int] = mapped_column(Integer, default=12)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # the drill due date already flagged as missed (drill_reminders: once per due date)
    overdue_flagged_for: Mapped[date | None] = mapped_column(Date)

    department = relationship("Department")
    system = relationship("ResourceRequest")
    versions: Mapped[list["EmergencyPlanVersion"]] = relationship(
        back_populates="plan", order_by="EmergencyPlanVersion.number", cascade="all, delete-orphan")

    __scope_column__ = "department_id"

    @property
    def approved_version(self):
        """The version in force, or None."""
        return next((v for v in reversed(self.versions) if v.state == PlanVersionState.APPROVED), None)

    @property
    def latest_version(self):
        return self.versions[-1] if self.versions else None

    def snapshot(self):
        return {"scope": self.scope, "department_id": self.department_id, "system_id": self.system_id,
                "title": self.title, "drill_interval_months": self.drill_interval_months}


class EmergencyPlanVersion(_Document, Base):
    """One version of a plan: scenario, roles, steps, recovery targets, and the document itself."""

    __tablename__ = "emergency_plan_version"
    __table_args__ = (
        CheckConstraint(f"state IN ({_in(PlanVersionState)})", name="state"),
        CheckConstraint("rto_minutes BETWEEN 1 AND 100000", name="rto"),
        CheckConstraint("rpo_minutes BETWEEN 0 AND 100000", name="rpo"),
        UniqueConstraint("plan_id", "number", name="uq_emergency_plan_version_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("emergency_plan.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    number: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(16), default=PlanVersionState.DRAFT, index=True)
    scenario: Mapped[str] = mapped_column(Text, default="")
    roles: Mapped[list] = mapped_column(JSON, default=list)   # [{"role": "...", "duty": "..."}]
    steps: Mapped[list] = mapped_column(JSON, default=list)   # ["...", ...] in order
    rto_minutes: Mapped[int] = mapped_column(Integer, default=240)  # recovery time objective
    rpo_minutes: Mapped[int] = mapped_column(Integer, default=1440)  # recovery point objective
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    decision_note: Mapped[str] = mapped_column(Text, default="")
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    plan: Mapped[EmergencyPlan] = relationship(back_populates="versions")
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    __scope_column__ = "department_id"

    def snapshot(self):
        return {"plan_id": self.plan_id, "number": self.number, "state": self.state, "scenario": self.scenario,
                "roles": self.roles, "steps": self.steps, "rto_minutes": self.rto_minutes,
                "rpo_minutes": self.rpo_minutes, "decision_note": self.decision_note,
                "document": self.document_snapshot()}


# ---------------------------------------------------------------- drills (第二十三条, 第六条(四))

class DrillState(StrEnum):
    SCHEDULED = "scheduled"  # on the yearly calendar
    RUNNING = "running"      # started: steps are being recorded
    COMPLETED = "completed"  # ended and recorded (result, problems); follow-ups may be open
    CLOSED = "closed"        # every follow-up closed
    CANCELLED = "cancelled"


DRILL_STATE_LABELS = {
    DrillState.SCHEDULED: _l("Scheduled"),
    DrillState.RUNNING: _l("Running"),
    DrillState.COMPLETED: _l("Completed, follow-ups open"),
    DrillState.CLOSED: _l("Closed"),
    DrillState.CANCELLED: _l("Cancelled"),
}
DRILL_DONE_STATES = (DrillState.COMPLETED, DrillState.CLOSED)  # a drill that took place


class DrillResult(StrEnum):
    PASSED = "passed"    # 达到预期
    PARTIAL = "partial"  # 基本达到, with problems
    FAILED = "failed"    # 未达到


DRILL_RESULT_LABELS = {
    DrillResult.PASSED: _l("Met the plan's targets"),
    DrillResult.PARTIAL: _l("Partly met"),
    DrillResult.FAILED: _l("Not met"),
}


class Drill(Base):
    """An 应急演练 of a plan: scheduled, run (steps on a timeline), recorded. A drill may restore
    a real backup (`restore_job_id`): its measured time is compared with the plan's RTO, the
    backup's age with its RPO."""

    __tablename__ = "drill"
    __table_args__ = (
        CheckConstraint(f"state IN ({_in(DrillState)})", name="state"),
        CheckConstraint(f"result IS NULL OR result IN ({_in(DrillResult)})", name="result"),
        CheckConstraint("ended_at IS NULL OR started_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
        Index("ix_drill_state_scheduled_for", "state", "scheduled_for"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("emergency_plan.id", ondelete="RESTRICT"), index=True)
    plan_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("emergency_plan_version.id", ondelete="RESTRICT"))  # the version in force when it started
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    scenario: Mapped[str] = mapped_column(Text, default="")
    scheduled_for: Mapped[date] = mapped_column(Date, index=True)  # the day (Beijing) on the calendar
    state: Mapped[str] = mapped_column(String(16), default=DrillState.SCHEDULED)
    participants: Mapped[list] = mapped_column(JSON, default=list)  # names and units, as entered
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[str | None] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text, default="")
    problems: Mapped[str] = mapped_column(Text, default="")
    # a real restore carried out in the drill (the backup engine's RestoreJob)
    restore_job_id: Mapped[int | None] = mapped_column(ForeignKey("restore_job.id", ondelete="SET NULL"))
    restore_seconds: Mapped[float | None] = mapped_column(Float)      # measured recovery time
    backup_age_minutes: Mapped[float | None] = mapped_column(Float)  # the backup's age when restored
    rto_minutes: Mapped[int | None] = mapped_column(Integer)          # the plan's targets at the time
    rpo_minutes: Mapped[int | None] = mapped_column(Integer)
    rto_met: Mapped[bool | None] = mapped_column(Boolean)
    rpo_met: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)         # drill_reminders: coming up
    overdue_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # drill_reminders: past its day

    plan: Mapped[EmergencyPlan] = relationship()
    plan_version: Mapped[EmergencyPlanVersion | None] = relationship()
    department = relationship("Department")
    restore_job = relationship("RestoreJob")
    steps: Mapped[list["DrillStep"]] = relationship(
        back_populates="drill", order_by="(DrillStep.at, DrillStep.id)", cascade="all, delete-orphan")
    follow_ups: Mapped[list["DrillFollowUp"]] = relationship(
        back_populates="drill", order_by="DrillFollowUp.id", cascade="all, delete-orphan")

    __scope_column__ = "department_id"

    FIELDS = ("title", "scenario", "state", "participants", "result", "summary", "problems", "restore_job_id",
              "restore_seconds", "backup_age_minutes", "rto_minutes", "rpo_minutes", "rto_met", "rpo_met")

    def snapshot(self):
        data = {f: getattr(self, f) for f in self.FIELDS}
        data.update(scheduled_for=_iso(self.scheduled_for), started_at=_iso(self.started_at),
                    ended_at=_iso(self.ended_at))
        return data

    @property
    def duration_minutes(self):
        if self.started_at is None or self.ended_at is None:
            return None
        return round((self.ended_at - self.started_at).total_seconds() / 60, 1)

    @property
    def open_follow_ups(self):
        return [f for f in self.follow_ups if f.state == FollowUpState.OPEN]


class StepOutcome(StrEnum):
    OK = "ok"
    PROBLEM = "problem"
    NOTE = "note"


STEP_OUTCOME_LABELS = {
    StepOutcome.OK: _l("Done as planned"),
    StepOutcome.PROBLEM: _l("Problem"),
    StepOutcome.NOTE: _l("Note"),
}


class DrillStep(Base):
    """One entry on a drill's timeline: when, what, who, how it went (`kind` restore: written by the
    real restore)."""

    __tablename__ = "drill_step"
    __table_args__ = (
        CheckConstraint(f"outcome IN ({_in(StepOutcome)})", name="outcome"),
        CheckConstraint("kind IN ('manual', 'restore')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    drill_id: Mapped[int] = mapped_column(ForeignKey("drill.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    title: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(120), default="")
    outcome: Mapped[str] = mapped_column(String(16), default=StepOutcome.OK)
    kind: Mapped[str] = mapped_column(String(16), default="manual")
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    drill: Mapped[Drill] = relationship(back_populates="steps")

    def snapshot(self):
        return {"drill_id": self.drill_id, "at": _iso(self.at), "title": self.title, "actor": self.actor,
                "outcome": self.outcome, "kind": self.kind, "note": self.note}


class FollowUpState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # done, with what was done


FOLLOW_UP_STATE_LABELS = {FollowUpState.OPEN: _l("Open"), FollowUpState.CLOSED: _l("Closed")}


class DrillFollowUp(Base):
    """An 整改措施 a drill found: what, who, by when; closed with what was done."""

    __tablename__ = "drill_follow_up"
    __table_args__ = (
        CheckConstraint(f"state IN ({_in(FollowUpState)})", name="state"),
        CheckConstraint("state = 'open' OR closing_note <> ''", name="closed_with_note"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    drill_id: Mapped[int] = mapped_column(ForeignKey("drill.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    description: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(120), default="")
    due_date: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default=FollowUpState.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    closing_note: Mapped[str] = mapped_column(Text, default="")
    overdue_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    drill: Mapped[Drill] = relationship(back_populates="follow_ups")

    __scope_column__ = "department_id"

    def snapshot(self):
        return {"drill_id": self.drill_id, "description": self.description, "owner": self.owner,
                "due_date": _iso(self.due_date), "state": self.state, "closing_note": self.closing_note}


# ---------------------------------------------------------------- rectification (第二十条)

class RectificationTarget(StrEnum):
    VENDOR = "vendor"
    DEPARTMENT = "department"


class RectificationState(StrEnum):
    ISSUED = "issued"        # the notice is with the receiver
    ANSWERED = "answered"    # the receiver answered with evidence; the bureau decides
    RETURNED = "returned"    # the bureau returned the answer: the receiver answers again
    ACCEPTED = "accepted"    # closed
    WITHDRAWN = "withdrawn"  # the bureau withdrew the notice


RECTIFICATION_STATE_LABELS = {
    RectificationState.ISSUED: _l("Issued, awaiting the answer"),
    RectificationState.ANSWERED: _l("Answered, awaiting the bureau"),
    RectificationState.RETURNED: _l("Returned, to be answered again"),
    RectificationState.ACCEPTED: _l("Accepted (closed)"),
    RectificationState.WITHDRAWN: _l("Withdrawn"),
}


class Rectification(Base):
    """A 整改通知 the bureau issues to the vendor or a department: finding, requirement, deadline."""

    __tablename__ = "rectification"
    __table_args__ = (
        CheckConstraint(f"target IN ({_in(RectificationTarget)})", name="target"),
        CheckConstraint(f"state IN ({_in(RectificationState)})", name="state"),
        CheckConstraint("(target = 'vendor') = (department_id IS NULL)", name="department_iff_target"),
        Index("ix_rectification_state_due_date", "state", "due_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # ZG-2026-0001
    target: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    system_id: Mapped[int | None] = mapped_column(ForeignKey("resource_request.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    finding: Mapped[str] = mapped_column(Text)
    requirement: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date] = mapped_column(Date)  # the deadline (Beijing day, inclusive)
    state: Mapped[str] = mapped_column(String(16), default=RectificationState.ISSUED)
    rounds: Mapped[int] = mapped_column(Integer, default=0)  # answers given
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    decision_note: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # accepted
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    department = relationship("Department")
    system = relationship("ResourceRequest")
    answers: Mapped[list["RectificationAnswer"]] = relationship(
        back_populates="rectification", order_by="RectificationAnswer.round", cascade="all, delete-orphan")

    __scope_column__ = "department_id"

    FIELDS = ("number", "target", "department_id", "title", "finding", "requirement", "state", "rounds",
              "decision_note")

    def snapshot(self):
        data = {f: getattr(self, f) for f in self.FIELDS}
        data.update(due_date=_iso(self.due_date), closed_at=_iso(self.closed_at))
        return data

    @property
    def closed_on_time(self):
        """True/False once accepted (by the end of the due day, Beijing), None while open."""
        if self.closed_at is None:
            return None
        return self.closed_at.astimezone(CHINA).date() <= self.due_date


class RectificationAnswer(_Document, Base):
    """The receiver's answer to a notice (one per round): what was done, and the evidence; the
    bureau's decision on it (accepted / returned, with the reason)."""

    __tablename__ = "rectification_answer"
    __table_args__ = (
        CheckConstraint("decision IS NULL OR decision IN ('accepted', 'returned')", name="decision"),
        UniqueConstraint("rectification_id", "round", name="uq_rectification_answer_round"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rectification_id: Mapped[int] = mapped_column(ForeignKey("rectification.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    decision: Mapped[str | None] = mapped_column(String(16))
    decision_note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    rectification: Mapped[Rectification] = relationship(back_populates="answers")

    __scope_column__ = "department_id"

    def snapshot(self):
        return {"round": self.round, "text": self.text, "document": self.document_snapshot(),
                "decision": self.decision, "decision_note": self.decision_note}


# ---------------------------------------------------------------- key changes (第二十一条)

class KeyChangeKind(StrEnum):
    UPGRADE = "upgrade"    # platform software upgrade
    NETWORK = "network"    # network changes
    SECURITY = "security"  # security equipment, policies
    OTHER = "other"


KEY_CHANGE_KIND_LABELS = {
    KeyChangeKind.UPGRADE: _l("Platform upgrade"),
    KeyChangeKind.NETWORK: _l("Network change"),
    KeyChangeKind.SECURITY: _l("Security change"),
    KeyChangeKind.OTHER: _l("Other key change"),
}


class KeyChangeState(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    COMPLETED = "completed"  # the vendor reported it carried out


KEY_CHANGE_STATE_LABELS = {
    KeyChangeState.SUBMITTED: _l("Awaiting approval"),
    KeyChangeState.APPROVED: _l("Approved"),
    KeyChangeState.REJECTED: _l("Rejected"),
    KeyChangeState.CANCELLED: _l("Cancelled"),
    KeyChangeState.COMPLETED: _l("Carried out"),
}


class KeyChange(Base):
    """A 重大变更 of the platform the vendor applies for and the bureau approves (第二十一条),
    like a maintenance window; the vendor reports when it is carried out."""

    __tablename__ = "key_change"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(KeyChangeKind)})", name="kind"),
        CheckConstraint(f"state IN ({_in(KeyChangeState)})", name="state"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("security_confirmed", name="security_confirmed"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=KeyChangeState.SUBMITTED, index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    impact: Mapped[str] = mapped_column(Text, default="")
    rollback_plan: Mapped[str] = mapped_column(Text, default="")
    # 第二十一条: no equipment or software that may endanger public or national security
    security_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    decision_note: Mapped[str] = mapped_column(Text, default="")
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result_note: Mapped[str] = mapped_column(Text, default="")
    # the maintenance window applied for alongside, when the change interrupts services
    maintenance_window_id: Mapped[int | None] = mapped_column(
        ForeignKey("maintenance_window.id", ondelete="SET NULL"))

    applied_by = relationship("User", foreign_keys=[applied_by_id])
    maintenance_window = relationship("MaintenanceWindow")

    @classmethod
    def __scope_clause__(cls, department_id):
        """Key changes are the vendor's and the bureau's; departments hear of them through the
        maintenance window that goes with one."""
        return false()

    FIELDS = ("kind", "state", "title", "description", "impact", "rollback_plan", "security_confirmed",
              "decision_note", "result_note", "maintenance_window_id")

    def snapshot(self):
        data = {f: getattr(self, f) for f in self.FIELDS}
        data.update(starts_at=_iso(self.starts_at), ends_at=_iso(self.ends_at))
        return data

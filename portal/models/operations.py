"""Database models of operations (issue 6): scheduled job runs, maintenance windows, probes,
incidents, notifications and the cloud inventory snapshot.

portal.models imports this module, so every table is in one metadata.
"""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, Column, Float, ForeignKey, Index, Integer,
                        SmallInteger, String, Table, Text, UniqueConstraint, text)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..crypto.fields import SealedText
from ..database import Base, UTCDateTime, utcnow
from ..text import _l


def _in(values):
    return ", ".join(f"'{v.value}'" for v in values)


class JobOutcome(StrEnum):
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"    # the job ran and reported a problem a person must look at
    ERRORED = "errored"  # the job crashed (a bug); the traceback is kept
    INTERRUPTED = "interrupted"  # its scheduler stopped while it ran; the next leader marked it at the takeover


class JobRun(Base):
    """One run of a scheduled job: when, how long, how it ended.

    A run of the scheduler carries its run key, (job_id, scheduled_for), unique: the leader claims
    a scheduled time by inserting its row, so a takeover can neither double nor lose it; holder and
    fence say which scheduler process claimed it under which leadership. A run started by hand
    (`govcloud scheduler --run-once`) has no scheduled time.
    """

    __tablename__ = "job_run"
    __table_args__ = (
        CheckConstraint(f"outcome IN ({_in(JobOutcome)})", name="outcome"),
        Index("ix_job_run_job_id_started_at", "job_id", "started_at"),
        UniqueConstraint("job_id", "scheduled_for", name="uq_job_run_job_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(16), default=JobOutcome.RUNNING)
    summary: Mapped[str] = mapped_column(String(255), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    holder: Mapped[str] = mapped_column(String(120), default="")
    fence: Mapped[int | None] = mapped_column(BigInteger)
    # {figure name: number} the job page shows with portal.labels.JOB_FIGURE_LABELS (issue 17)
    figures: Mapped[dict | None] = mapped_column(JSON, default=dict)


class JobPeriod(Base):
    """A period a job may do its work in once only (last month's statements and 月度汇总报备, an
    audit digest's interval): inserted in the same transaction as the work, so a second run of the
    same period, by any scheduler or by hand, fails on the primary key and changes nothing."""

    __tablename__ = "job_period"

    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(32), primary_key=True)
    done_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    run_id: Mapped[int | None] = mapped_column(Integer)


class SchedulerLease(Base):
    """The scheduler's leadership: one row; the process holding an unexpired lease is the leader.

    token is the fencing token, raised by each acquisition: a leader claims a job run only while
    the row still carries its token and has not expired (checked in the claim's transaction, the
    row share-locked), so a leader that stalled (SIGSTOP, a long pause) and came back after a
    takeover claims nothing. The last takeover (from another holder) is kept for /jobs and /metrics.
    """

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120), default="")
    token: Mapped[int] = mapped_column(BigInteger, default=0)
    acquired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    renewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    previous_holder: Mapped[str] = mapped_column(String(120), default="")
    takeover_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    takeover_gap_seconds: Mapped[float | None] = mapped_column(Float)  # old holder's last renewal -> takeover
    takeovers: Mapped[int] = mapped_column(Integer, default=0)


class ScheduledJob(Base):
    """A job as the leading scheduler plans it (its trigger and next run), for the /jobs page."""

    __tablename__ = "scheduled_job"

    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    trigger: Mapped[str] = mapped_column(String(255), default="")
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MaintenanceKind(StrEnum):
    PLANNED = "planned"      # 计划内维护: at least 2 working days ahead
    EMERGENCY = "emergency"  # 紧急维护: any time, still approved


class MaintenanceState(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class MaintenanceAnswer(StrEnum):
    AGREE = "agree"    # 同意
    OBJECT = "object"  # 异议, with a reason


class MaintenanceResponse(Base):
    """A department's answer to a window that affects it (第十三条 协商一致): agree or object."""

    __tablename__ = "maintenance_response"
    __table_args__ = (
        CheckConstraint(f"answer IN ({_in(MaintenanceAnswer)})", name="answer"),
        CheckConstraint("answer = 'agree' OR reason <> ''", name="objection_has_reason"),
        Index("ux_maintenance_response_window_department", "window_id", "department_id", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("maintenance_window.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"), index=True)
    answer: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    department: Mapped["Department"] = relationship()  # noqa: F821
    user: Mapped["User | None"] = relationship()  # noqa: F821

    __scope_column__ = "department_id"

    def snapshot(self):
        return {"window_id": self.window_id, "department_id": self.department_id,
                "answer": self.answer, "reason": self.reason}


maintenance_window_department = Table(
    "maintenance_window_department", Base.metadata,
    Column("window_id", ForeignKey("maintenance_window.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("department.id", ondelete="CASCADE"), primary_key=True),
)


class MaintenanceWindow(Base):
    """A 维护窗口 the vendor applies for and the bureau approves (第十三条)."""

    __tablename__ = "maintenance_window"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(MaintenanceKind)})", name="kind"),
        CheckConstraint(f"state IN ({_in(MaintenanceState)})", name="state"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=MaintenanceState.SUBMITTED)
    title: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(Text, default="")
    impact: Mapped[str] = mapped_column(Text, default="")
    # affected systems, by name (empty: every system of the affected departments)
    systems: Mapped[list] = mapped_column(JSON, default=list)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    decision_note: Mapped[str] = mapped_column(Text, default="")  # 驳回理由 when rejected
    # the Alertmanager silence govcloud made for this approved window (services/alert_silences.py)
    silence_id: Mapped[str | None] = mapped_column(String(64))

    departments: Mapped[list["Department"]] = relationship(  # noqa: F821
        secondary=maintenance_window_department, order_by="Department.code")
    responses: Mapped[list[MaintenanceResponse]] = relationship(
        order_by="MaintenanceResponse.department_id", cascade="all, delete-orphan")

    FIELDS = ("kind", "state", "title", "reason", "impact", "systems", "decision_note")

    @classmethod
    def __scope_clause__(cls, department_id):
        """Department users see the windows that affect their department."""
        return cls.departments.any(id=department_id)

    def snapshot(self):
        data = {f: getattr(self, f) for f in self.FIELDS}
        data.update(starts_at=self.starts_at.isoformat(), ends_at=self.ends_at.isoformat(),
                    departments=[d.id for d in self.departments])
        return data

    @property
    def objections(self):
        """The departments' objections (a window with one is flagged)."""
        return [r for r in self.responses if r.answer == MaintenanceAnswer.OBJECT]

    def response_of(self, department_id):
        return next((r for r in self.responses if r.department_id == department_id), None)

    def covers(self, department_id, system_name, at):
        """Return True when this window covers system_name of department_id at time at."""
        return (self.starts_at <= at < self.ends_at
                and any(d.id == department_id for d in self.departments)
                and (not self.systems or system_name in self.systems))


class ProbeKind(StrEnum):
    OPENSTACK_API = "openstack_api"  # an HTTP GET of an OpenStack API endpoint
    SERVER_STATUS = "server_status"  # the server is ACTIVE in Nova
    TCP = "tcp"                      # a TCP connect to a declared service port
    SSH = "ssh"                      # an SSH command (key-based, pinned host key)


class ProbeState(StrEnum):
    UNKNOWN = "unknown"
    UP = "up"
    DOWN = "down"


class ProbeTarget(Base):
    """Something checked every minute on behalf of a department's system."""

    __tablename__ = "probe_target"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(ProbeKind)})", name="kind"),
        CheckConstraint(f"state IN ({_in(ProbeState)})", name="state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int | None] = mapped_column(  # None: a platform target (OpenStack API)
        ForeignKey("department.id", ondelete="CASCADE"), index=True)
    system_name: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    # kind-specific settings: url / server_id / host, port / username, key_path, host_key, command
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    # a delivered server of issue 4, when the target belongs to one (no foreign key yet)
    server_ref: Mapped[str | None] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    failure_threshold: Mapped[int] = mapped_column(SmallInteger, default=3)
    state: Mapped[str] = mapped_column(String(16), default=ProbeState.UNKNOWN)
    consecutive_failures: Mapped[int] = mapped_column(SmallInteger, default=0)
    first_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_ok: Mapped[bool | None] = mapped_column(Boolean)
    last_latency_ms: Mapped[int | None] = mapped_column(Integer)
    last_detail: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    department: Mapped["Department | None"] = relationship()  # noqa: F821

    __scope_column__ = "department_id"
    FIELDS = ("department_id", "system_name", "name", "kind", "settings", "server_ref", "enabled",
              "failure_threshold")

    def snapshot(self):
        return {f: getattr(self, f) for f in self.FIELDS}


class ProbeResult(Base):
    """One probe check, kept small: the detail only when it failed."""

    __tablename__ = "probe_result"
    __table_args__ = (Index("ix_probe_result_target_id_checked_at", "target_id", "checked_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("probe_target.id", ondelete="CASCADE"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(Boolean)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    in_maintenance: Mapped[bool] = mapped_column(Boolean, default=False)
    detail: Mapped[str] = mapped_column(String(255), default="")


class IncidentState(StrEnum):
    OPEN = "open"                  # detected
    ACKNOWLEDGED = "acknowledged"  # the vendor is on it
    RESOLVED = "resolved"


class IncidentKind(StrEnum):
    OUTAGE = "outage"            # 服务中断
    DEGRADATION = "degradation"  # 性能下降
    SECURITY = "security"        # 安全事件
    BACKUP = "backup"            # 备份故障


# only these count against a system's availability (SLA)
SLA_INCIDENT_KINDS = (IncidentKind.OUTAGE, IncidentKind.DEGRADATION)


class Incident(Base):
    """A 故障事件: opened by a failing probe and closed by its recovery, or opened and resolved by
    the vendor by hand (第二十五条)."""

    __tablename__ = "incident"
    __table_args__ = (
        CheckConstraint(f"state IN ({_in(IncidentState)})", name="state"),
        CheckConstraint(f"kind IN ({_in(IncidentKind)})", name="kind"),
        # one unresolved incident per Alertmanager alert: two deliveries of one alert cannot open two
        Index("uq_incident_alert_active", "alert_fingerprint", unique=True,
              sqlite_where=text("state != 'resolved'"), postgresql_where=text("state != 'resolved'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"),
                                                      index=True)
    target_id: Mapped[int | None] = mapped_column(ForeignKey("probe_target.id", ondelete="SET NULL"),
                                                  index=True)
    system_name: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), default=IncidentState.OPEN, index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)   # first failing check
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when the threshold was reached
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first passing check
    root_cause: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16), default=IncidentKind.OUTAGE, server_default="outage")
    opened_by_id: Mapped[int | None] = mapped_column(  # None: opened by a probe or a job
        ForeignKey("user_account.id", ondelete="SET NULL"))
    # the fingerprint of the Alertmanager alert that opened or joined it (services/alerts.py)
    alert_fingerprint: Mapped[str | None] = mapped_column(String(32))

    department: Mapped["Department | None"] = relationship()  # noqa: F821
    target: Mapped[ProbeTarget | None] = relationship()
    events: Mapped[list["IncidentEvent"]] = relationship(back_populates="incident",
                                                         order_by="IncidentEvent.at, IncidentEvent.id",
                                                         cascade="all, delete-orphan")

    __scope_column__ = "department_id"


class IncidentEvent(Base):
    """One line of an incident's timeline."""

    __tablename__ = "incident_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))  # detected, acknowledged, notified, resolved, root_cause
    actor_username: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(Text, default="")

    incident: Mapped[Incident] = relationship(back_populates="events")


class NotificationChannel(StrEnum):
    INBOX = "inbox"      # the portal's own inbox: delivered when written
    EMAIL = "email"
    WEBHOOK = "webhook"  # JSON to NOTIFY_WEBHOOK_URL (an SMS gateway gets the phone)


class NotificationState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Notification(Base):
    """A message to one user's inbox, or an outgoing one to a person or a department's contacts
    (第二十六条); e-mails and webhooks are sent by a scheduler job."""

    __tablename__ = "notification"
    __table_args__ = (
        CheckConstraint(f"channel IN ({_in(NotificationChannel)})", name="channel"),
        CheckConstraint(f"state IN ({_in(NotificationState)})", name="state"),
        Index("ix_notification_user_id_read_at", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"),
                                                      index=True)
    user_id: Mapped[int | None] = mapped_column(  # the person it is for (None: a department contact)
        ForeignKey("user_account.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    # e-mail address or phone, sealed at rest ("" for an inbox message or a department webhook)
    recipient: Mapped[str] = mapped_column(SealedText(255), default="")
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    topic: Mapped[str] = mapped_column(String(64))  # e.g. incident:3, maintenance:7
    link: Mapped[str] = mapped_column(String(255), default="")  # the page it is about (a path)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # inbox messages
    state: Mapped[str] = mapped_column(String(16), default=NotificationState.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    last_error: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __scope_column__ = "department_id"


class NotificationPreference(Base):
    """A user's choice of channels besides the inbox (which every user has)."""

    __tablename__ = "notification_preference"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    sms: Mapped[bool] = mapped_column(Boolean, default=False)  # through the webhook (SMS gateway)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class InventorySnapshot(Base):
    """The collector's latest view of the cloud, aggregated for /metrics and the portal's charts."""

    __tablename__ = "inventory_snapshot"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    duration_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    # {department code: {"servers": {status: n}, "vcpus": n, "ram_bytes": n, "volume_bytes": n,
    #   "volumes": {status: n}, "floating_ips": n, "snapshots": n, "backups": n,
    #   "last_backup_at": epoch seconds or None}}
    departments: Mapped[dict] = mapped_column(JSON, default=dict)
    services: Mapped[dict] = mapped_column(JSON, default=dict)  # {service type: 0/1}
    capacity: Mapped[dict] = mapped_column(JSON, default=dict)  # {resource: {"used": n, "total": n}}
    # {server id: Nova status} for the server-status probes; not loaded by /metrics
    server_statuses: Mapped[dict] = deferred(mapped_column(JSON, default=dict))


# display labels (GLOSSARY.md terms)
MAINTENANCE_KIND_LABELS = {MaintenanceKind.PLANNED: _l("Planned maintenance"),
                           MaintenanceKind.EMERGENCY: _l("Emergency maintenance")}
MAINTENANCE_STATE_LABELS = {MaintenanceState.SUBMITTED: _l("Submitted"),
                            MaintenanceState.APPROVED: _l("Approved"),
                            MaintenanceState.REJECTED: _l("Rejected"),
                            MaintenanceState.CANCELLED: _l("Cancelled")}
INCIDENT_STATE_LABELS = {IncidentState.OPEN: _l("Open"), IncidentState.ACKNOWLEDGED: _l("Acknowledged"),
                         IncidentState.RESOLVED: _l("Resolved")}
INCIDENT_KIND_LABELS = {IncidentKind.OUTAGE: _l("Outage"), IncidentKind.DEGRADATION: _l("Degradation"),
                        IncidentKind.SECURITY: _l("Security incident"), IncidentKind.BACKUP: _l("Backup failure")}
MAINTENANCE_ANSWER_LABELS = {MaintenanceAnswer.AGREE: _l("Agreed"), MaintenanceAnswer.OBJECT: _l("Objected")}
INCIDENT_EVENT_LABELS = {"opened": _l("Opened"), "detected": _l("Detected"), "acknowledged": _l("Acknowledged"),
                         "notified": _l("Notified"), "resolved": _l("Resolved"),
                         "root_cause": _l("Root cause"), "escalated": _l("Escalated"),
                         "kind": _l("Type changed")}
PROBE_KIND_LABELS = {ProbeKind.OPENSTACK_API: _l("OpenStack API endpoint"),
                     ProbeKind.SERVER_STATUS: _l("Server status"),
                     ProbeKind.TCP: _l("TCP port"), ProbeKind.SSH: _l("SSH command")}
PROBE_STATE_LABELS = {ProbeState.UNKNOWN: _l("Unknown"), ProbeState.UP: _l("Up"), ProbeState.DOWN: _l("Down")}
JOB_OUTCOME_LABELS = {JobOutcome.RUNNING: _l("Running"), JobOutcome.SUCCESS: _l("Success"),
                      JobOutcome.FAILED: _l("Failed"), JobOutcome.ERRORED: _l("Errored"),
                      JobOutcome.INTERRUPTED: _l("Interrupted: its scheduler stopped while it ran")}

"""Database models of operations (issue 6): scheduled job runs, maintenance windows, probes,
incidents, notifications and the cloud inventory snapshot.

portal.models imports this module, so every table is in one metadata.
"""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (JSON, Boolean, CheckConstraint, Column, Float, ForeignKey, Index, Integer,
                        LargeBinary, SmallInteger, String, Table, Text, Unicode, text)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..database import Base, UTCDateTime, utcnow
from ..text import _l


def _in(values):
    return ", ".join(f"'{v.value}'" for v in values)


# The job store table of APScheduler's SQLAlchemyJobStore, declared here so the migrations create
# it and the models-versus-migrations check knows it (the job store only reads and writes it).
apscheduler_jobs = Table(
    "apscheduler_jobs", Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)


class JobOutcome(StrEnum):
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"    # the job ran and reported a problem a person must look at
    ERRORED = "errored"  # the job crashed (a bug); the traceback is kept


class JobRun(Base):
    """One run of a scheduled job: when, how long, how it ended."""

    __tablename__ = "job_run"
    __table_args__ = (
        CheckConstraint(f"outcome IN ({_in(JobOutcome)})", name="outcome"),
        Index("ix_job_run_job_id_started_at", "job_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(16), default=JobOutcome.RUNNING)
    summary: Mapped[str] = mapped_column(String(255), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    # {figure name: number} the job page shows with portal.labels.JOB_FIGURE_LABELS (issue 17)
    figures: Mapped[dict | None] = mapped_column(JSON, default=dict)


class MaintenanceKind(StrEnum):
    PLANNED = "planned"      # 计划内维护: at least 2 working days ahead
    EMERGENCY = "emergency"  # 紧急维护: any time, still approved


class MaintenanceState(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


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


class Incident(Base):
    """A 故障事件: opened by a failing probe, closed by its recovery (第二十五条)."""

    __tablename__ = "incident"
    __table_args__ = (
        CheckConstraint(f"state IN ({_in(IncidentState)})", name="state"),
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
    EMAIL = "email"
    WEBHOOK = "webhook"


class NotificationState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Notification(Base):
    """An outgoing message to a department's contacts (第二十六条), sent by a scheduler job."""

    __tablename__ = "notification"
    __table_args__ = (
        CheckConstraint(f"channel IN ({_in(NotificationChannel)})", name="channel"),
        CheckConstraint(f"state IN ({_in(NotificationState)})", name="state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"),
                                                      index=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    topic: Mapped[str] = mapped_column(String(64))  # e.g. incident:3, maintenance:7
    state: Mapped[str] = mapped_column(String(16), default=NotificationState.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    last_error: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __scope_column__ = "department_id"


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
INCIDENT_EVENT_LABELS = {"detected": _l("Detected"), "acknowledged": _l("Acknowledged"),
                         "notified": _l("Notified"), "resolved": _l("Resolved"),
                         "root_cause": _l("Root cause"), "escalated": _l("Escalated")}
PROBE_KIND_LABELS = {ProbeKind.OPENSTACK_API: _l("OpenStack API endpoint"),
                     ProbeKind.SERVER_STATUS: _l("Server status"),
                     ProbeKind.TCP: _l("TCP port"), ProbeKind.SSH: _l("SSH command")}
PROBE_STATE_LABELS = {ProbeState.UNKNOWN: _l("Unknown"), ProbeState.UP: _l("Up"), ProbeState.DOWN: _l("Down")}
JOB_OUTCOME_LABELS = {JobOutcome.RUNNING: _l("Running"), JobOutcome.SUCCESS: _l("Success"),
                      JobOutcome.FAILED: _l("Failed"), JobOutcome.ERRORED: _l("Errored")}

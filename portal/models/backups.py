"""Backup and recovery (第十九条, issue 7): policies, runs, the backups they made, restores and
extractions; portal.models imports this module, so every table is in one metadata.

State machines are data here (RUNS, RESTORES, EXTRACTIONS: (state, action) -> state, with their
labels); the engine in backup/ is the one place that moves runs and restores; extractions move
through services.transitions (the bureau's decision, the export's progress).
"""
import hashlib
import json
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..crypto.fields import SealedText
from ..database import Base, UTCDateTime, utcnow
from ..statemachine import StateMachine
from ..text import _l



def _in(values):
    return ", ".join(f"'{v.value}'" for v in values)


class BackupKinds(StrEnum):
    """What a policy backs up."""

    SNAPSHOT = "snapshot"  # each server to a Glance image (Nova createImage)
    VOLUME = "volume"      # each volume to a Cinder backup
    BOTH = "both"


class ArtifactKind(StrEnum):
    SNAPSHOT = "snapshot"
    VOLUME = "volume"


class BackupTrigger(StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"
    FINAL = "final"  # before a decommission (第十条(二)); never pruned


class RunState(StrEnum):
    QUEUED = "queued"        # waiting for the due-runner (also between retry attempts)
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"        # out of attempts (an incident is opened) or refused for good


R = RunState
RUN_TRANSITIONS = {
    (R.QUEUED, "start"): R.RUNNING,
    (R.RUNNING, "succeed"): R.SUCCEEDED,
    (R.RUNNING, "retry"): R.QUEUED,
    (R.RUNNING, "fail"): R.FAILED,
    (R.QUEUED, "fail"): R.FAILED,  # e.g. the system has nothing left to back up
}
RUN_TERMINAL = frozenset({R.SUCCEEDED, R.FAILED})
RUN_STATE_LABELS = {
    RunState.QUEUED: _l("Queued"),
    RunState.RUNNING: _l("Running"),
    RunState.SUCCEEDED: _l("Succeeded"),
    RunState.FAILED: _l("Failed"),
}
# runs are recorded in their own rows and audited by the engine's outcome events: apply() only
RUNS = StateMachine("backup.run", "backup_run", RUN_TRANSITIONS, RUN_STATE_LABELS, kind=_l("backup run"))


class ArtifactStatus(StrEnum):
    CREATING = "creating"
    AVAILABLE = "available"
    ERROR = "error"
    DELETED = "deleted"


class VerifyOutcome(StrEnum):
    OK = "ok"
    FAILED = "failed"


class RestoreMode(StrEnum):
    NEW_VOLUME = "new_volume"          # a new volume from a volume backup
    IN_PLACE = "in_place"              # the backup restored into the volume it came from
    SERVER_REBUILD = "server_rebuild"  # the server rebuilt from its snapshot image
    NEW_SERVER = "new_server"          # a new server booted from the snapshot image


RESTORE_MODES_BY_KIND = {
    ArtifactKind.VOLUME: (RestoreMode.NEW_VOLUME, RestoreMode.IN_PLACE),
    ArtifactKind.SNAPSHOT: (RestoreMode.SERVER_REBUILD, RestoreMode.NEW_SERVER),
}


class RestoreState(StrEnum):
    REQUESTED = "requested"  # the department asked the vendor to carry it out (第十八条: the vendor's warrant)
    RUNNING = "running"      # the cloud call was made at once (第十九条); the tracker completes it
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"  # the department withdrew its request before the vendor started it


RS = RestoreState
RESTORE_TRANSITIONS = {
    (RS.REQUESTED, "start"): RS.RUNNING,
    (RS.REQUESTED, "withdraw"): RS.WITHDRAWN,
    (RS.RUNNING, "succeed"): RS.SUCCEEDED,
    (RS.RUNNING, "fail"): RS.FAILED,
}
RESTORE_STATE_LABELS = {
    RestoreState.REQUESTED: _l("Requested of the vendor"),
    RestoreState.RUNNING: _l("Running"),
    RestoreState.SUCCEEDED: _l("Succeeded"),
    RestoreState.FAILED: _l("Failed"),
    RestoreState.WITHDRAWN: _l("Withdrawn"),
}
RESTORES = StateMachine("backup.restore", "restore_job", RESTORE_TRANSITIONS, RESTORE_STATE_LABELS,
                        kind=_l("restore"), stamps={RS.RUNNING: "started_at", RS.SUCCEEDED: "finished_at",
                                                    RS.FAILED: "finished_at", RS.WITHDRAWN: "finished_at"})


class ExtractionState(StrEnum):
    APPLIED = "applied"      # the department applied; the bureau decides
    APPROVED = "approved"    # the export file is being prepared in the cloud
    REJECTED = "rejected"
    READY = "ready"          # a time-limited download link works
    EXPIRED = "expired"      # the link is over; the exported file is removed
    FAILED = "failed"        # the export could not be prepared
    WITHDRAWN = "withdrawn"


X = ExtractionState
EXTRACTION_TRANSITIONS = {
    (X.APPLIED, "approve"): X.APPROVED,
    (X.APPLIED, "reject"): X.REJECTED,
    (X.APPLIED, "withdraw"): X.WITHDRAWN,
    (X.APPROVED, "ready"): X.READY,
    (X.APPROVED, "fail"): X.FAILED,
    (X.READY, "expire"): X.EXPIRED,
}
EXTRACTION_TERMINAL = frozenset({X.REJECTED, X.EXPIRED, X.FAILED, X.WITHDRAWN})
EXTRACTION_STATE_LABELS = {
    ExtractionState.APPLIED: _l("Awaiting the bureau"),
    ExtractionState.APPROVED: _l("Approved, being prepared"),
    ExtractionState.REJECTED: _l("Rejected"),
    ExtractionState.READY: _l("Ready for download"),
    ExtractionState.EXPIRED: _l("Expired"),
    ExtractionState.FAILED: _l("Failed"),
    ExtractionState.WITHDRAWN: _l("Withdrawn"),
}
EXTRACTIONS = StateMachine("backup.extraction", "backup_extraction", EXTRACTION_TRANSITIONS, EXTRACTION_STATE_LABELS,
                           kind=_l("extraction"), snapshots=True)


# display labels (GLOSSARY.md: 备份 / 恢复 / 备份数据提取)
TRIGGER_LABELS = {
    BackupTrigger.SCHEDULE: _l("Scheduled"),
    BackupTrigger.MANUAL: _l("Back up now"),
    BackupTrigger.FINAL: _l("Final backup"),
}
KINDS_LABELS = {
    BackupKinds.SNAPSHOT: _l("Server snapshots"),
    BackupKinds.VOLUME: _l("Volume backups"),
    BackupKinds.BOTH: _l("Server snapshots and volume backups"),
}
ARTIFACT_KIND_LABELS = {
    ArtifactKind.SNAPSHOT: _l("Server snapshot"),
    ArtifactKind.VOLUME: _l("Volume backup"),
}
ARTIFACT_STATUS_LABELS = {
    ArtifactStatus.CREATING: _l("Creating"),
    ArtifactStatus.AVAILABLE: _l("Available"),
    ArtifactStatus.ERROR: _l("Error"),
    ArtifactStatus.DELETED: _l("Deleted"),
}
RESTORE_MODE_LABELS = {
    RestoreMode.NEW_VOLUME: _l("To a new volume"),
    RestoreMode.IN_PLACE: _l("Into the original volume"),
    RestoreMode.SERVER_REBUILD: _l("Rebuild the server"),
    RestoreMode.NEW_SERVER: _l("To a new server"),
}


class BackupPolicy(Base):
    """A 备份策略: what of a system (or, system NULL, of every system of the department without
    a policy of its own) is backed up when, and how long backups are kept.

    `cron` is a 5-field crontab line evaluated in Asia/Shanghai. The optional hooks run over SSH
    (paramiko, host key pinned) on each server: `hook_pre` before its snapshot/backups (e.g.
    flush and freeze a database), `hook_post` after them, always, also when they failed.
    The SSH address is `ssh_host` when set (a management address), else the server's address
    from its cloud_resource row (floating first); the key is one of the department's own
    DepartmentSshKey rows (`ssh_key_id`), never another department's nor a revoked one.

    第十八条: whatever runs on the department's hosts (the hooks, where and as whom, with which
    key: HOOK_FIELDS) runs only as its department administrator set or approved it. A save by
    the department administrator approves the configuration it saves; a save by anyone else
    leaves a changed configuration pending. `hooks_approved_hash` is the SHA-256 of the approved
    configuration (hook_config_hash); the engine runs hooks only while the current configuration
    hashes to it, otherwise the backup runs without them.
    """

    __tablename__ = "backup_policy"
    __table_args__ = (
        CheckConstraint(f"kinds IN ({_in(BackupKinds)})", name="kinds"),
        CheckConstraint("keep_count IS NULL OR keep_count >= 1", name="keep_count"),
        CheckConstraint("keep_days IS NULL OR keep_days >= 1", name="keep_days"),
        CheckConstraint("timeout_seconds > 0", name="timeout"),
        UniqueConstraint("department_id", "name", name="uq_backup_policy_department_id"),
        Index("ix_backup_policy_due", "enabled", "next_run_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    system_id: Mapped[int | None] = mapped_column(ForeignKey("resource_request.id", ondelete="RESTRICT"),
                                                  index=True)
    name: Mapped[str] = mapped_column(String(120))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    kinds: Mapped[str] = mapped_column(String(16), default=BackupKinds.BOTH)
    cron: Mapped[str] = mapped_column(String(120), default="0 2 * * *")
    keep_count: Mapped[int | None] = mapped_column(Integer, default=7)
    keep_days: Mapped[int | None] = mapped_column(Integer)
    hook_pre: Mapped[str] = mapped_column(Text, default="")
    hook_post: Mapped[str] = mapped_column(Text, default="")
    ssh_username: Mapped[str] = mapped_column(String(64), default="")
    ssh_host: Mapped[str] = mapped_column(String(255), default="")
    ssh_port: Mapped[int] = mapped_column(Integer, default=22)
    ssh_host_key: Mapped[str] = mapped_column(Text, default="")  # "<type> <base64>", pinned
    ssh_key_id: Mapped[int | None] = mapped_column(ForeignKey("department_ssh_key.id", ondelete="RESTRICT"),
                                                   index=True)
    hooks_approved_hash: Mapped[str] = mapped_column(String(64), default="")
    hooks_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    hooks_approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    timeout_seconds: Mapped[int] = mapped_column(Integer, default=3600)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    department = relationship("Department")
    system = relationship("ResourceRequest")
    created_by = relationship("User", foreign_keys=[created_by_id])
    hooks_approved_by = relationship("User", foreign_keys=[hooks_approved_by_id])
    ssh_key = relationship("DepartmentSshKey")

    __scope_column__ = "department_id"

    FIELDS = ("name", "system_id", "enabled", "kinds", "cron", "keep_count", "keep_days", "hook_pre",
              "hook_post", "ssh_username", "ssh_host", "ssh_port", "ssh_host_key", "ssh_key_id", "timeout_seconds")
    # what decides what runs on the department's hosts, where, as whom and with which key
    HOOK_FIELDS = ("department_id", "system_id", "hook_pre", "hook_post", "ssh_username", "ssh_host", "ssh_port",
                   "ssh_host_key", "ssh_key_id")

    @property
    def has_hooks(self):
        return bool((self.hook_pre or "").strip() or (self.hook_post or "").strip())

    def hook_config_hash(self):
        """SHA-256 of the hook configuration (HOOK_FIELDS), the thing a department admin approves."""
        config = {f: getattr(self, f) for f in self.HOOK_FIELDS}
        config["ssh_port"] = int(config["ssh_port"] or 22)
        for f in ("hook_pre", "hook_post", "ssh_username", "ssh_host", "ssh_host_key"):
            config[f] = config[f] or ""
        return hashlib.sha256(json.dumps(config, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    @property
    def hooks_approved(self):
        """True when there are hooks and the current configuration is the approved one."""
        return self.has_hooks and bool(self.hooks_approved_hash) and \
            self.hooks_approved_hash == self.hook_config_hash()

    @property
    def hooks_state(self):
        """"none" (no hooks), "approved" or "pending" (they do not run until approved)."""
        if not self.has_hooks:
            return "none"
        return "approved" if self.hooks_approved else "pending"

    def snapshot(self):
        return {**{f: getattr(self, f) for f in self.FIELDS}, "hooks": self.hooks_state}


class DepartmentSshKey(Base):
    """A department's own SSH key for the backup hooks on its hosts (第十八条).

    The department administrator generates one (Ed25519) or uploads one and installs the public
    key on the hosts; the private key is never shown again and never written to the audit log.
    A revoked key stays (policies and the audit log name it) but is never used again.
    """

    __tablename__ = "department_ssh_key"
    __table_args__ = (UniqueConstraint("department_id", "name", name="uq_department_ssh_key_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    public_key: Mapped[str] = mapped_column(Text)  # "ssh-ed25519 <base64> <comment>", for authorized_keys
    # sealed at rest: SealedText (crypto suite)
    private_key_sealed: Mapped[str] = mapped_column(SealedText())  # OpenSSH private key format, sealed at rest
    fingerprint: Mapped[str] = mapped_column(String(100))  # "SHA256:<base64>", as ssh-keygen -l shows it
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    department = relationship("Department")
    created_by = relationship("User", foreign_keys=[created_by_id])
    revoked_by = relationship("User", foreign_keys=[revoked_by_id])

    __scope_column__ = "department_id"

    @property
    def revoked(self):
        return self.revoked_at is not None

    def snapshot(self):
        """What the audit log keeps of a key: never its private part."""
        return {"name": self.name, "fingerprint": self.fingerprint, "public_key": self.public_key,
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None}


class BackupRun(Base):
    """One execution of a policy (or a final backup before a decommission).

    A failed attempt cleans up what it created and goes back to queued until `available_at`;
    after the last attempt the run fails and `incident_id` names the incident opened for the vendor.
    `error_message` is a msgid (translated by the portal), `error_detail` the technical detail.
    """

    __tablename__ = "backup_run"
    __table_args__ = (
        CheckConstraint(f"state IN ({_in(RunState)})", name="state"),
        CheckConstraint(f"trigger IN ({_in(BackupTrigger)})", name="trigger"),
        CheckConstraint(f"kinds IN ({_in(BackupKinds)})", name="kinds"),
        Index("ix_backup_run_claim", "state", "available_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("backup_policy.id", ondelete="SET NULL"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    system_id: Mapped[int | None] = mapped_column(ForeignKey("resource_request.id", ondelete="RESTRICT"),
                                                  index=True)
    trigger: Mapped[str] = mapped_column(String(16), default=BackupTrigger.SCHEDULE)
    kinds: Mapped[str] = mapped_column(String(16), default=BackupKinds.BOTH)
    state: Mapped[str] = mapped_column(String(16), default=RunState.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    size_gb: Mapped[int] = mapped_column(Integer, default=0)
    hook_log: Mapped[str] = mapped_column(Text, default="")
    error_message: Mapped[str] = mapped_column(Text, default="")
    error_detail: Mapped[str] = mapped_column(Text, default="")
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id", ondelete="SET NULL"))

    policy: Mapped[BackupPolicy | None] = relationship()
    department = relationship("Department")
    system = relationship("ResourceRequest")
    requested_by = relationship("User")
    artifacts: Mapped[list["BackupArtifact"]] = relationship(back_populates="run", order_by="BackupArtifact.id")

    __scope_column__ = "department_id"

    def snapshot(self):
        return {"state": self.state, "trigger": self.trigger, "attempts": self.attempts, "size_gb": self.size_gb}


class BackupArtifact(Base):
    """One backup in the cloud: a Glance image of a server or a Cinder backup of a volume.

    `source_key` is the cloud_resource key of what was backed up; `source_info` keeps what a
    restore to a new server needs when the original is gone (flavor, network, security groups).
    """

    __tablename__ = "backup_artifact"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(ArtifactKind)})", name="kind"),
        CheckConstraint(f"status IN ({_in(ArtifactStatus)})", name="status"),
        CheckConstraint(f"verify_outcome IS NULL OR verify_outcome IN ({_in(VerifyOutcome)})",
                        name="verify_outcome"),
        Index("ix_backup_artifact_source", "department_id", "source_key", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("backup_run.id", ondelete="RESTRICT"), index=True)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("backup_policy.id", ondelete="SET NULL"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    system_id: Mapped[int | None] = mapped_column(ForeignKey("resource_request.id", ondelete="RESTRICT"),
                                                  index=True)
    kind: Mapped[str] = mapped_column(String(16))
    openstack_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    name: Mapped[str] = mapped_column(String(255))
    source_openstack_id: Mapped[str] = mapped_column(String(64), default="")
    source_key: Mapped[str] = mapped_column(String(160), default="")
    source_info: Mapped[dict] = mapped_column(JSON, default=dict)
    size_gb: Mapped[int] = mapped_column(Integer, default=0)  # volume backups: the volume's size
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)    # snapshot images: the image's size
    status: Mapped[str] = mapped_column(String(16), default=ArtifactStatus.CREATING, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verify_outcome: Mapped[str | None] = mapped_column(String(16))
    verify_detail: Mapped[str] = mapped_column(Text, default="")

    run: Mapped[BackupRun] = relationship(back_populates="artifacts")
    policy: Mapped[BackupPolicy | None] = relationship()
    department = relationship("Department")
    system = relationship("ResourceRequest")

    __scope_column__ = "department_id"

    def snapshot(self):
        return {"kind": self.kind, "openstack_id": self.openstack_id, "name": self.name,
                "source": self.source_key, "size_gb": self.size_gb, "status": self.status}


class RestoreJob(Base):
    """A 恢复: started at once by the cloud call (第十九条); the tracker job completes it. A department
    may instead ask the vendor to carry it out (requested); the vendor's start is then its warrant."""

    __tablename__ = "restore_job"
    __table_args__ = (
        CheckConstraint(f"mode IN ({_in(RestoreMode)})", name="mode"),
        CheckConstraint(f"state IN ({_in(RestoreState)})", name="state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    artifact_id: Mapped[int] = mapped_column(ForeignKey("backup_artifact.id", ondelete="RESTRICT"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    system_id: Mapped[int | None] = mapped_column(ForeignKey("resource_request.id", ondelete="RESTRICT"),
                                                  index=True)
    mode: Mapped[str] = mapped_column(String(16))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(16), default=RestoreState.RUNNING, index=True)
    # where a running restore is: detaching, restoring, attaching, rebuilding, building
    phase: Mapped[str] = mapped_column(String(16), default="")
    target_name: Mapped[str] = mapped_column(String(255), default="")
    target_openstack_id: Mapped[str] = mapped_column(String(64), default="")  # the volume / server restored
    reattach_server_id: Mapped[str] = mapped_column(String(64), default="")   # in place: attach it back here
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    error_message: Mapped[str] = mapped_column(Text, default="")
    error_detail: Mapped[str] = mapped_column(Text, default="")
    # a vendor's restore (第十八条): the live grant of the department it acted under, or (grant empty)
    # the department's request it carried out: this row, requested by the department, started by the vendor
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("vendor_grant.id", ondelete="SET NULL"), index=True)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    artifact: Mapped[BackupArtifact] = relationship()
    department = relationship("Department")
    system = relationship("ResourceRequest")
    requested_by = relationship("User", foreign_keys=[requested_by_id])
    started_by = relationship("User", foreign_keys=[started_by_id])

    __scope_column__ = "department_id"

    def snapshot(self):
        return {"mode": self.mode, "state": self.state, "urgent": self.urgent, "artifact_id": self.artifact_id,
                "target": self.target_openstack_id, "grant": self.grant_id}


class BackupExtraction(Base):
    """A 备份提取 application: a department asks to take a backup out of the cloud as a file;
    the bureau approves or rejects with a reason (第十九条); only then the file is prepared and a
    time-limited link works (only its SHA-256 is stored); every download is audited.

    The cloud side (backup/export.py): a snapshot image is streamed from Glance as it is; a volume
    backup is restored to a scratch volume, uploaded to a scratch image and streamed from Glance
    (`export_volume_id` / `export_image_id` are the scratch resources, removed on expiry).
    """

    __tablename__ = "backup_extraction"
    __table_args__ = (CheckConstraint(f"state IN ({_in(ExtractionState)})", name="state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    artifact_id: Mapped[int] = mapped_column(ForeignKey("backup_artifact.id", ondelete="RESTRICT"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=ExtractionState.APPLIED, index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_comment: Mapped[str] = mapped_column(Text, default="")  # the reason of a rejection
    export_volume_id: Mapped[str] = mapped_column(String(64), default="")
    export_image_id: Mapped[str] = mapped_column(String(64), default="")
    export_size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    download_count: Mapped[int] = mapped_column(Integer, default=0)
    last_downloaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_message: Mapped[str] = mapped_column(Text, default="")
    error_detail: Mapped[str] = mapped_column(Text, default="")

    artifact: Mapped[BackupArtifact] = relationship()
    department = relationship("Department")
    requested_by = relationship("User", foreign_keys=[requested_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    __scope_column__ = "department_id"

    def snapshot(self):
        return {"state": self.state, "artifact_id": self.artifact_id, "decision_comment": self.decision_comment,
                "expires_at": self.expires_at.isoformat() if self.expires_at else None}

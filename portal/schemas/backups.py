"""The inputs and answers of 备份与恢复 in the API (第十九条): policies, runs, backups (artifacts),
restores and extractions. The bounds are the web forms' (portal/backups/forms.py); what the engine
checks beyond them (the cron line, hooks needing SSH) is checked by backup/policies.validate."""
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from ..text import _l
from .base import Input, Output, Page, line, refuse, text

Id = Annotated[int, Field(ge=1, le=999_999_999)]
KeepCount = Annotated[int, Field(ge=1, le=1000)]
KeepDays = Annotated[int, Field(ge=1, le=3650)]
Timeout = Annotated[int, Field(ge=60, le=86400)]
Port = Annotated[int, Field(ge=1, le=65535)]
Kinds = Literal["snapshot", "volume", "both"]
RunStateFilter = Literal["", "queued", "running", "succeeded", "failed"]
ExtractionStateFilter = Literal["", "applied", "approved", "rejected", "ready", "expired", "failed", "withdrawn"]
RestoreModeIn = Literal["new_volume", "in_place", "server_rebuild", "new_server"]
RestoreStateFilter = Literal["", "requested", "running", "succeeded", "failed", "withdrawn"]


class PolicyCreate(Input):
    """A 备份策略 of one system (system_id) or a department's default (department_id; a department
    user's own department when neither is given)."""

    system_id: Id | None = Field(None, description="the system (a provisioned request's id) it covers")
    department_id: Id | None = Field(None, description="without system_id: the department whose default it is")
    name: line(120, 1)
    kinds: Kinds = "both"
    cron: line(120, 1) = Field("0 2 * * *", description="5-field crontab line, Beijing time")
    keep_count: KeepCount | None = 7
    keep_days: KeepDays | None = None
    timeout_seconds: Timeout = 3600
    hook_pre: text(4000) = ""
    hook_post: text(4000) = ""
    ssh_username: line(64) = ""
    ssh_host: line(255) = ""
    ssh_port: Port = 22
    ssh_host_key: line(4000) = ""
    ssh_key_id: Id | None = Field(None, description="an SSH key of the policy's department (department_ssh_key); "
                                                    "hooks set by anyone but the department's administrator wait "
                                                    "for that administrator's approval")
    enabled: bool = True

    @model_validator(mode="after")
    def _one_target(self):
        if self.system_id is not None and self.department_id is not None:
            refuse(_l("Give either a system or a department, not both."))
        return self


class PolicyPatch(Input):
    """Only the fields given change; system_id null makes it the department's default."""

    system_id: Id | None = None
    name: line(120, 1) | None = None
    kinds: Kinds | None = None
    cron: line(120, 1) | None = None
    keep_count: KeepCount | None = None
    keep_days: KeepDays | None = None
    timeout_seconds: Timeout | None = None
    hook_pre: text(4000) | None = None
    hook_post: text(4000) | None = None
    ssh_username: line(64) | None = None
    ssh_host: line(255) | None = None
    ssh_port: Port | None = None
    ssh_host_key: line(4000) | None = None
    ssh_key_id: Id | None = None
    enabled: bool | None = None


class RestoreCreate(Input):
    mode: RestoreModeIn = Field(description="volume backups: new_volume, in_place; snapshots: server_rebuild, "
                                            "new_server")
    urgent: bool = False
    reason: text(2000) = Field("", description="required of the vendor (the department's request) and when urgent")
    target_name: line(200) = Field("", description="name of the new volume or server; empty: chosen")


class SshKeyCreate(Input):
    """A new Ed25519 key the portal makes for the department (its private key is never returned)."""

    name: line(120, 1) = Field(description="unique within the department")


class SshKeyUpload(Input):
    """A key the department made elsewhere: stored sealed, never returned, never audited."""

    name: line(120, 1) = Field(description="unique within the department")
    private_key: text(16384, 1) = Field(description="an Ed25519 private key in OpenSSH format (or PKCS#8 PEM), "
                                                    "without a passphrase")


class SshKeyQuery(Page):
    department_id: Id | None = Field(None, description="the bureau, vendor and admin: only this department's "
                                                        "keys (a department user always sees its own)")


class ExtractionCreate(Input):
    reason: text(2000, 1)


class ExtractionDecision(Input):
    decision: Literal["approve", "reject"]
    comment: text(2000, 1) = Field(description="the reason of the decision (required)")


class RunQuery(Page):
    state: RunStateFilter = ""
    policy_id: Id | None = None


class ArtifactQuery(Page):
    policy_id: Id | None = None


class ExtractionQuery(Page):
    state: ExtractionStateFilter = ""


class RestoreQuery(Page):
    state: RestoreStateFilter = Field("", description="requested: asked of the vendor, not started yet")


# -- what the API answers

class PolicyOut(Output):
    id: int
    department_id: int
    system_id: int | None
    name: str
    enabled: bool
    kinds: str
    cron: str
    keep_count: int | None
    keep_days: int | None
    timeout_seconds: int
    hook_pre: str
    hook_post: str
    ssh_username: str
    ssh_host: str
    ssh_port: int
    ssh_host_key: str
    ssh_key_id: int | None
    hooks_state: Literal["none", "pending", "approved"] = Field(
        description="pending: the hook configuration waits for the department administrator's approval and "
                    "does not run")
    hooks_approved_by_id: int | None
    hooks_approved_at: datetime | None
    next_run_at: datetime | None
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_verified_at: datetime | None
    created_at: datetime
    updated_at: datetime


class RunOut(Output):
    id: int
    policy_id: int | None
    department_id: int
    system_id: int | None
    trigger: str
    kinds: str
    state: str
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    size_gb: int
    error_message: str
    incident_id: int | None


class ArtifactOut(Output):
    id: int
    run_id: int
    policy_id: int | None
    department_id: int
    system_id: int | None
    kind: str
    name: str
    size_gb: int
    size_bytes: int | None
    status: str
    created_at: datetime
    completed_at: datetime | None
    verified_at: datetime | None
    verify_outcome: str | None


class RestoreOut(Output):
    id: int
    artifact_id: int
    department_id: int
    system_id: int | None
    mode: str
    urgent: bool
    reason: str
    state: str
    phase: str
    target_name: str
    requested_by_id: int | None = Field(description="who restored, or who asked the vendor to (state requested)")
    started_by_id: int | None = Field(description="a requested restore: the vendor who carried it out")
    grant_id: int | None = Field(description="a vendor's restore: the live grant of the department it acted under")
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error_message: str


class SshKeyOut(Output):
    """A department's SSH key for the backup hooks: never its private part."""

    id: int
    department_id: int
    name: str
    fingerprint: str = Field(description="SHA256:<base64>, as ssh-keygen -l shows it")
    public_key: str | None = Field(description="the line for authorized_keys; shown to the department's users "
                                               "(the other roles see the name and fingerprint, as the policy "
                                               "form shows them)")
    created_by_id: int | None
    created_at: datetime
    revoked: bool
    revoked_at: datetime | None
    revoked_by_id: int | None


class ExtractionOut(Output):
    id: int
    artifact_id: int
    department_id: int
    reason: str
    state: str
    requested_by_id: int | None
    requested_at: datetime
    decided_by_id: int | None
    decided_at: datetime | None
    decision_comment: str
    expires_at: datetime | None
    download_count: int
    error_message: str

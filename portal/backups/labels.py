"""Translated names of the backup states, kinds and triggers (GLOSSARY.md: 备份 / 恢复 / 备份数据提取)."""
from ..backup_models import (ArtifactKind, ArtifactStatus, BackupKinds, BackupTrigger, ExtractionState, RestoreMode,
                             RestoreState, RunState)
from ..text import _l

RUN_STATE_LABELS = {
    RunState.QUEUED: _l("Queued"),
    RunState.RUNNING: _l("Running"),
    RunState.SUCCEEDED: _l("Succeeded"),
    RunState.FAILED: _l("Failed"),
}
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
RESTORE_STATE_LABELS = {
    RestoreState.RUNNING: _l("Running"),
    RestoreState.SUCCEEDED: _l("Succeeded"),
    RestoreState.FAILED: _l("Failed"),
}
EXTRACTION_STATE_LABELS = {
    ExtractionState.APPLIED: _l("Awaiting the bureau"),
    ExtractionState.APPROVED: _l("Approved, being prepared"),
    ExtractionState.REJECTED: _l("Rejected"),
    ExtractionState.READY: _l("Ready for download"),
    ExtractionState.EXPIRED: _l("Expired"),
    ExtractionState.FAILED: _l("Failed"),
    ExtractionState.WITHDRAWN: _l("Withdrawn"),
}


def run_state_label(state):
    """Return the translated name of a backup run state."""
    return RUN_STATE_LABELS.get(state, state)


def template_labels():
    """Return the label tables and helpers the backup templates (and the decommission page) use."""
    return {"RUN_STATE_LABELS": RUN_STATE_LABELS, "TRIGGER_LABELS": TRIGGER_LABELS, "KINDS_LABELS": KINDS_LABELS,
            "ARTIFACT_KIND_LABELS": ARTIFACT_KIND_LABELS, "ARTIFACT_STATUS_LABELS": ARTIFACT_STATUS_LABELS,
            "RESTORE_MODE_LABELS": RESTORE_MODE_LABELS, "RESTORE_STATE_LABELS": RESTORE_STATE_LABELS,
            "EXTRACTION_STATE_LABELS": EXTRACTION_STATE_LABELS, "run_state_label": run_state_label}

"""Translated names of the backup states, kinds and triggers (GLOSSARY.md: 备份 / 恢复 / 备份数据提取)."""
from ..backup_models import (EXTRACTION_STATE_LABELS, RESTORE_STATE_LABELS, RUN_STATE_LABELS,  # noqa: F401
                             ArtifactKind, ArtifactStatus, BackupKinds, BackupTrigger, RestoreMode)
from ..text import _l

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


def run_state_label(state):
    """Return the translated name of a backup run state."""
    return RUN_STATE_LABELS.get(state, state)


def template_labels():
    """Return the label tables and helpers the backup templates (and the decommission page) use."""
    return {"RUN_STATE_LABELS": RUN_STATE_LABELS, "TRIGGER_LABELS": TRIGGER_LABELS, "KINDS_LABELS": KINDS_LABELS,
            "ARTIFACT_KIND_LABELS": ARTIFACT_KIND_LABELS, "ARTIFACT_STATUS_LABELS": ARTIFACT_STATUS_LABELS,
            "RESTORE_MODE_LABELS": RESTORE_MODE_LABELS, "RESTORE_STATE_LABELS": RESTORE_STATE_LABELS,
            "EXTRACTION_STATE_LABELS": EXTRACTION_STATE_LABELS, "run_state_label": run_state_label}

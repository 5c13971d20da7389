"""The decommission guard (第十条二): a system is decommissioned only after its data is backed up
or migrated.

A decommission request may be submitted, and approved, only when either a final backup of the
system (a BackupRun with trigger 'final', asked for after the decommission was started) has
succeeded, or the department confirmed that the data was migrated and said where (a required
note, audited). The final backup itself is run by the backup engine (`backup.engine`); the
department's actions are in services/decommission.py.
"""
from dataclasses import dataclass

from sqlalchemy import select

from ..models.backups import BackupRun, BackupTrigger, RunState
from ..errors import ValidationFailed
from ..text import _l
from ..specs import removals
from ..workflow import RequestKind
from .audit import record_event

MAX_NOTE = 2000
NOT_CLEARED = _l("The system's data must be backed up or migrated before it is decommissioned "
                 "(article 10 (2)): take a final backup and wait until it succeeds, or confirm the "
                 "migration with a note.")


@dataclass
class Clearance:
    """Why a decommission may proceed: "final_backup" (run) or "migrated" (note)."""

    kind: str
    run: BackupRun | None = None
    note: str = ""


def final_runs(session, request):
    """Return the final backup runs of request's system asked for since the decommission started, newest first."""
    return list(session.scalars(
        select(BackupRun).where(BackupRun.system_id == request.system_root_id,
                                BackupRun.trigger == BackupTrigger.FINAL,
                                BackupRun.created_at >= request.created_at)
        .order_by(BackupRun.created_at.desc(), BackupRun.id.desc())))


def clearance(session, request):
    """Return the Clearance of a decommission request, or None while its data is neither backed up nor migrated."""
    if request.backup_confirmed and request.migration_note.strip():
        return Clearance("migrated", note=request.migration_note)
    for run in final_runs(session, request):
        if run.state == RunState.SUCCEEDED:
            return Clearance("final_backup", run=run)
    return None


def guard_problems(session, request, current=None, desired=None):
    """Return [(field, message)] when a decommission, or a change that removes servers or volumes from
    current (desired: the spec to carry out, by default the request's), may not go on yet, else []."""
    if request.kind == RequestKind.CHANGE and current is not None:
        removed = removals(current, desired if desired is not None else request.spec)
        if not removed or clearance(session, request) is not None:
            return []
        return [("backup_confirmed", _l("This change removes %(names)s: the data must be backed up or migrated "
                                        "first (article 10 (2)): take a final backup and wait until it "
                                        "succeeds, or confirm the migration with a note.",
                                        names="、".join(removed)))]
    if request.kind != RequestKind.DECOMMISSION or clearance(session, request) is not None:
        return []
    return [("backup_confirmed", NOT_CLEARED)]


def require_cleared(session, request, current=None, desired=None):
    """Raise ValidationFailed when a decommission's (or a destructive change's) data is neither backed up
    nor migrated."""
    problems = guard_problems(session, request, current, desired)
    if problems:
        raise ValidationFailed(problems[0][1], field=problems[0][0])


def set_migration(session, ctx, request, confirmed, note):
    """Store the migration confirmation on a decommission request and audit it (no commit)."""
    note = (note or "").strip()
    if confirmed and not note:
        raise ValidationFailed(_l("Say where the data was migrated to (the note is required)."),
                               field="migration_note")
    before = {"backup_confirmed": request.backup_confirmed, "migration_note": request.migration_note}
    request.backup_confirmed = bool(confirmed)
    request.migration_note = note if confirmed else ""
    if confirmed and before != {"backup_confirmed": True, "migration_note": note}:
        record_event(session, ctx, "request.confirm_migration", object_type="resource_request",
                     object_id=request.id, department_id=request.department_id, before=before,
                     after={"backup_confirmed": True, "migration_note": request.migration_note},
                     detail=request.migration_note)


def guard_status(session, request):
    """Return what the decommission page shows: the final runs since the start and the clearance."""
    return {"runs": final_runs(session, request), "clearance": clearance(session, request)}

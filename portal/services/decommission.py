"""The department's side of a decommission (第十条二): the draft, a final backup asked of the
backup engine, or the migration confirmed with a note. The rule itself is decommission_guard.py.
"""
from backup import engine

from ..models.backups import RunState
from ..errors import Forbidden, ValidationFailed, WrongState
from ..models.accounts import Role
from ..text import _l
from ..workflow import EDITABLE, RequestKind
from .decommission_guard import MAX_NOTE, final_runs, set_migration
from .resource_requests import TEXT_FIELDS, get_request, start_change, system_requests, update_request


def _own_open_decommission(session, ctx, request_id):
    user = ctx.actor
    if user is None or user.role != Role.DEPARTMENT:
        raise Forbidden()
    request = get_request(session, user, request_id)
    if request.department_id != user.department_id:
        raise Forbidden()
    if request.kind not in (RequestKind.DECOMMISSION, RequestKind.CHANGE):
        raise ValidationFailed(_l("Only a decommission request has a final backup."))
    if request.state not in EDITABLE:
        raise WrongState(_l("Only drafts and returned requests can be edited."))
    return request


def start_final_backup(session, ctx, request_id):
    """Ask the backup engine for a final backup of the system of a draft decommission request."""
    request = _own_open_decommission(session, ctx, request_id)
    pending = [r for r in final_runs(session, request) if r.state in (RunState.QUEUED, RunState.RUNNING)]
    if pending:
        raise ValidationFailed(_l("A final backup of this system is already queued or running."))
    return engine.request_final_backup(session, ctx, request.system_root_id, requested_by=ctx.actor)


def confirm_migration(session, ctx, request_id, note):
    """Record that the department migrated the system's data (note required; audited)."""
    request = _own_open_decommission(session, ctx, request_id)
    note = (note or "").strip()
    if not note:
        raise ValidationFailed(_l("Say where the data was migrated to (the note is required)."),
                               field="migration_note")
    if len(note) > MAX_NOTE:
        raise ValidationFailed(_l("Enter between %(min)d and %(max)d characters.", min=1, max=MAX_NOTE),
                               field="migration_note")
    set_migration(session, ctx, request, True, note)
    session.commit()
    return request


def open_draft(session, system):
    """Return the system's decommission request that is still a draft (or returned), or None."""
    drafts = [r for r in system_requests(session, system.system_root_id)
              if r.kind == RequestKind.DECOMMISSION and r.state in EDITABLE]
    return drafts[-1] if drafts else None


def save_draft(session, ctx, system_id, reason, migrated, note):
    """Open the decommission draft of a system, or update the open one; return it (committed)."""
    system = get_request(session, ctx.actor, system_id)
    draft = open_draft(session, system)
    data = {"reason": reason, "backup_confirmed": bool(migrated), "migration_note": note or ""}
    if draft is None:
        return start_change(session, ctx, system.id, RequestKind.DECOMMISSION, data)
    merged = {f: getattr(draft, f) for f in TEXT_FIELDS + ("security_level",)}
    merged.update(data)
    return update_request(session, ctx, draft.id, merged, draft.spec)

"""Backup policies (备份策略): checked input, the next run time, audit, and the department's
approval of what runs on its hosts (第十八条): a save by the department's administrator approves the
hook configuration it saves; anyone else's change of it waits for that administrator (approve_hooks).
"""
from sqlalchemy import select

from portal.models.backups import BackupKinds, BackupPolicy, DepartmentSshKey
from portal.database import utcnow
from portal.errors import ValidationFailed
from portal.models.requests import ResourceRequest
from portal.services.audit import record_event
from portal.text import _l

from .schedule import next_fire, parse_cron

MAX_TIMEOUT_SECONDS = 24 * 3600


def _int(data, key, *, minimum, maximum=None, required=False):
    raw = data.get(key)
    if raw in (None, ""):
        if required:
            raise ValidationFailed(_l("This field is required."), field=key)
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValidationFailed(_l("Enter a whole number."), field=key) from None
    if value < minimum or (maximum is not None and value > maximum):
        raise ValidationFailed(_l("The number is out of range."), field=key)
    return value


def validate(data):
    """Check the fields of a policy (a mapping of form values); return them normalized.

    Raises ValidationFailed naming the field. Keys: name, system_id, kinds, cron, keep_count,
    keep_days, hook_pre, hook_post, ssh_username, ssh_host, ssh_port, ssh_host_key, ssh_key_id (a
    DepartmentSshKey of the policy's department, checked by check_key), timeout_seconds, enabled.
    """
    out = {}
    out["name"] = (data.get("name") or "").strip()
    if not out["name"]:
        raise ValidationFailed(_l("This field is required."), field="name")
    out["system_id"] = _int(data, "system_id", minimum=1)
    out["kinds"] = data.get("kinds") or BackupKinds.BOTH
    if out["kinds"] not in set(BackupKinds):
        raise ValidationFailed(_l("Choose what to back up."), field="kinds")
    out["cron"] = " ".join((data.get("cron") or "").split())
    try:
        parse_cron(out["cron"])
    except ValueError:
        raise ValidationFailed(_l("Enter a schedule in cron form, e.g. \"0 2 * * *\" (02:00 every day)."),
                               field="cron") from None
    out["keep_count"] = _int(data, "keep_count", minimum=1, maximum=1000)
    out["keep_days"] = _int(data, "keep_days", minimum=1, maximum=3650)
    if out["keep_count"] is None and out["keep_days"] is None:
        raise ValidationFailed(_l("Set how many backups to keep or for how many days."), field="keep_count")
    out["timeout_seconds"] = _int(data, "timeout_seconds", minimum=60, maximum=MAX_TIMEOUT_SECONDS) or 3600
    out["hook_pre"] = (data.get("hook_pre") or "").strip()
    out["hook_post"] = (data.get("hook_post") or "").strip()
    out["ssh_username"] = (data.get("ssh_username") or "").strip()
    out["ssh_host"] = (data.get("ssh_host") or "").strip()
    out["ssh_port"] = _int(data, "ssh_port", minimum=1, maximum=65535) or 22
    out["ssh_host_key"] = " ".join((data.get("ssh_host_key") or "").split()[:2])
    out["ssh_key_id"] = _int(data, "ssh_key_id", minimum=1)
    if out["hook_pre"] or out["hook_post"]:
        for key in ("ssh_username", "ssh_host_key", "ssh_key_id"):
            if not out[key]:
                raise ValidationFailed(_l("Backup commands need an SSH user, the pinned host key and a key."),
                                       field=key)
    out["enabled"] = bool(data.get("enabled", True))
    return out


def _check_system(session, department_id, system_id):
    if system_id is None:
        return
    system = session.get(ResourceRequest, system_id)
    if system is None or system.department_id != department_id or system.system_id is not None:
        raise ValidationFailed(_l("Choose a system of the department."), field="system_id")


def check_key(session, department_id, key_id):
    """Refuse a key that is not a live key of the department (another department's, revoked, none)."""
    if key_id is None:
        return None
    key = session.get(DepartmentSshKey, key_id)
    if key is None or key.department_id != department_id:
        raise ValidationFailed(_l("Choose an SSH key of the department."), field="ssh_key_id")
    if key.revoked_at is not None:
        raise ValidationFailed(_l("This SSH key has been revoked; choose another key of the department."),
                               field="ssh_key_id")
    return key


def is_department_admin(user, department_id):
    """True when user is the administrator of department_id (who approves what runs on its hosts)."""
    return bool(user is not None and getattr(user, "is_dept_admin", False) and user.department_id == department_id)


def _settle_hooks(session, ctx, policy, before_hash, now):
    """After a save: the department's administrator's save approves its hook configuration; a changed
    configuration saved by anyone else waits for approval (audited either way)."""
    current = policy.hook_config_hash()
    if not policy.has_hooks:
        return
    if is_department_admin(ctx.actor, policy.department_id):
        if policy.hooks_approved_hash != current:
            _approve(session, ctx, policy, now)
        return
    if current != before_hash and policy.hooks_approved_hash != current:
        record_event(session, ctx, "backup_policy.hooks_pending", object_type="backup_policy", object_id=policy.id,
                     department_id=policy.department_id, after={"hash": current},
                     detail="saved by someone other than the department's administrator: the hooks do not run "
                            "until the department's administrator approves them")


def _approve(session, ctx, policy, now):
    policy.hooks_approved_hash = policy.hook_config_hash()
    policy.hooks_approved_by_id = getattr(ctx.actor, "id", None)
    policy.hooks_approved_at = now
    record_event(session, ctx, "backup_policy.hooks_approved", object_type="backup_policy", object_id=policy.id,
                 department_id=policy.department_id,
                 after={**{f: getattr(policy, f) for f in BackupPolicy.HOOK_FIELDS},
                        "hash": policy.hooks_approved_hash})


def approve_hooks(session, ctx, policy, now=None):
    """The department's administrator approves the policy's current hook configuration; audited, committed."""
    from portal.errors import Forbidden
    if not is_department_admin(ctx.actor, policy.department_id):
        raise Forbidden()
    if not policy.has_hooks:
        raise ValidationFailed(_l("This policy has no backup commands to approve."))
    for key in ("ssh_username", "ssh_host_key", "ssh_key_id"):
        if not getattr(policy, key):
            raise ValidationFailed(_l("Backup commands need an SSH user, the pinned host key and a key."), field=key)
    check_key(session, policy.department_id, policy.ssh_key_id)
    _approve(session, ctx, policy, now or utcnow())
    session.commit()
    return policy


def _taken(session, department_id, system_id, name, exclude_id=None):
    stmt = select(BackupPolicy.id).where(BackupPolicy.department_id == department_id)
    if exclude_id is not None:
        stmt = stmt.where(BackupPolicy.id != exclude_id)
    if session.scalar(stmt.where(BackupPolicy.name == name)) is not None:
        raise ValidationFailed(_l("A policy of this name exists already."), field="name")
    if session.scalar(stmt.where(BackupPolicy.system_id.is_(None) if system_id is None
                                 else BackupPolicy.system_id == system_id)) is not None:
        raise ValidationFailed(_l("This system has a backup policy already."), field="system_id")


def create_policy(session, ctx, department_id, data, now=None):
    """Create a policy of department_id from form data (validated here); audited and committed."""
    now = now or utcnow()
    fields = validate(data)
    _check_system(session, department_id, fields["system_id"])
    check_key(session, department_id, fields["ssh_key_id"])
    _taken(session, department_id, fields["system_id"], fields["name"])
    policy = BackupPolicy(department_id=department_id, created_by_id=getattr(ctx.actor, "id", None),
                          hooks_approved_hash="", **fields)
    policy.next_run_at = next_fire(policy.cron, now) if policy.enabled else None
    session.add(policy)
    session.flush()
    record_event(session, ctx, "backup.policy.create", object_type="backup_policy", object_id=policy.id,
                 department_id=department_id, after=policy.snapshot())
    _settle_hooks(session, ctx, policy, "", now)
    session.commit()
    return policy


def update_policy(session, ctx, policy, data, now=None):
    """Change a policy from form data; the next run is computed again. Audited and committed."""
    now = now or utcnow()
    fields = validate(data)
    _check_system(session, policy.department_id, fields["system_id"])
    if fields["hook_pre"] or fields["hook_post"] or fields["ssh_key_id"] != policy.ssh_key_id:
        check_key(session, policy.department_id, fields["ssh_key_id"])  # hooks need a live key of the department
    _taken(session, policy.department_id, fields["system_id"], fields["name"], exclude_id=policy.id)
    before = policy.snapshot()
    before_hash = policy.hook_config_hash()
    for key, value in fields.items():
        setattr(policy, key, value)
    policy.next_run_at = next_fire(policy.cron, now) if policy.enabled else None
    record_event(session, ctx, "backup.policy.update", object_type="backup_policy", object_id=policy.id,
                 department_id=policy.department_id, before=before, after=policy.snapshot())
    _settle_hooks(session, ctx, policy, before_hash, now)
    session.commit()
    return policy


def set_enabled(session, ctx, policy, enabled, now=None):
    """Switch a policy on (next run computed from now) or off."""
    before = policy.snapshot()
    policy.enabled = bool(enabled)
    policy.next_run_at = next_fire(policy.cron, now or utcnow()) if policy.enabled else None
    record_event(session, ctx, "backup.policy.update", object_type="backup_policy", object_id=policy.id,
                 department_id=policy.department_id, before=before, after=policy.snapshot())
    session.commit()
    return policy


def policy_for_system(session, system_id):
    """Return the policy that covers a system: its own, else its department's default, else None."""
    system = session.get(ResourceRequest, system_id)
    if system is None:
        return None
    own = session.scalar(select(BackupPolicy).where(BackupPolicy.system_id == system.system_root_id))
    if own is not None:
        return own
    return session.scalar(select(BackupPolicy).where(BackupPolicy.department_id == system.department_id,
                                                     BackupPolicy.system_id.is_(None)))

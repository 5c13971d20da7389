"""备份与恢复 for the pages (第十九条): who may see and do what, checked input, audit.

The backup engine (`backup/`) runs, verifies, prunes, restores and prepares exports; this module
scopes its objects to the user, checks roles, and owns the approval of extractions and their
download links: a random token shown once, only its SHA-256 stored, working only while the
extraction is ready and not expired; every use counted and audited.
"""
import hashlib
import logging
import secrets

from sqlalchemy import func, select

from provisioner.errors import ProvisioningError

from ..models.backups import (ArtifactStatus, BackupArtifact, BackupExtraction, BackupPolicy, BackupRun, EXTRACTIONS,
                              ExtractionState, RESTORE_MODES_BY_KIND, RESTORES, RestoreJob, RestoreState, RunState,
                              VerifyOutcome)
from ..database import utcnow
from ..errors import Forbidden, PortalError, ValidationFailed, WrongState
from ..models.accounts import Department, Role
from ..pagination import paginate
from ..models.requests import ResourceRequest
from ..scoping import get_scoped, scoped
from ..text import _l
from ..workflow import RequestKind
from .audit import record_event
from .transitions import transition

log = logging.getLogger(__name__)

EDITORS = (Role.DEPARTMENT, Role.VENDOR, Role.BUREAU, Role.ADMIN)  # policies
RUNNERS = (Role.DEPARTMENT, Role.VENDOR, Role.ADMIN)                # back up now
RESTORERS = (Role.DEPARTMENT, Role.VENDOR)                          # the vendor on the department's request
DECIDERS = (Role.BUREAU,)                                           # extraction approvals
OPEN_EXTRACTION = (ExtractionState.APPLIED, ExtractionState.APPROVED, ExtractionState.READY)
MAX_TEXT = 2000


class LinkGone(PortalError):
    """The download link has expired or its extraction is over (HTTP 410)."""

    http_status = 410

    def default_message(self):
        return _l("This download link has expired. Apply for a new extraction if you still need the data.")


class ExportUnavailable(PortalError):
    """The cloud cannot hand out the file now (HTTP 503); nothing was counted."""

    http_status = 503

    def default_message(self):
        return _l("The file cannot be read from the cloud at the moment; please try again later.")


class LinkUnknown(PortalError):
    """No ready extraction of the user's department has this link (HTTP 404)."""

    http_status = 404

    def default_message(self):
        return _l("This download link is not valid. A link works only after the bureau approved the "
                  "extraction and only for the department that applied.")


def _role(user, roles):
    if user is None or user.role not in roles:
        raise Forbidden()


def _text(value, field, required=True, message=None):
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed(message or _l("This field is required."), field=field)
    if len(value) > MAX_TEXT:
        raise ValidationFailed(_l("Enter between %(min)d and %(max)d characters.", min=1, max=MAX_TEXT),
                               field=field)
    return value


# -- policies -------------------------------------------------------------------------------------

def policies_select(user):
    """The select of the policies user may see, by department then system."""
    return scoped(select(BackupPolicy), user).order_by(BackupPolicy.department_id,
                                                       BackupPolicy.system_id.is_not(None), BackupPolicy.name)


def list_policies(session, user):
    """Return the policies user may see, by department then system."""
    return list(session.scalars(policies_select(user)))


def get_policy(session, user, policy_id):
    """Return a policy user may see, or raise NotFound."""
    return get_scoped(session, BackupPolicy, policy_id, user, kind=_l("Backup policy"))


def policy_targets(session, user):
    """Return [(value, label)] of what a policy may cover: "d<id>" a department's default, "s<id>" a system."""
    depts = scoped(select(Department), user) if user.role != Role.DEPARTMENT else select(Department).where(
        Department.id == user.department_id)
    out = []
    for d in session.scalars(depts.order_by(Department.name)):
        out.append((f"d{d.id}", f"{d.name} · {_l('Department default (systems without a policy of their own)')}"))
    systems = scoped(select(ResourceRequest), user).where(ResourceRequest.kind == RequestKind.NEW,
                                                          ResourceRequest.approved_at.is_not(None))
    for s in session.scalars(systems.order_by(ResourceRequest.department_id, ResourceRequest.id)):
        out.append((f"s{s.id}", f"{s.department.name} · {s.system_name} · {s.number}"))
    return out


def _target(session, user, value):
    """Return (department_id, system_id) of a target value user may choose."""
    value = (value or "").strip()
    if value not in {v for v, _label in policy_targets(session, user)}:
        raise ValidationFailed(_l("Choose a system of the department."), field="target")
    if value.startswith("d"):
        return int(value[1:]), None
    system = session.get(ResourceRequest, int(value[1:]))
    return system.department_id, system.id


def create_policy(session, ctx, data, now=None):
    """Create a policy for the chosen system or department default (department users: their own)."""
    from backup import policies
    _role(ctx.actor, EDITORS)
    department_id, system_id = _target(session, ctx.actor, data.get("target"))
    return policies.create_policy(session, ctx, department_id, {**data, "system_id": system_id}, now=now)


def update_policy(session, ctx, policy_id, data, now=None):
    """Change a policy user may edit; its department stays, its system may change within it."""
    from backup import policies
    _role(ctx.actor, EDITORS)
    policy = get_policy(session, ctx.actor, policy_id)
    department_id, system_id = _target(session, ctx.actor, data.get("target"))
    if department_id != policy.department_id:
        raise ValidationFailed(_l("Choose a system of the department."), field="target")
    return policies.update_policy(session, ctx, policy, {**data, "system_id": system_id}, now=now)


def set_policy_enabled(session, ctx, policy_id, enabled):
    """Switch a policy on or off (audited)."""
    from backup import policies
    _role(ctx.actor, EDITORS)
    return policies.set_enabled(session, ctx, get_policy(session, ctx.actor, policy_id), enabled)


def approve_hooks(session, ctx, policy_id):
    """The department's administrator approves the policy's current hook configuration (第十八条)."""
    from backup import policies
    return policies.approve_hooks(session, ctx, get_policy(session, ctx.actor, policy_id))


def can_approve_hooks(user, policy):
    """True when user is the administrator of the policy's department and its hooks wait for approval."""
    from backup.policies import is_department_admin
    return is_department_admin(user, policy.department_id) and policy.hooks_state == "pending"


def key_choices(session, user, department_id=None):
    """Return [(id, label)] of the live SSH keys a policy may use: the department user's own
    department's, else department_id's (or every department's when None; the service checks the
    key against the policy's department)."""
    from ..models.backups import DepartmentSshKey
    stmt = scoped(select(DepartmentSshKey), user).where(DepartmentSshKey.revoked_at.is_(None))
    if department_id is not None:
        stmt = stmt.where(DepartmentSshKey.department_id == department_id)
    rows = session.scalars(stmt.order_by(DepartmentSshKey.department_id, DepartmentSshKey.name))
    return [(k.id, f"{k.department.name} · {k.name} · {k.fingerprint}") for k in rows]


def next_runs(cron, count=3, now=None):
    """Return the next `count` times (UTC, aware) a cron line fires in Asia/Shanghai; [] when it is invalid."""
    from backup.schedule import next_fire
    out, after = [], now or utcnow()
    try:
        for _ in range(count):
            after = next_fire(cron, after)
            if after is None:
                break
            out.append(after)
    except ValueError:
        return []
    return out


def back_up_now(session, ctx, policy_id):
    """Queue a manual run of a policy ("back up now"); the due-runner starts it within a minute."""
    from backup import engine
    _role(ctx.actor, RUNNERS)
    policy = get_policy(session, ctx.actor, policy_id)
    pending = session.scalar(select(BackupRun.id).where(BackupRun.policy_id == policy.id,
                                                        BackupRun.state.in_((RunState.QUEUED, RunState.RUNNING))))
    if pending is not None:
        raise WrongState(_l("A backup of this policy is already queued or running."))
    return engine.queue_run(session, ctx, policy, trigger="manual", requested_by=ctx.actor)


# -- runs, backups, restores ----------------------------------------------------------------------

def list_runs(session, user, *, policy_id=None, state="", page=1, per_page=20):
    """Return one page of the backup runs user may see, newest first."""
    stmt = scoped(select(BackupRun), user)
    if policy_id:
        stmt = stmt.where(BackupRun.policy_id == policy_id)
    if state:
        stmt = stmt.where(BackupRun.state == state)
    return paginate(session, stmt.order_by(BackupRun.created_at.desc(), BackupRun.id.desc()), page, per_page)


def get_run(session, user, run_id):
    """Return a backup run user may see, or raise NotFound."""
    return get_scoped(session, BackupRun, run_id, user, kind=_l("Backup run"))


def list_artifacts(session, user, *, policy_id=None, include_deleted=False, page=1, per_page=20):
    """Return one page of the backups (snapshot images, volume backups) user may see, newest first."""
    stmt = scoped(select(BackupArtifact), user)
    if policy_id:
        stmt = stmt.where(BackupArtifact.policy_id == policy_id)
    if not include_deleted:
        stmt = stmt.where(BackupArtifact.status != ArtifactStatus.DELETED)
    return paginate(session, stmt.order_by(BackupArtifact.created_at.desc(), BackupArtifact.id.desc()),
                    page, per_page)


def get_artifact(session, user, artifact_id):
    """Return a backup user may see, or raise NotFound."""
    return get_scoped(session, BackupArtifact, artifact_id, user, kind=_l("Backup"))


def restore_modes(artifact):
    """Return the restore modes of a backup's kind."""
    return RESTORE_MODES_BY_KIND.get(artifact.kind, ())


def restore_grant(session, ctx, artifact, now=None):
    """Return the live grant (运维授权) of the artifact's department under which the acting vendor
    may restore it: the vendor's own, approved, within its window, for the backup's system.
    Otherwise the refusal is audited and NoLiveGrant raised (第十八条)."""
    from ..models.grants import GrantState, VendorGrant
    from .vendor_access import NoLiveGrant
    now = now or utcnow()
    user = ctx.actor
    grant = None
    if artifact.system_id is not None:
        candidates = session.scalars(select(VendorGrant).where(
            VendorGrant.vendor_id == user.id, VendorGrant.department_id == artifact.department_id,
            VendorGrant.system_id == artifact.system_id, VendorGrant.state == GrantState.APPROVED)
            .order_by(VendorGrant.ends_at.desc()))
        grant = next((g for g in candidates if g.is_live(now)), None)
    if grant is None:
        record_event(session, ctx, "backup.restore.start", object_type="backup_artifact", object_id=artifact.id,
                     department_id=artifact.department_id, outcome="denied",
                     detail="the vendor holds no live grant of the department for this system")
        session.commit()
        raise NoLiveGrant()
    return grant


def start_restore(session, ctx, cloud, artifact_id, mode, *, urgent=False, reason="", target_name="",
                  settings=None):
    """Restore a backup now (第十九条: it starts at once, urgent or not); audited by the engine.

    A department restores its own backups (or asks the vendor: request_restore). The vendor restores
    here only under a live grant of the department for the backup's system (第十八条), recorded on the
    restore and in its audit event, and names the department's request in the reason; without a
    grant it carries out a restore the department requested (carry_out_restore). An urgent restore
    needs a reason too.
    """
    from backup import restore
    user = ctx.actor
    _role(user, RESTORERS)
    artifact = get_artifact(session, user, artifact_id)
    if mode not in restore_modes(artifact):
        raise ValidationFailed(_l("This kind of backup cannot be restored that way."), field="mode")
    grant = None
    if user.role == Role.VENDOR:
        reason = _text(reason, "reason", message=_l("Name the department's request for this restore "
                                                    "(who asked, when, ticket)."))
        grant = restore_grant(session, ctx, artifact)
    elif urgent:
        reason = _text(reason, "reason", message=_l("Say why the restore is urgent."))
    else:
        reason = _text(reason, "reason", required=False)
    return restore.start_restore(session, ctx, cloud, artifact, mode, urgent=urgent, reason=reason,
                                 requested_by=user, target_name=_text(target_name, "target_name", required=False),
                                 settings=settings, grant_id=grant.id if grant else None)


def request_restore(session, ctx, artifact_id, mode, *, urgent=False, reason="", target_name=""):
    """A department asks the vendor to restore one of its backups (the vendor's warrant, 第十八条);
    nothing runs until the vendor starts it (carry_out_restore). Audited, committed."""
    user = ctx.actor
    _role(user, (Role.DEPARTMENT,))
    artifact = get_artifact(session, user, artifact_id)
    if mode not in restore_modes(artifact):
        raise ValidationFailed(_l("This kind of backup cannot be restored that way."), field="mode")
    reason = _text(reason, "reason", message=_l("Say what the vendor is to restore and why."))
    if artifact.status != ArtifactStatus.AVAILABLE:
        raise WrongState(_l("Only an available backup can be restored."))
    now = utcnow()
    job = RestoreJob(artifact_id=artifact.id, department_id=artifact.department_id, system_id=artifact.system_id,
                     mode=mode, urgent=bool(urgent), reason=reason, state=RestoreState.REQUESTED,
                     requested_by_id=user.id, requested_at=now)
    session.add(job)
    session.flush()
    job.target_name = _text(target_name, "target_name", required=False) or \
        f"restore-{job.id}-{artifact.source_key.split(':')[-1]}"
    record_event(session, ctx, "backup.restore.request", object_type="restore_job", object_id=job.id,
                 department_id=job.department_id, after={**job.snapshot(), "source": artifact.source_key,
                                                         "reason": reason},
                 detail="urgent" if job.urgent else "")
    session.commit()
    return job


def _requested(session, user, restore_id):
    job = get_restore(session, user, restore_id)
    if job.state != RestoreState.REQUESTED:
        raise WrongState(_l("This restore is not waiting for the vendor."))
    return job


def carry_out_restore(session, ctx, cloud, restore_id, settings=None):
    """The vendor starts a restore the department requested; audited with the request it carries out."""
    from backup import restore
    _role(ctx.actor, (Role.VENDOR,))
    return restore.start_requested(session, ctx, cloud, _requested(session, ctx.actor, restore_id),
                                   settings=settings)


def withdraw_restore(session, ctx, restore_id):
    """The department withdraws its request before the vendor started it."""
    _role(ctx.actor, (Role.DEPARTMENT,))
    job = _requested(session, ctx.actor, restore_id)
    transition(session, ctx, RESTORES, job, "withdraw")
    session.commit()
    return job


def list_restores(session, user, *, state="", page=1, per_page=20):
    """Return one page of the restores user may see (in state, when given), newest first."""
    stmt = scoped(select(RestoreJob), user).order_by(RestoreJob.requested_at.desc(), RestoreJob.id.desc())
    if state:
        stmt = stmt.where(RestoreJob.state == state)
    return paginate(session, stmt, page, per_page)


def get_restore(session, user, restore_id):
    """Return a restore user may see, or raise NotFound."""
    return get_scoped(session, RestoreJob, restore_id, user, kind=_l("Restore"))


# -- extractions (备份数据提取): apply, decide, link, download ---------------------------------------

def list_extractions(session, user, *, state="", page=1, per_page=20):
    """Return one page of the extraction applications user may see, newest first."""
    stmt = scoped(select(BackupExtraction), user)
    if state:
        stmt = stmt.where(BackupExtraction.state == state)
    return paginate(session, stmt.order_by(BackupExtraction.requested_at.desc(), BackupExtraction.id.desc()),
                    page, per_page)


def get_extraction(session, user, extraction_id):
    """Return an extraction user may see, or raise NotFound."""
    return get_scoped(session, BackupExtraction, extraction_id, user, kind=_l("Extraction"))


def apply_extraction(session, ctx, artifact_id, reason):
    """A department applies to take one of its backups out as a file; the bureau decides."""
    user = ctx.actor
    _role(user, (Role.DEPARTMENT,))
    artifact = get_artifact(session, user, artifact_id)
    reason = _text(reason, "reason", message=_l("Say why the data is to be extracted."))
    if artifact.status != ArtifactStatus.AVAILABLE:
        raise WrongState(_l("Only an available backup can be extracted."))
    open_ = session.scalar(select(BackupExtraction.id).where(BackupExtraction.artifact_id == artifact.id,
                                                             BackupExtraction.state.in_(OPEN_EXTRACTION)))
    if open_ is not None:
        raise ValidationFailed(_l("An extraction of this backup is already open."))
    extraction = BackupExtraction(artifact_id=artifact.id, department_id=artifact.department_id, reason=reason,
                                  state=ExtractionState.APPLIED, requested_by_id=user.id, requested_at=utcnow())
    session.add(extraction)
    session.flush()
    record_event(session, ctx, "backup.extraction.apply", object_type="backup_extraction", object_id=extraction.id,
                 department_id=extraction.department_id, after={**extraction.snapshot(), "reason": reason,
                                                                "artifact": artifact.snapshot()})
    session.commit()
    return extraction


def decide_extraction(session, ctx, cloud, extraction_id, approve, comment, settings=None):
    """The bureau approves (the export is started at once) or rejects an extraction, with a reason."""
    from backup import export
    user = ctx.actor
    _role(user, DECIDERS)
    extraction = get_extraction(session, user, extraction_id)
    comment = _text(comment, "comment", message=_l("Give the reason of the decision."))
    action = "approve" if approve else "reject"
    if not EXTRACTIONS.can(extraction.state, action):
        raise WrongState(_l("This extraction has been decided already."))

    def decided(extraction, now):
        extraction.decided_by_id = user.id
        extraction.decided_at = now
        extraction.decision_comment = comment
    transition(session, ctx, EXTRACTIONS, extraction, action, detail=comment, effects=decided)
    session.commit()
    if approve:
        export.start_export(session, ctx, cloud, extraction, settings)
        if extraction.state == ExtractionState.APPROVED:  # a snapshot image is ready at once
            export.advance_export(session, ctx, cloud, extraction, settings)
    return extraction


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def issue_link(session, ctx, extraction_id, now=None):
    """Make the download link of a ready extraction for its department; return the token (shown once).

    A new link replaces the previous one. The link works until the extraction's expires_at.
    """
    user = ctx.actor
    _role(user, (Role.DEPARTMENT,))
    extraction = get_extraction(session, user, extraction_id)
    now = now or utcnow()
    if extraction.state != ExtractionState.READY:
        raise ValidationFailed(_l("A download link is made only after the bureau approved the extraction and "
                                  "the file is prepared."))
    if extraction.expires_at is None or extraction.expires_at <= now:
        raise LinkGone()
    token = secrets.token_urlsafe(32)
    replaced = extraction.token_hash is not None
    extraction.token_hash = _hash(token)
    record_event(session, ctx, "backup.extraction.link", object_type="backup_extraction", object_id=extraction.id,
                 department_id=extraction.department_id,
                 after={"expires_at": extraction.expires_at.isoformat(), "replaced": replaced})
    session.commit()
    return token


def open_download(session, ctx, cloud, token, now=None):
    """Check a download link, count and audit its use; return (extraction, size or None, chunks).

    Raises LinkUnknown (404) for a token that is not a ready link of the user's department, and
    LinkGone (410) once the extraction expired.
    """
    from backup import export
    user = ctx.actor
    now = now or utcnow()
    token = (token or "").strip()
    extraction = None
    if user is not None and user.role == Role.DEPARTMENT and 20 <= len(token) <= 100:
        extraction = session.scalar(select(BackupExtraction).where(BackupExtraction.token_hash == _hash(token)))
    if extraction is None or extraction.department_id != user.department_id:
        if user is not None:
            record_event(session, ctx, "backup.extraction.download", object_type="backup_extraction",
                         outcome="denied", detail="unknown link")
            session.commit()
        raise LinkUnknown()
    if extraction.state != ExtractionState.READY or extraction.expires_at is None or extraction.expires_at <= now:
        record_event(session, ctx, "backup.extraction.download", object_type="backup_extraction",
                     object_id=extraction.id, department_id=extraction.department_id, outcome="denied",
                     detail="expired")
        session.commit()
        raise LinkGone()
    try:
        size, chunks = export.open_export(session, cloud, extraction)
    except ProvisioningError as exc:
        log.warning("extraction=%s export not readable: %s", extraction.id, exc)
        raise ExportUnavailable() from None
    extraction.download_count += 1
    extraction.last_downloaded_at = now
    record_event(session, ctx, "backup.extraction.download", object_type="backup_extraction",
                 object_id=extraction.id, department_id=extraction.department_id,
                 after={"download_count": extraction.download_count, "bytes": size})
    session.commit()
    return extraction, size, chunks


# -- figures --------------------------------------------------------------------------------------

def monthly_counts(session, start, end):
    """Return {department id: {"backups_run", "backups_failed", "backups_verified"}} of runs finished and
    backups verified in [start, end) (the 月度汇总报备)."""
    out = {}

    def bump(dept_id, key, n):
        out.setdefault(dept_id, {"backups_run": 0, "backups_failed": 0, "backups_verified": 0})[key] += n

    for dept_id, state, n in session.execute(
            select(BackupRun.department_id, BackupRun.state, func.count(BackupRun.id))
            .where(BackupRun.finished_at >= start, BackupRun.finished_at < end,
                   BackupRun.state.in_((RunState.SUCCEEDED, RunState.FAILED)))
            .group_by(BackupRun.department_id, BackupRun.state)):
        bump(dept_id, "backups_run" if state == RunState.SUCCEEDED else "backups_failed", n)
    for dept_id, n in session.execute(
            select(BackupArtifact.department_id, func.count(BackupArtifact.id))
            .where(BackupArtifact.verified_at >= start, BackupArtifact.verified_at < end,
                   BackupArtifact.verify_outcome == VerifyOutcome.OK)
            .group_by(BackupArtifact.department_id)):
        bump(dept_id, "backups_verified", n)
    return out

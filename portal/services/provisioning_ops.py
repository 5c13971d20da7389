"""Operator actions on a failed provisioning (roll back, mark resolved) and the reconciler's findings."""
from sqlalchemy import select

from ..database import utcnow
from ..errors import Forbidden, ValidationFailed, WrongState
from ..models.accounts import Department, Role
from ..models.reconcile import ReconcileFinding, ReconcileRun
from ..models.requests import ProvisioningJob
from ..pagination import paginate
from ..text import _l
from ..workflow import REQUESTS, JobAction, JobState, RequestState
from .transitions import transition
from .resource_requests import get_request

OPERATORS = (Role.VENDOR, Role.ADMIN)
READERS = (Role.VENDOR, Role.BUREAU, Role.ADMIN, Role.AUDITOR)
MAX_COMMENT = 4000

SUGGESTION_LABELS = {
    "delete_orphan": _l("Delete the orphaned resource in the cloud"),
    "rollback": _l("Roll back the failed request"),
    "reprovision": _l("Run the system's provisioning again"),
    "repair": _l("Repair or rebuild the resource by hand, then run the provisioning again"),
    "fix_quota": _l("Set the project's quota to the approved allocation"),
}
FINDING_KIND_LABELS = {
    "orphan": _l("Orphaned resource"),
    "drift": _l("Drift"),
    "quota": _l("Quota mismatch"),
}
PROBLEM_LABELS = {
    "no_owner": _l("No live request owns it"),
    "unrecorded": _l("Created for a failed request but never recorded"),
    "missing": _l("Gone from the cloud"),
    "error": _l("In the ERROR state"),
    "flavor": _l("Flavor differs from the approved one"),
    "size": _l("Size differs from the approved one"),
    "quota": _l("Quota differs from the approved allocation"),
}


def enqueue_job(session, request):
    """Add the durable provisioning job of an approved request (once); a green-channel request's
    job comes first in the queue (第二十四条)."""
    existing = session.scalar(select(ProvisioningJob).where(ProvisioningJob.request_id == request.id,
                                                            ProvisioningJob.state.in_([JobState.QUEUED, JobState.RUNNING])))
    if existing is not None:
        return existing
    job = ProvisioningJob(request_id=request.id, department_id=request.department_id, state=JobState.QUEUED,
                          available_at=utcnow(), priority=1 if request.urgent else 0)
    session.add(job)
    return job


def _require_operator(user):
    if user is None or user.role not in OPERATORS:
        raise Forbidden()


def rollback_request(session, ctx, request_id):
    """Queue the rollback of a failed request (vendor, admin): the worker deletes what it created."""
    _require_operator(ctx.actor)
    request = get_request(session, ctx.actor, request_id)
    if request.state != RequestState.FAILED:
        raise WrongState(_l("Only failed requests can be rolled back."))
    transition(session, ctx, REQUESTS, request, "roll_back")
    session.add(ProvisioningJob(request_id=request.id, department_id=request.department_id, state=JobState.QUEUED,
                                action=JobAction.ROLLBACK, available_at=utcnow()))
    session.commit()
    return request


def resolve_request(session, ctx, request_id, comment):
    """Close a failed request that the vendor handled outside the portal; the comment is required."""
    _require_operator(ctx.actor)
    comment = (comment or "").strip()
    if not comment:
        raise ValidationFailed(_l("Say how the failure was handled."), field="comment")
    if len(comment) > MAX_COMMENT:
        raise ValidationFailed(_l("The comment is too long."), field="comment")
    request = get_request(session, ctx.actor, request_id)
    if request.state != RequestState.FAILED:
        raise WrongState(_l("Only failed requests can be marked as resolved."))
    transition(session, ctx, REQUESTS, request, "resolve", detail=comment, after={"resolution": comment})
    request.resolution = comment
    session.commit()
    return request


def latest_reconcile(session, user, *, kind=""):
    """Return (latest run, latest successful run, its findings, department names) for the page.

    A run that could not list the cloud keeps the previous findings (they are only replaced by a
    successful run), so the page shows both: when it last ran, and what it last found.
    """
    if user is None or user.role not in READERS:
        raise Forbidden()
    order = (ReconcileRun.started_at.desc(), ReconcileRun.id.desc())
    run = session.scalar(select(ReconcileRun).order_by(*order).limit(1))
    ok = session.scalar(select(ReconcileRun).where(ReconcileRun.error == "").order_by(*order).limit(1))
    stmt = select(ReconcileFinding)
    if kind:
        stmt = stmt.where(ReconcileFinding.kind == kind)
    findings = list(session.scalars(stmt.order_by(ReconcileFinding.kind, ReconcileFinding.department_id,
                                                  ReconcileFinding.resource_kind, ReconcileFinding.name)))
    names = dict(session.execute(select(Department.id, Department.name)).all())
    return run, ok, findings, names


def list_jobs(session, user, *, state="", page=1, per_page=20):
    """Return the provisioning jobs (vendor and bureau), newest first."""
    if user.role not in READERS:
        raise Forbidden()
    stmt = select(ProvisioningJob)
    if state:
        stmt = stmt.where(ProvisioningJob.state == state)
    return paginate(session, stmt.order_by(ProvisioningJob.id.desc()), page, per_page)


def retry_job(session, ctx, request_id):
    """Queue a failed request again (vendor): the steps resume where they stopped."""
    if ctx.actor.role not in OPERATORS:
        raise Forbidden()
    request = get_request(session, ctx.actor, request_id)
    if request.state != RequestState.FAILED:
        raise WrongState(_l("Only failed requests can be retried."))
    transition(session, ctx, REQUESTS, request, "retry")
    request.failure_message = ""
    enqueue_job(session, request)
    session.commit()
    return request

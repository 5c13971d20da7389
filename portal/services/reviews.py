"""Bureau side of resource requests: the queue, approve (with adjustments), reject, return, green channel."""
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..database import utcnow
from ..errors import Forbidden, ValidationFailed, WrongState
from ..models.accounts import Role
from ..models.requests import RequestVersion, ResourceRequest
from ..pagination import paginate
from ..specs import EMPTY_SPEC, apply_adjustment, diff_specs, normalize_spec, validate_spec
from ..text import _l
from ..workflow import IN_REVIEW, REQUESTS, RequestKind
from .audit import record_event
from .decommission_guard import require_cleared
from .provisioning_ops import enqueue_job
from .resource_requests import current_spec, get_request, require_documents
from .transitions import transition

REVIEWERS = (Role.BUREAU,)
CAPACITY_LABELS = {"vcpu": _l("vCPU (cores)"), "memory": _l("Memory (GB)"), "root_disk": _l("System disks (GB)"),
                   "volume": _l("Volumes (GB)")}


def _require_reviewer(user):
    if user is None or user.role not in REVIEWERS:
        raise Forbidden()


def review_queue(session, user, *, page=1, per_page=20, state=""):
    """Return the requests waiting for the bureau (oldest first), or those in state."""
    _require_reviewer(user)
    states = [state] if state else list(IN_REVIEW)
    stmt = (select(ResourceRequest).where(ResourceRequest.state.in_(states))
            .order_by(ResourceRequest.urgent.desc(), ResourceRequest.submitted_at, ResourceRequest.id)
            .options(joinedload(ResourceRequest.department)))
    return paginate(session, stmt, page, per_page)


def start_review(session, ctx, request_id):
    """Take a submitted request into review (审核中)."""
    _require_reviewer(ctx.actor)
    request = get_request(session, ctx.actor, request_id)
    transition(session, ctx, REQUESTS, request, "start_review")
    session.commit()
    return request


def _desired(request):
    return normalize_spec(EMPTY_SPEC) if request.kind == RequestKind.DECOMMISSION else normalize_spec(request.spec)


def approve_request(session, ctx, request_id, catalog, *, counts=None, volume_sizes=None, floating_ips=None,
                    comment=""):
    """Approve a request, optionally with adjusted quantities (the difference is kept), and queue it."""
    _require_reviewer(ctx.actor)
    request = get_request(session, ctx.actor, request_id)
    REQUESTS.next_state(request.state, "approve")  # a wrong state (409) is said before what is missing
    require_documents(request)  # 附件1: never approved without its construction plan and self-test report
    desired = _desired(request)
    approved = apply_adjustment(desired, counts, volume_sizes, floating_ips)
    if request.kind != RequestKind.DECOMMISSION:
        problems = validate_spec(approved, catalog)
        if problems:
            raise ValidationFailed(problems[0][1])
        if request.kind == RequestKind.CHANGE:  # 第十条(二): a change that removes servers or volumes too
            require_cleared(session, request, current_spec(session, request.system_root_id), approved)
    else:
        require_cleared(session, request)  # 第十条(二): backed up or migrated first
    adjustment = diff_specs(desired, approved)
    transition(session, ctx, REQUESTS, request, "approve", detail=comment,
               after={"adjustment": adjustment} if adjustment else None)
    request.approved_spec = approved
    request.adjustment = adjustment
    request.review_comment = comment
    request.reviewed_by_id = ctx.actor.id
    request.approved_at = utcnow()
    enqueue_job(session, request)
    session.commit()
    return request


def reject_request(session, ctx, request_id, reason):
    """Reject a request; the reason (驳回理由) is required."""
    _require_reviewer(ctx.actor)
    if not (reason or "").strip():
        raise ValidationFailed(_l("A reason is required to reject a request."), field="comment")
    request = get_request(session, ctx.actor, request_id)
    transition(session, ctx, REQUESTS, request, "reject", detail=reason.strip())
    request.review_comment = reason.strip()
    request.reviewed_by_id = ctx.actor.id
    session.commit()
    return request


def return_request(session, ctx, request_id, comment):
    """Send a request back to the department for revision; the comment (退回意见) is required."""
    _require_reviewer(ctx.actor)
    if not (comment or "").strip():
        raise ValidationFailed(_l("A comment is required to return a request for revision."), field="comment")
    request = get_request(session, ctx.actor, request_id)
    transition(session, ctx, REQUESTS, request, "return", detail=comment.strip())
    request.review_comment = comment.strip()
    request.reviewed_by_id = ctx.actor.id
    version = session.scalar(select(RequestVersion).where(RequestVersion.request_id == request.id,
                                                          RequestVersion.version == request.version))
    if version is not None:
        version.review_comment = comment.strip()
    session.commit()
    return request


def green_channel(session, ctx, request_id, catalog, reason):
    """Provision an urgent request at once (第二十四条); the approval is completed afterwards."""
    _require_reviewer(ctx.actor)
    if not (reason or "").strip():
        raise ValidationFailed(_l("Say why the request is urgent."), field="comment")
    request = get_request(session, ctx.actor, request_id)
    REQUESTS.next_state(request.state, "green_channel")
    if request.kind == RequestKind.DECOMMISSION:  # 第二十四条 is for urgent needs, never for deleting
        raise ValidationFailed(_l("A decommission does not take the green channel: approve it after the review."))
    require_documents(request)
    approved = _desired(request)
    if request.kind != RequestKind.DECOMMISSION and validate_spec(approved, catalog):
        raise ValidationFailed(validate_spec(approved, catalog)[0][1])
    if request.kind == RequestKind.CHANGE:
        require_cleared(session, request, current_spec(session, request.system_root_id), approved)
    transition(session, ctx, REQUESTS, request, "green_channel", detail=reason.strip(), after={"urgent": True})
    request.urgent = True
    request.approved_spec = approved
    request.adjustment = []
    request.review_comment = reason.strip()
    request.reviewed_by_id = ctx.actor.id
    enqueue_job(session, request)  # approved_at stays empty until the approval is completed
    session.commit()
    return request


def complete_green_approval(session, ctx, request_id, comment=""):
    """Record the approval that follows a green-channel provisioning."""
    _require_reviewer(ctx.actor)
    request = get_request(session, ctx.actor, request_id)
    if not request.urgent or request.approved_at is not None:
        raise WrongState(_l("This request has no approval to complete."))
    request.approved_at = utcnow()
    record_event(session, ctx, "request.green_approval", object_type="resource_request", object_id=request.id,
                 department_id=request.department_id, after={"approved_at": request.approved_at.isoformat()},
                 detail=comment)
    session.commit()
    return request


def capacity_check(capacity, allocation, root_gb=0):
    """Return rows (resource, unit, needed, free, enough) comparing a request's need to the cloud's free
    capacity, in the units people read: vCPU in cores, memory and disk in GB. Disk is the servers' root
    disks against Placement's DISK_GB plus the volumes against the block storage's free GB."""
    def free_of(rc, divisor=1):
        free = capacity.get(rc, {}).get("free")
        return None if free is None else free // divisor

    rows = [("vcpu", allocation["cores"], free_of("VCPU")),
            ("memory", memory_gb(allocation["ram"]), free_of("MEMORY_MB", 1024)),
            ("root_disk", root_gb, free_of("DISK_GB")),
            ("volume", allocation["gigabytes"], free_of("VOLUME_GB"))]
    return [{"resource": name, "needed": need, "free": free, "enough": free is None or need <= free}
            for name, need, free in rows]


def memory_gb(megabytes):
    """MB of memory as GB, rounded up to a whole GB when not exact (512 MB: 0.5)."""
    return megabytes // 1024 if megabytes % 1024 == 0 else round(megabytes / 1024, 1)

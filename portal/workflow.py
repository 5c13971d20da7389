"""The life of a resource request as data: states, allowed transitions, and the one function that moves it."""
from enum import StrEnum

from .database import utcnow
from .errors import ValidationFailed
from .text import _l


class RequestKind(StrEnum):
    NEW = "new"  # 政务云资源需求申请 (附件1)
    CHANGE = "change"  # 资源变更申请 (附件2)
    DECOMMISSION = "decommission"  # 资源注销 (附件2)


class RequestState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    RETURNED = "returned"
    APPROVED = "approved"
    REJECTED = "rejected"
    PROVISIONING = "provisioning"
    PROVISIONED = "provisioned"
    FAILED = "failed"
    DELIVERED = "delivered"  # the department signed the receipt (签收)
    CANCELLED = "cancelled"
    # a failed provisioning closed by the vendor (issue 5): rolled back by the worker, or handled by hand
    ROLLING_BACK = "rolling_back"
    ROLLED_BACK = "rolled_back"
    RESOLVED = "resolved"


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # expected: a person must act (quota, no valid host, bad image)
    ERRORED = "errored"  # a bug: traceback stored


class JobAction(StrEnum):
    PROVISION = "provision"  # make the cloud match the request
    ROLLBACK = "rollback"  # delete what the failed request created


S = RequestState
# (from, action) -> to
TRANSITIONS = {
    (S.DRAFT, "submit"): S.SUBMITTED,
    (S.RETURNED, "submit"): S.SUBMITTED,
    (S.DRAFT, "cancel"): S.CANCELLED,
    (S.RETURNED, "cancel"): S.CANCELLED,
    (S.SUBMITTED, "start_review"): S.UNDER_REVIEW,
    (S.SUBMITTED, "approve"): S.APPROVED,
    (S.UNDER_REVIEW, "approve"): S.APPROVED,
    (S.SUBMITTED, "reject"): S.REJECTED,
    (S.UNDER_REVIEW, "reject"): S.REJECTED,
    (S.SUBMITTED, "return"): S.RETURNED,
    (S.UNDER_REVIEW, "return"): S.RETURNED,
    # 绿色通道: provisioned first, the approval is completed afterwards
    (S.SUBMITTED, "green_channel"): S.APPROVED,
    (S.UNDER_REVIEW, "green_channel"): S.APPROVED,
    (S.APPROVED, "start_provisioning"): S.PROVISIONING,
    (S.FAILED, "retry"): S.PROVISIONING,
    (S.PROVISIONING, "finish"): S.PROVISIONED,
    (S.PROVISIONING, "fail"): S.FAILED,
    (S.PROVISIONED, "confirm_receipt"): S.DELIVERED,
    # operator actions on a failed provisioning (issue 5); a failed rollback can be tried again
    (S.FAILED, "roll_back"): S.ROLLING_BACK,
    (S.ROLLING_BACK, "finish_rollback"): S.ROLLED_BACK,
    (S.ROLLING_BACK, "rollback_failed"): S.FAILED,
    (S.FAILED, "resolve"): S.RESOLVED,
}
EDITABLE = frozenset({S.DRAFT, S.RETURNED})
IN_REVIEW = frozenset({S.SUBMITTED, S.UNDER_REVIEW})
TERMINAL = frozenset({S.REJECTED, S.CANCELLED, S.DELIVERED, S.ROLLED_BACK, S.RESOLVED})
# no longer open: nothing more happens to the request (a system with only these is not pending)
SETTLED = frozenset({S.PROVISIONED, S.DELIVERED, S.REJECTED, S.CANCELLED, S.ROLLED_BACK, S.RESOLVED})
# a system whose last request is in one of these still holds (or is about to hold) resources
LIVE = frozenset({S.APPROVED, S.PROVISIONING, S.PROVISIONED, S.FAILED, S.DELIVERED})

STATE_LABELS = {
    S.DRAFT: _l("Draft"),
    S.SUBMITTED: _l("Submitted"),
    S.UNDER_REVIEW: _l("Under review"),
    S.RETURNED: _l("Returned for revision"),
    S.APPROVED: _l("Approved"),
    S.REJECTED: _l("Rejected"),
    S.PROVISIONING: _l("Provisioning"),
    S.PROVISIONED: _l("Provisioned"),
    S.FAILED: _l("Provisioning failed"),
    S.DELIVERED: _l("Receipt confirmed"),
    S.CANCELLED: _l("Cancelled"),
    S.ROLLING_BACK: _l("Rolling back"),
    S.ROLLED_BACK: _l("Rolled back"),
    S.RESOLVED: _l("Resolved by hand"),
}
KIND_LABELS = {
    RequestKind.NEW: _l("Resource request"),
    RequestKind.CHANGE: _l("Change request"),
    RequestKind.DECOMMISSION: _l("Decommission"),
}
JOB_STATE_LABELS = {
    JobState.QUEUED: _l("Queued"),
    JobState.RUNNING: _l("Running"),
    JobState.SUCCEEDED: _l("Succeeded"),
    JobState.FAILED: _l("Failed"),
    JobState.ERRORED: _l("Errored"),
}
JOB_ACTION_LABELS = {
    JobAction.PROVISION: _l("Provision"),
    JobAction.ROLLBACK: _l("Roll back"),
}


class TransitionNotAllowed(ValidationFailed):
    """The request is not in a state where this action applies."""

    http_status = 409

    def __init__(self, state, action):
        self.state = state
        self.action = action
        super().__init__(_l("This action is not possible while the request is %(state)s.",
                            state=STATE_LABELS.get(state, state)))


def next_state(state, action):
    """Return the state action leads to from state, or raise TransitionNotAllowed."""
    try:
        return TRANSITIONS[(RequestState(state), action)]
    except (KeyError, ValueError):
        raise TransitionNotAllowed(state, action) from None


def allowed_actions(state):
    """Return the actions possible from state."""
    return {action for (src, action) in TRANSITIONS if src == state}


def transition(session, ctx, request, action, *, detail="", after=None, actor=None):
    """Move request by action: validate, stamp the time, and add the audit event (same transaction)."""
    from .services.audit import record_event

    before = request.state
    target = next_state(before, action)
    now = utcnow()
    request.state = target
    request.state_changed_at = now
    if target == S.SUBMITTED:
        request.submitted_at = now
    elif target == S.PROVISIONED:
        request.provisioned_at = now
    record_event(session, ctx, f"request.{action}", object_type="resource_request", object_id=request.id,
                 department_id=request.department_id, before={"state": before},
                 after={"state": target, **(after or {})}, detail=detail, actor=actor)
    return target

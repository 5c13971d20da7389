"""The life of a resource request as data: states, allowed transitions, labels (pure: services.transitions moves it)."""
from enum import StrEnum

from .statemachine import StateMachine, TransitionNotAllowed  # noqa: F401  (raised by next_state)
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


REQUESTS = StateMachine("request", "resource_request", TRANSITIONS, STATE_LABELS, kind=_l("request"),
                        stamps={S.SUBMITTED: "submitted_at", S.PROVISIONED: "provisioned_at"},
                        changed_at="state_changed_at")
JOBS = StateMachine("job", "provisioning_job", {
    (JobState.QUEUED, "claim"): JobState.RUNNING,
    (JobState.RUNNING, "claim"): JobState.RUNNING,  # an expired lease taken over
    (JobState.RUNNING, "requeue"): JobState.QUEUED,
    (JobState.RUNNING, "succeed"): JobState.SUCCEEDED,
    (JobState.RUNNING, "fail"): JobState.FAILED,
    (JobState.RUNNING, "error"): JobState.ERRORED,
}, JOB_STATE_LABELS, kind=_l("job"))


# carried out in the cloud: what a system's resources are follows from the last of these
EXECUTED = frozenset({S.PROVISIONED, S.DELIVERED})
DECOMMISSIONED = _l("Decommissioned")  # 已注销: a decommission carried out (provisioned or signed)


def state_label(kind, state):
    """Return what a request of kind in state is called: a decommission carried out is 已注销, not 已开通."""
    if kind == RequestKind.DECOMMISSION and state in EXECUTED:
        return DECOMMISSIONED
    return STATE_LABELS.get(state, state)


def next_state(state, action):
    """Return the state action leads to from state, or raise TransitionNotAllowed."""
    return REQUESTS.next_state(state, action)


def allowed_actions(state):
    """Return the actions possible from state."""
    return REQUESTS.allowed_actions(state)

"""A request's provisioning progress as people read it: the step in words and how far the job is."""
from sqlalchemy import or_, select

from ..models.requests import CloudResource, ProvisioningJob
from ..specs import EMPTY_SPEC
from ..steps import DELETE_ORDER, ROLLBACK_PLAN, planned_steps, progress, step_label
from ..text import _l
from ..workflow import JOB_STATE_LABELS, STATE_LABELS, JobAction, JobState, RequestKind
from .resource_requests import get_request

OPEN_JOB_STATES = (JobState.QUEUED, JobState.RUNNING)
FAILED_JOB_STATES = (JobState.FAILED, JobState.ERRORED)


def _decommissioned(session, request, job):
    """Return the keys of the system's resources a decommission job deletes, in the runner's order
    (those it has deleted already too)."""
    rows = session.execute(select(CloudResource.kind, CloudResource.key).where(
        CloudResource.system_id == request.system_root_id, CloudResource.kind.in_(DELETE_ORDER),
        or_(CloudResource.deleted.is_(False), CloudResource.updated_at >= job.created_at))
        .order_by(CloudResource.id)).all()
    return [key for kind in DELETE_ORDER for k, key in rows if k == kind]


def job_plan(session, request, job):
    """Return the step names job takes for request, in order."""
    if job.action == JobAction.ROLLBACK:
        return list(ROLLBACK_PLAN)
    if request.kind == RequestKind.DECOMMISSION:
        return planned_steps(EMPTY_SPEC, request.system_root_id, _decommissioned(session, request, job))
    return planned_steps(request.approved_spec or EMPTY_SPEC, request.system_root_id)


def job_progress(session, request, job):
    """Return the progress of one job of request as plain values (the bar, the JSON endpoint)."""
    finished = job.state not in OPEN_JOB_STATES
    done, total, percent = progress(job_plan(session, request, job), job.current_step,
                                    finished=job.state == JobState.SUCCEEDED)
    if job.state == JobState.QUEUED and not job.current_step:
        label = ""
    else:
        label = step_label(job.current_step)
    return {"job_id": job.id, "action": job.action, "attempts": job.attempts, "job_state": job.state,
            "job_state_label": str(JOB_STATE_LABELS[job.state]), "step": job.current_step, "step_label": label,
            "steps_done": done, "steps_total": total, "percent": percent, "finished": finished,
            "count_label": str(_l("Step %(done)d of %(total)d", done=min(done + 1, total), total=total)),
            "failed": job.state in FAILED_JOB_STATES}


def request_progress(session, user, request_id):
    """Return the progress of the request's newest job as user may see it (NotFound otherwise)."""
    request = get_request(session, user, request_id)
    job = session.scalars(select(ProvisioningJob).where(ProvisioningJob.request_id == request.id)
                          .order_by(ProvisioningJob.id.desc()).limit(1)).first()
    out = {"request_state": request.state, "request_state_label": str(STATE_LABELS[request.state])}
    if job is None:
        return {**out, "job_id": None, "finished": True, "failed": False, "percent": 0, "step": "",
                "step_label": "", "steps_done": 0, "steps_total": 0, "job_state": None, "job_state_label": "",
                "count_label": ""}
    return {**out, **job_progress(session, request, job)}

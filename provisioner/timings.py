"""Durations of provisioning steps, kept in the database so /metrics of any process sees them.

JobRunner.step() calls `step_started` as a step begins: the step before it ends then. The last step
ends when the job leaves `running` (succeeded, failed, queued again): an attribute event on
ProvisioningJob.state closes it. A step cut short by a dead worker is not timed (the job's next
claim forgets it). Kinds are portal/steps.py's small fixed set, never a resource key (bounded metric
labels).
"""
from sqlalchemy import event
from sqlalchemy.orm import object_session

from portal.database import utcnow
from portal.models.reconcile import ProvisioningStep
from portal.models.requests import ProvisioningJob
from portal.steps import step_kind
from portal.workflow import JobState


def _close(session, job, now):
    if job.step_started_at is not None and job.current_step:
        seconds = max((now - job.step_started_at).total_seconds(), 0.0)
        session.add(ProvisioningStep(job_id=job.id, kind=step_kind(job.current_step), seconds=seconds,
                                     finished_at=now))
    job.step_started_at = None


def step_started(session, job, name):
    """Close the job's previous step (its duration is stored) and start timing `name`; not committed."""
    now = utcnow()
    _close(session, job, now)
    job.step_started_at = now


@event.listens_for(ProvisioningJob.state, "set")
def _state_set(job, value, oldvalue, _initiator):
    """A job that leaves `running` ends its last step; a job claimed again forgets a step cut short."""
    session = object_session(job)
    if session is None or job.id is None:
        return
    if value == JobState.RUNNING:
        job.step_started_at = None
    elif value != oldvalue:
        _close(session, job, utcnow())

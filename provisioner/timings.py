"""Durations of provisioning steps, kept in the database so /metrics of any process sees them.

JobRunner.step() calls `step_started` as a step begins: the step before it ends then. The last step
ends when the job leaves `running` (succeeded, failed, queued again): an attribute event on
ProvisioningJob.state closes it. A step cut short by a dead worker is not timed (the job's next
claim forgets it). Kinds are a small fixed set, never a resource key (bounded metric labels).
"""
from sqlalchemy import event
from sqlalchemy.orm import object_session

from portal.database import utcnow
from portal.models.reconcile import ProvisioningStep
from portal.models.requests import ProvisioningJob
from portal.workflow import JobState

KINDS = ("project", "quotas", "router", "router_interface", "network", "subnet", "sg", "sg_rules", "keypair",
         "server", "server_wait", "server_resize", "volume", "volume_extend", "volume_attach", "fip", "delete",
         "receipt", "rollback", "other")
_FIRST = {"project": "project", "quotas": "quotas", "router": "router", "router_interface": "router_interface",
          "network": "network", "subnet": "subnet", "sg": "sg", "keypair": "keypair", "server": "server",
          "volume": "volume", "fip": "fip", "delete": "delete", "receipt": "receipt", "rollback": "rollback"}
_LAST = {("sg", "rules"): "sg_rules", ("server", "wait"): "server_wait", ("server", "resize"): "server_resize",
         ("volume", "extend"): "volume_extend", ("volume", "attach"): "volume_attach"}


def step_kind(name):
    """Return the kind of a step name: `server:R12:web-1:wait` -> server_wait, `quotas:raise` -> quotas."""
    parts = (name or "").split(":")
    first = parts[0]
    if len(parts) > 2 and (first, parts[-1]) in _LAST:
        return _LAST[(first, parts[-1])]
    return _FIRST.get(first, "other")


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

"""The provisioning job protocol: claim with a lease, run, settle.

A claimed job ends in one of four ways, the same for every kind of job (provisioning, rollback):
succeeded; requeued with backoff after a transient cloud error (at most MAX_ATTEMPTS claims);
failed (the cloud refused, or the attempts are used up); errored (a bug: traceback kept). What a
failure does to the request is the runner's own `fail()`; everything else is here.
"""
import logging
import os
import random
import socket
import traceback
from datetime import timedelta

from sqlalchemy import and_, or_, select, text

from portal.database import utcnow
from portal.models.requests import ProvisioningJob
from portal.workflow import JOBS, JobState

from . import errors

log = logging.getLogger(__name__)
LEASE_SECONDS = 600
MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 5
CLAIM_LOCK_KEY = 0x6763_6a6f62  # "gcjob": serializes claims, so the per-department check cannot race


def backoff(attempt, base):
    """Return the delay before retry number attempt (0-based): exponential, with jitter."""
    return base * 2 ** attempt * random.uniform(0.5, 1.5)


def default_worker_id():
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_job(session, worker_id, lease_seconds=LEASE_SECONDS):
    """Claim the next runnable job (queued and due, or running with an expired lease); None when idle."""
    now = utcnow()
    # one running job per department: its project, router and quotas are shared by its requests
    busy = (select(ProvisioningJob.department_id)
            .where(ProvisioningJob.state == JobState.RUNNING, ProvisioningJob.lease_expires_at >= now))
    stmt = (select(ProvisioningJob)
            .where(or_(and_(ProvisioningJob.state == JobState.QUEUED, ProvisioningJob.available_at <= now),
                       and_(ProvisioningJob.state == JobState.RUNNING, ProvisioningJob.lease_expires_at < now)),
                   ProvisioningJob.department_id.not_in(busy))
            .order_by(ProvisioningJob.available_at, ProvisioningJob.id).limit(1))
    if session.get_bind().dialect.name == "postgresql":
        # two workers could otherwise each see no running job of a department and claim two of its
        # jobs at once; the lock is held only until the claim commits
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK_KEY})
        stmt = stmt.with_for_update(skip_locked=True)
    job = session.scalars(stmt).first()
    if job is None:
        session.rollback()
        return None
    JOBS.apply(job, "claim", now)
    job.lease_owner = worker_id
    job.lease_expires_at = now + timedelta(seconds=lease_seconds)
    job.attempts += 1
    job.started_at = job.started_at or now
    session.commit()
    return job


def release_dead_leases(session, hostname=None):
    """Make jobs claimable again whose lease belongs to a dead worker process on this host.

    A worker killed on this machine (kill -9, reboot) would otherwise hold its jobs until the
    lease expires; workers on other hosts still wait for the expiry.
    """
    hostname = hostname or socket.gethostname()
    released = 0
    for job in session.scalars(select(ProvisioningJob).where(ProvisioningJob.state == JobState.RUNNING,
                                                             ProvisioningJob.lease_owner.like(f"{hostname}:%"))):
        pid = job.lease_owner.rsplit(":", 1)[1]
        alive = True
        if pid.isdigit():
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                alive = False
            except PermissionError:
                alive = True
        if not alive:
            job.lease_expires_at = utcnow()
            released += 1
    session.commit()
    return released


ENDINGS = {JobState.SUCCEEDED: "succeed", JobState.FAILED: "fail", JobState.ERRORED: "error"}


def close(job, state, message="", detail=""):
    """End a job in state (succeeded, failed, errored): lease released, the reason kept."""
    JOBS.apply(job, ENDINGS[state], utcnow())
    job.finished_at = utcnow()
    job.lease_owner = ""
    job.lease_expires_at = None
    job.error_message = message
    job.error_detail = detail


def requeue(job, exc):
    """Hand a job back to the queue after a transient error, due again after a backoff."""
    JOBS.apply(job, "requeue", utcnow())
    job.available_at = utcnow() + timedelta(seconds=backoff(job.attempts - 1, BACKOFF_SECONDS))
    job.lease_owner = ""
    job.error_message = exc.message
    job.error_detail = exc.detail


def settle(session, runner):
    """Run a claimed job's runner and settle its outcome; return the job's final state."""
    job = runner.job
    try:
        return runner.run()
    except errors.ProvisioningError as exc:
        session.rollback()
        if exc.transient and job.attempts < MAX_ATTEMPTS:
            requeue(job, exc)
            runner.audit("provisioning.retry_later", "provisioning_job", job.id, outcome="failure", detail=str(exc))
            session.commit()
        else:
            runner.fail(JobState.FAILED, exc.message, exc.detail)
    except Exception:  # a bug: kept apart from expected failures, traceback stored for the vendor
        session.rollback()
        log.exception("job=%s action=%s crashed", job.id, job.action)
        runner.fail(JobState.ERRORED, errors.CLOUD_UNAVAILABLE, traceback.format_exc())
    return job.state

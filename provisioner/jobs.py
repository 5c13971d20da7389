"""The provisioning job protocol: claim with a lease, run, settle.

A claimed job ends in one of four ways, the same for every kind of job (provisioning, rollback):
succeeded; requeued with backoff after a transient cloud error (attempts count failures, at most
MAX_ATTEMPTS; a takeover after a crash is no failure); failed (the cloud refused, or the attempts
are used up); errored (a bug: traceback kept). What a failure does to the request is the runner's
own `fail()`; everything else is here.

Green-channel jobs (第二十四条, priority 1) are claimed first; one running job per department still
holds. Each claim raises the job's lease_token, the fencing token: while a worker runs a job, its
`Lease` renews the lease every LEASE_SECONDS/3 from a thread of its own (a resize or a build
waiting on the cloud outlives no lease), and every commit of the worker's session first checks,
the job row locked, that the row still carries its token and that the lease has not run out in
the meantime. A worker stalled past its lease (SIGSTOP, a long pause) and resumed cannot commit:
LeaseLost, its transaction rolled back, the job left to the worker that took it over.
"""
import logging
import os
import random
import socket
import threading
import time
import traceback
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import and_, event, or_, select, text, update
from sqlalchemy.orm import Session

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
            .order_by(ProvisioningJob.priority.desc(), ProvisioningJob.available_at, ProvisioningJob.id).limit(1))
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
    job.lease_token += 1
    job.started_at = job.started_at or now
    session.commit()
    return job


class LeaseLost(Exception):
    """The job was taken over (its token raised) or this worker's lease ran out: no commit."""


class Lease:
    """A worker's hold on one claimed job: its fencing token, renewed while the job runs."""

    def __init__(self, engine, job, seconds=LEASE_SECONDS, *, started=None):
        self.engine = engine
        self.job_id = job.id
        self.token = job.lease_token
        self.seconds = seconds
        # monotonic, from before the claim: the lease surely lasts until then (a stopped process's
        # clock runs on, so a resumed worker sees at once that its lease is over)
        self.deadline = (time.monotonic() if started is None else started) + seconds - 1
        self._stop = threading.Event()

    def check(self, session):
        """Raise LeaseLost unless the row still carries our token and the lease has not run out;
        the row stays locked until the commit (PostgreSQL), so no claim comes in between."""
        if time.monotonic() >= self.deadline:
            raise LeaseLost(f"job {self.job_id}: lease ran out")
        stmt = select(ProvisioningJob.lease_token).where(ProvisioningJob.id == self.job_id)
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        if session.execute(stmt).scalar() != self.token:
            raise LeaseLost(f"job {self.job_id}: taken over")

    def renew(self):
        """Extend the lease in the database if it is still ours and unexpired; return whether it was."""
        started = time.monotonic()
        if started >= self.deadline:
            return False
        with Session(self.engine) as session:
            if session.get_bind().dialect.name == "postgresql":  # never wait long behind our own job's lock
                session.execute(text("SET LOCAL lock_timeout = '2s'"))
            now = utcnow()
            done = session.execute(update(ProvisioningJob).where(
                ProvisioningJob.id == self.job_id, ProvisioningJob.lease_token == self.token,
                ProvisioningJob.lease_expires_at >= now).values(
                lease_expires_at=now + timedelta(seconds=self.seconds))).rowcount
            session.commit()
        if done:
            self.deadline = started + self.seconds - 1
        return bool(done)

    def _renew_loop(self):
        while not self._stop.wait(self.seconds / 3):
            try:
                if not self.renew() and time.monotonic() >= self.deadline:
                    log.warning("job=%s lease lost (token %s)", self.job_id, self.token)
                    return
            except Exception as exc:  # a lock timeout or the database: try again at the next beat
                log.warning("job=%s lease not renewed: %s", self.job_id, str(exc).splitlines()[0])

    @contextmanager
    def held(self, session):
        """While the block runs: the lease is renewed, and session commits only under it."""
        def guard(sess):
            self.check(sess)

        event.listen(session, "before_commit", guard)
        beat = threading.Thread(target=self._renew_loop, name=f"lease-{self.job_id}", daemon=True)
        beat.start()
        try:
            yield self
        finally:
            self._stop.set()
            event.remove(session, "before_commit", guard)
            beat.join(5)


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
    """Hand a job back to the queue after a transient error (counted), due again after a backoff."""
    JOBS.apply(job, "requeue", utcnow())
    job.available_at = utcnow() + timedelta(seconds=backoff(job.attempts - 1, BACKOFF_SECONDS))
    job.lease_owner = ""
    job.error_message = exc.message
    job.error_detail = exc.detail


def settle(session, runner):
    """Run a claimed job's runner and settle its outcome; return the job's final state, or None
    when the lease was lost (the job belongs to another worker now: nothing of this run is kept
    after its last committed step)."""
    job = runner.job
    try:
        return _settle(session, runner, job)
    except LeaseLost as exc:
        session.rollback()
        log.warning("job=%s not settled by this worker: %s", job.id, exc)
        return None


def _settle(session, runner, job):
    try:
        return runner.run()
    except LeaseLost:
        raise
    except errors.ProvisioningError as exc:
        session.rollback()
        job.attempts += 1
        if exc.transient and job.attempts < MAX_ATTEMPTS:
            requeue(job, exc)
            runner.audit("provisioning.retry_later", "provisioning_job", job.id, outcome="failure", detail=str(exc))
            session.commit()
        else:
            runner.fail(JobState.FAILED, exc.message, exc.detail)
    except Exception:  # a bug: kept apart from expected failures, traceback stored for the vendor
        session.rollback()
        job.attempts += 1
        log.exception("job=%s action=%s crashed", job.id, job.action)
        runner.fail(JobState.ERRORED, errors.CLOUD_UNAVAILABLE, traceback.format_exc())
    return job.state

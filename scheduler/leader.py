"""Leadership of the scheduler: any number of processes, one leads (a lease row with a fencing token).

The lease is the row `scheduler_lease` named "scheduler": its holder leads until `expires_at`; the
leader renews it every lease/3 seconds (lease 10 s by default). A stand-by takes the row over once it has expired (the
leader was killed, stopped with SIGSTOP, lost its database, or left: a stopping leader lets it
expire at once) and raises the token. Times are the database's clock on PostgreSQL (the processes
may run on several hosts), so only the database decides who leads.

A leader claims a job run (job_id, scheduled time) by inserting its job_run row in a transaction
that first share-locks the lease row and checks that it still carries the leader's token and has
not expired: a leader that was stalled and comes back after a takeover claims nothing (its token
is old), and a takeover cannot happen between the check and the claim (the new leader's update
waits for the share lock). The run key is unique, so a run is claimed once, whoever claims it.
A session-level advisory lock would not do: a stopped process's connection keeps holding it. For
the same reason every transaction on the lease row sets, on PostgreSQL, a lock timeout and an
idle-in-transaction timeout: a process stopped inside one loses its connection (and its locks)
after at most 10 s instead of blocking the others' takeover.
"""
import logging
import os
import socket
import time
from datetime import timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.database import utcnow
from portal.models.operations import JobOutcome, JobRun, ScheduledJob, SchedulerLease

log = logging.getLogger(__name__)
LEASE_NAME = "scheduler"
DEFAULT_LEASE_SECONDS = 10


class NotLeader(Exception):
    """The lease no longer carries this process's token, or it has expired."""


def default_holder():
    return f"{socket.gethostname()}:{os.getpid()}"


LOCK_TIMEOUT = "3s"   # a stand-by waits no longer for the lease row, then tries again
IDLE_TIMEOUT = "10s"  # a process stopped inside a lease transaction loses its session (and locks)


def bounded(session):
    """On PostgreSQL: this transaction waits at most a few seconds for a lock, and a process that
    stops inside it (SIGSTOP) loses its session instead of holding the lease row. (Not shorter: a
    process starved of CPU must still finish its own short transaction.)"""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        session.execute(text(f"SET LOCAL idle_in_transaction_session_timeout = '{IDLE_TIMEOUT}'"))


def database_now(session):
    """The database's clock (PostgreSQL), else this host's (SQLite: one process, one host)."""
    if session.get_bind().dialect.name == "postgresql":
        return session.scalar(select(func.clock_timestamp())).astimezone(utcnow().tzinfo)
    return utcnow()


class Leadership:
    """This process's side of the lease: acquire, renew, release; `token` while leading."""

    def __init__(self, engine, holder=None, lease_seconds=DEFAULT_LEASE_SECONDS):
        self.engine = engine
        self.holder = holder or default_holder()
        self.lease_seconds = lease_seconds
        self.token = None
        self._deadline = 0.0  # monotonic: the lease surely ends by then (a stop does not pause it)

    @property
    def leading(self):
        return self.token is not None and time.monotonic() < self._deadline

    def tick(self):
        """Renew the lease if leading, else take it if it is free or expired; return leading."""
        started = time.monotonic()
        try:
            with Session(self.engine) as session:
                bounded(session)
                self._tick(session, started)
        except Exception as exc:  # database gone, lock timeout: lead only while the lease surely holds
            log.warning("scheduler=%s could not reach the lease: %s", self.holder, str(exc).splitlines()[0])
            if not self.leading:
                self._step_down("database unreachable")
        return self.leading

    def _tick(self, session, started):
        lease = session.scalar(select(SchedulerLease).where(SchedulerLease.name == LEASE_NAME).with_for_update())
        now = database_now(session)
        until = now + timedelta(seconds=self.lease_seconds)
        if lease is None:
            session.add(SchedulerLease(name=LEASE_NAME, holder=self.holder, token=1, acquired_at=now,
                                       renewed_at=now, expires_at=until, previous_holder="", takeovers=0))
            try:
                session.commit()
            except IntegrityError:  # another process created it first
                session.rollback()
                return
            self._lead(1, started, "first")
            return
        if self.token is not None and lease.holder == self.holder and lease.token == self.token \
                and lease.expires_at > now:
            lease.renewed_at, lease.expires_at = now, until
            session.commit()
            self._deadline = started + self.lease_seconds
            return
        if self.token is not None:
            session.rollback()
            self._step_down(f"lease now token {lease.token} of {lease.holder or 'nobody'}")
            return
        if lease.expires_at is not None and lease.expires_at > now:
            session.rollback()  # someone else leads
            return
        previous, last_renewal = lease.holder, lease.renewed_at
        lease.token += 1
        lease.holder, lease.acquired_at, lease.renewed_at, lease.expires_at = self.holder, now, now, until
        if previous and previous != self.holder:
            lease.previous_holder, lease.takeover_at = previous, now
            lease.takeover_gap_seconds = (now - last_renewal).total_seconds() if last_renewal else None
            lease.takeovers = (lease.takeovers or 0) + 1
        token = lease.token
        # runs claimed under an earlier leadership and never finished: their scheduler stopped with them
        # (one that was only stalled and finishes after all records its real outcome over this). A run
        # whose row is locked is being finished right now, or by a process stopped inside its
        # transaction: skipped, or the takeover would wait for that process as long as it is stopped.
        orphans = select(JobRun.id).where(JobRun.outcome == JobOutcome.RUNNING, JobRun.fence.is_not(None),
                                          JobRun.fence < token).with_for_update(skip_locked=True)
        interrupted = session.execute(
            update(JobRun).where(JobRun.id.in_(orphans.scalar_subquery()))
            .values(outcome=JobOutcome.INTERRUPTED).execution_options(synchronize_session=False)).rowcount
        session.commit()
        self._lead(token, started, f"from {previous or 'nobody'}, {interrupted} interrupted runs marked")

    def _lead(self, token, started, how):
        self.token = token
        self._deadline = started + self.lease_seconds
        log.info("scheduler=%s leads with token %s (%s)", self.holder, token, how)

    def _step_down(self, why, level=logging.WARNING):
        if self.token is not None:
            log.log(level, "scheduler=%s no longer leads (token %s): %s", self.holder, self.token, why)
        self.token = None
        self._deadline = 0.0

    def release(self):
        """Let the lease expire now (a leader stopping on SIGTERM): a stand-by takes over at once."""
        if self.token is None:
            return
        with Session(self.engine) as session:
            bounded(session)
            lease = session.scalar(select(SchedulerLease).where(SchedulerLease.name == LEASE_NAME,
                                                                SchedulerLease.token == self.token,
                                                                SchedulerLease.holder == self.holder)
                                   .with_for_update())
            if lease is not None:
                lease.expires_at = database_now(session)
                session.commit()
        self._step_down("released", logging.INFO)

    # -- claims under the lease
    def check(self, session):
        """Raise NotLeader unless the lease still carries our token and has not expired; the lease
        row stays share-locked until the caller's transaction ends (PostgreSQL)."""
        if self.token is None:
            raise NotLeader(self.holder)
        stmt = select(SchedulerLease).where(SchedulerLease.name == LEASE_NAME)
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(read=True)
        lease = session.scalar(stmt)
        if lease is None or lease.token != self.token or lease.holder != self.holder \
                or lease.expires_at <= database_now(session):
            self._step_down("fenced at claim")
            raise NotLeader(self.holder)

    def claim_run(self, job_id, scheduled_for, next_run_at=None):
        """Claim the run of job_id at scheduled_for; return its job_run row, or None when it was
        claimed before (by this leader or an earlier one). Raises NotLeader when fenced off."""
        with Session(self.engine, expire_on_commit=False) as session:
            bounded(session)
            self.check(session)
            plan = session.get(ScheduledJob, job_id)
            if plan is not None:
                plan.next_run_at, plan.updated_at = next_run_at, utcnow()
            run = JobRun(job_id=job_id, scheduled_for=scheduled_for, started_at=utcnow(),
                         outcome=JobOutcome.RUNNING, holder=self.holder, fence=self.token)
            session.add(run)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                return None
            return run


def lease_status(session):
    """The lease row (holder, token, expiry, last takeover), or None before any scheduler ran."""
    return session.get(SchedulerLease, LEASE_NAME)

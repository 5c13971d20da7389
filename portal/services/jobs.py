"""Run history of the scheduler's jobs and the page that lists them."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..database import utcnow
from ..models.operations import JobOutcome, JobPeriod, JobRun, SchedulerLease


class PeriodDone(Exception):
    """The job's work of this period was done before (by this or another scheduler, or by hand)."""


@dataclass
class JobStatus:
    """A scheduled job with its next run and its latest run."""

    job_id: str
    description: str
    schedule: dict  # {"every_seconds": n} or {"cron": {...}}; {} when not in the scheduler's store
    next_run_at: datetime | None
    last_run: JobRun | None
    last_success_at: datetime | None
    runs: int


def start_run(session, job_id):
    """Record that job_id started; return the row (committed, so a crash leaves a trace)."""
    run = JobRun(job_id=job_id, started_at=utcnow(), outcome=JobOutcome.RUNNING)
    session.add(run)
    session.commit()
    return run


def finish_run(session, run, outcome, *, summary="", error="", figures=None):
    """Record how a run ended, its figures and how long it took."""
    run.outcome = outcome
    run.figures = dict(figures or {})
    run.duration_seconds = (utcnow() - run.started_at).total_seconds()
    run.summary = (summary or "")[:255]
    run.error = error or ""
    session.commit()
    return run


def claim_period(session, job_id, period, run_id=None):
    """Mark (job_id, period) done as the first write of the caller's transaction (the work follows
    and commits with it); raise PeriodDone, the transaction rolled back, when it was done before."""
    session.add(JobPeriod(job_id=job_id, period=period, done_at=utcnow(), run_id=run_id))
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise PeriodDone(f"{job_id} {period}") from None


def job_statuses(session, jobs):
    """Return a JobStatus per (job_id, description, schedule, next_run_at) in jobs."""
    latest_ids = dict(session.execute(select(JobRun.job_id, func.max(JobRun.id)).group_by(JobRun.job_id)).all())
    latest = {r.job_id: r for r in session.scalars(select(JobRun).where(JobRun.id.in_(latest_ids.values())))}
    successes = dict(session.execute(select(JobRun.job_id, func.max(JobRun.started_at))
                                     .where(JobRun.outcome == JobOutcome.SUCCESS).group_by(JobRun.job_id)).all())
    counts = dict(session.execute(select(JobRun.job_id, func.count()).group_by(JobRun.job_id)).all())
    return [JobStatus(job_id=job_id, description=description, schedule=schedule, next_run_at=next_run,
                      last_run=latest.get(job_id), last_success_at=successes.get(job_id),
                      runs=counts.get(job_id, 0))
            for job_id, description, schedule, next_run in jobs]


@dataclass
class LeaderStatus:
    """Who leads the schedulers now, and the last takeover (/jobs, /metrics)."""

    holder: str
    token: int
    acquired_at: datetime | None
    renewed_at: datetime | None
    expires_at: datetime | None
    alive: bool                     # the lease has not expired
    previous_holder: str
    takeover_at: datetime | None
    takeover_gap_seconds: float | None
    takeovers: int


def leader_status(session, now=None):
    """The scheduler lease as a LeaderStatus, or None before any scheduler ran."""
    lease = session.get(SchedulerLease, "scheduler")
    if lease is None:
        return None
    now = now or utcnow()
    return LeaderStatus(holder=lease.holder, token=lease.token, acquired_at=lease.acquired_at,
                        renewed_at=lease.renewed_at, expires_at=lease.expires_at,
                        alive=lease.expires_at is not None and lease.expires_at > now,
                        previous_holder=lease.previous_holder, takeover_at=lease.takeover_at,
                        takeover_gap_seconds=lease.takeover_gap_seconds, takeovers=lease.takeovers or 0)


def recent_runs(session, job_id=None, limit=50):
    stmt = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
    if job_id:
        stmt = stmt.where(JobRun.job_id == job_id)
    return list(session.scalars(stmt))


def run_counts(session):
    """Return {(job_id, outcome): count} of finished runs (for /metrics)."""
    rows = session.execute(select(JobRun.job_id, JobRun.outcome, func.count())
                           .where(JobRun.outcome != JobOutcome.RUNNING)
                           .group_by(JobRun.job_id, JobRun.outcome)).all()
    return {(job, outcome): n for job, outcome, n in rows}


def last_successes(session):
    return dict(session.execute(select(JobRun.job_id, func.max(JobRun.started_at))
                                .where(JobRun.outcome == JobOutcome.SUCCESS).group_by(JobRun.job_id)).all())

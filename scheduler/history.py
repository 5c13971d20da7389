"""The run history of the scheduler's jobs: each run recorded (start, duration, outcome, error).

A job returns a JobResult; returning failed=True means "ran, but a person must look" (failed),
an exception is a bug (errored, traceback kept) and is raised again for the scheduler's log.
A run the leading scheduler claimed (scheduler/leader.py) already has its row, with its scheduled
time: the job finishes that row (`claimed`); a run by hand starts a row of its own.
"""
import contextlib
import contextvars
import functools
import logging
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from portal.database import utcnow
from portal.models.operations import JobOutcome, JobRun
from portal.services import jobs as job_history

from . import runtime

log = logging.getLogger(__name__)


@dataclass
class JobResult:
    """How a run ended: summary for the log, figures ({name: number}) for the job page's labels."""

    summary: str = ""
    failed: bool = False
    figures: dict = field(default_factory=dict)

    @classmethod
    def counted(cls, *, failed=False, note="", **figures):
        """Return a result of figures (names from portal.labels.JOB_FIGURE_LABELS); the summary
        spells them out ("3 sent, 0 failed"), followed by note (a cloud's own message)."""
        text = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in figures.items())
        return cls(summary=(f"{text}; {note}" if text and note else text or note)[:255], failed=failed,
                   figures=figures)


BEIJING = ZoneInfo("Asia/Shanghai")
ANCHOR = datetime(2020, 1, 1, tzinfo=BEIJING)  # every interval job's times are ANCHOR + k x interval
_claimed = contextvars.ContextVar("claimed_run", default=None)


@contextlib.contextmanager
def claimed(run):
    """Run a job inside this block as the claimed run `run` (a job_run row of the scheduler)."""
    token = _claimed.set(run)
    try:
        yield run
    finally:
        _claimed.reset(token)


def scheduled_for():
    """The scheduled time of the run in progress (now for a run by hand)."""
    run = _claimed.get()
    return run.scheduled_for if run is not None and run.scheduled_for is not None else utcnow()


def period_of(seconds, at=None):
    """The period of `seconds` holding `at` (default: the run's scheduled time), named by its
    start in Beijing time: the key of a job done once per period (portal.services.jobs.claim_period)."""
    at = at or scheduled_for()
    k = int((at - ANCHOR).total_seconds() // seconds)
    return (ANCHOR + timedelta(seconds=k * seconds)).astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M")


def current_run_id():
    run = _claimed.get()
    return run.id if run is not None else None


def recorded(job_id):
    """Record each run of the decorated job: start, duration, outcome, error."""
    def decorator(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with runtime.session_scope() as session:
                claim = _claimed.get()
                if claim is not None and claim.job_id == job_id:
                    run = session.get(JobRun, claim.id)
                else:
                    run = job_history.start_run(session, job_id)
                try:
                    result = func(*args, **kwargs) or JobResult()
                except Exception:
                    session.rollback()
                    job_history.finish_run(session, run, JobOutcome.ERRORED, error=traceback.format_exc())
                    log.exception("job %s crashed", job_id, extra={"job": job_id})
                    raise
                outcome = JobOutcome.FAILED if result.failed else JobOutcome.SUCCESS
                job_history.finish_run(session, run, outcome, summary=result.summary, figures=result.figures)
                log.info("job %s %s: %s", job_id, outcome, result.summary, extra={"job": job_id})
                return result
        wrapper.job_id = job_id
        return wrapper
    return decorator

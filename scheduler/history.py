"""The run history of the scheduler's jobs: each run recorded (start, duration, outcome, error).

A job returns a JobResult; returning failed=True means "ran, but a person must look" (failed),
an exception is a bug (errored, traceback kept) and is raised again for the scheduler's log.
"""
import functools
import logging
import traceback
from dataclasses import dataclass, field

from portal.models.operations import JobOutcome
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


def recorded(job_id):
    """Record each run of the decorated job: start, duration, outcome, error."""
    def decorator(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with runtime.session_scope() as session:
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

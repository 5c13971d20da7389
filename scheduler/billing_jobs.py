"""Scheduler jobs of issue 9: sample usage (metering) and the monthly summary on the 1st.

Module-level functions, recorded in the run history like the other jobs (scheduler/history.py).
"""
import logging

from sqlalchemy.exc import IntegrityError

from portal.database import utcnow
from portal.services import metering, reports, statements
from portal.services.audit import RequestInfo

from . import runtime
from .history import JobResult, current_run_id, recorded, scheduled_for

log = logging.getLogger(__name__)
SYSTEM = RequestInfo(actor=None, correlation_id="scheduler")


def collect_usage_once(session, settings, cloud, now=None):
    """Sample the cloud once and store the metering run; return the run (committed)."""
    tolerance = int(settings.get("METERING_GAP_TOLERANCE_SECONDS") or metering.DEFAULT_TOLERANCE_SECONDS)
    run = metering.collect(session, cloud, now or utcnow(), tolerance_seconds=tolerance)
    session.commit()
    return run


@recorded("collect_usage")
def collect_usage():
    """Sample what every department holds in the cloud (用量) for the statements."""
    from provisioner.errors import ProvisioningError
    rt = runtime.current()
    with runtime.session_scope() as session:
        try:
            run = collect_usage_once(session, rt.settings, rt.cloud())
        except ProvisioningError as exc:
            return JobResult.counted(failed=True, note=str(exc))
        except metering.SampleNotAfterLast as exc:  # ran again within the same second: nothing to add
            session.rollback()
            return JobResult.counted(note=str(exc))
        except IntegrityError:  # another collector recorded this interval first: nothing lost
            session.rollback()
            return JobResult.counted(interval_taken=1, failed=True, note="interval already recorded by another collector")
    return JobResult.counted(resources=run.resources, unknown_projects=run.unknown_projects,
                             metering_gap=int(run.state == "gap"), failed=run.state == "gap")


def close_month(session, year, month, now=None):
    """Rate every department's month as a draft statement and generate the monthly summary."""
    from sqlalchemy import select

    from portal.models.accounts import Department
    for dept_id in session.scalars(select(Department.id)):
        statements.rate_month(session, SYSTEM, dept_id, year, month, now=now)
    report = reports.generate(session, SYSTEM, year, month, generated_by="scheduler")
    session.commit()
    return report


@recorded("monthly_summary")
def monthly_summary():
    """On the 1st: draft statements of last month and the 月度汇总报备 (第十条三), once per month
    (job_period: a second scheduler, a takeover or a run by hand finds the month closed)."""
    from portal.services import jobs as job_history
    year, month = reports.previous_month(scheduled_for())
    with runtime.session_scope() as session:
        try:
            job_history.claim_period(session, "monthly_summary", f"{year}-{month:02d}", current_run_id())
        except job_history.PeriodDone:
            return JobResult.counted(month=f"{year}-{month:02d}", closed_before=1)
        report = close_month(session, year, month)
    return JobResult.counted(month=f"{year}-{month:02d}", departments=len(report.entries))

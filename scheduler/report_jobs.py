"""Scheduler job of issue 20: the security monitoring reports (安全监测报告, 第六条(五)) to each department."""
from portal.services import security_reports
from portal.services.audit import RequestInfo

from . import runtime
from .history import JobResult, recorded, scheduled_for

SYSTEM = RequestInfo(actor=None, correlation_id="scheduler")


@recorded("security_reports")
def security_reports_job():
    """On the 1st: each department's report of the period that ended (SECURITY_REPORT_MONTHS), once per
    department and period (unique in the database), delivered to its users' inboxes."""
    with runtime.session_scope() as session:
        period, written, before = security_reports.generate_period(session, SYSTEM, runtime.current().settings,
                                                                   scheduled_for())
    return JobResult.counted(period=period, reports=written, delivered_before=before)

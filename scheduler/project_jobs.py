"""Jobs of the informatization projects (issue 19, 附件1): warranty reminders (第十六条)."""
from portal.database import utcnow
from portal.services import project_performance

from . import runtime
from .history import JobResult, recorded


@recorded("warranty_reminders")
def warranty_reminders():
    """Tell the department and the bureau before a project's warranty ends (WARRANTY_REMIND_DAYS,
    Beijing calendar days), once per threshold (the deliver_notifications job sends them)."""
    with runtime.session_scope() as session:
        checked, reminded = project_performance.send_warranty_reminders(session, runtime.current().settings,
                                                                         utcnow())
    return JobResult.counted(projects_checked=checked, reminded=reminded)

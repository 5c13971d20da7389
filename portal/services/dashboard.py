"""What each role sees first on its home page."""
from sqlalchemy import select, text

from ..models.accounts import Role
from . import audit, departments, users


def home_summary(session, user):
    """Return the figures and lists of user's home page."""
    summary = {"role": user.role}
    if user.role == Role.DEPARTMENT:
        summary["department"] = departments.get_department(session, user, user.department_id)
        summary["member_count"] = users.count_users(session, user)
        summary["recent_events"] = audit.list_events(session, user, per_page=5).items
        return summary
    if user.role == Role.SECURITY:  # no business and no audit log (三权分立)
        summary["user_count"] = users.count_users(session, user)
        summary["locked_count"] = users.count_locked(session, user)
        return summary
    summary["department_count"] = departments.count_departments(session, user)
    if user.role == Role.VENDOR:  # contacts only of the departments it has work with now
        summary["departments"] = departments.with_contacts_for(session, user, limit=10)
    if user.role in (Role.ADMIN, Role.AUDITOR):
        summary["user_count"] = users.count_users(session, user)
    if user.role in (Role.BUREAU, Role.AUDITOR):  # the system administrator does not read the audit log
        summary["recent_events"] = audit.list_events(session, user, per_page=10).items
    return summary


def database_ok(session):
    """Return True when the database answers."""
    return session.execute(select(text("1"))).scalar() == 1

"""The duties' to-dos on each role's workbench (issue 20): what the bureau decides (plan versions,
rectification answers, key changes), what a department or the vendor answers or revises
(rectification notices, returned plan versions). `todos` lists them, `selects` counts the same
rows for the navigation's badge (services.dashboard)."""
from sqlalchemy import select

from ..models.accounts import Role
from ..models.duties import (EmergencyPlan, EmergencyPlanVersion, KeyChange, KeyChangeState, PlanScope,
                             PlanVersionState, Rectification, RectificationState, RectificationTarget)
from ..text import _l

LABELS = {
    "plan_decide": (_l("Emergency plan to approve"), _l("Decide")),
    "plan_revise": (_l("Emergency plan returned"), _l("Revise and resubmit")),
    "rectification_decide": (_l("Rectification answer to check"), _l("Decide")),
    "rectification_answer": (_l("Rectification notice to answer"), _l("Answer the notice")),
    "key_change_decide": (_l("Key change to approve"), _l("Decide")),
}
WAITING = (RectificationState.ISSUED, RectificationState.RETURNED)


def _versions(user, state):
    stmt = select(EmergencyPlanVersion, EmergencyPlan).join(EmergencyPlan).where(EmergencyPlanVersion.state == state)
    if user.role == Role.DEPARTMENT:
        return stmt.where(EmergencyPlan.department_id == user.department_id)
    if user.role == Role.VENDOR:
        return stmt.where(EmergencyPlan.scope == PlanScope.PLATFORM)
    return stmt


def _notices(user, *states):
    stmt = select(Rectification).where(Rectification.state.in_(states))
    if user.role == Role.DEPARTMENT:
        return stmt.where(Rectification.department_id == user.department_id)
    if user.role == Role.VENDOR:
        return stmt.where(Rectification.target == RectificationTarget.VENDOR)
    return stmt


def _queries(user):
    """(kind, select) of user's to-dos."""
    if user.role == Role.BUREAU:
        return [("plan_decide", _versions(user, PlanVersionState.SUBMITTED)),
                ("rectification_decide", _notices(user, RectificationState.ANSWERED)),
                ("key_change_decide", select(KeyChange).where(KeyChange.state == KeyChangeState.SUBMITTED))]
    if user.role in (Role.DEPARTMENT, Role.VENDOR):
        return [("plan_revise", _versions(user, PlanVersionState.RETURNED)),
                ("rectification_answer", _notices(user, *WAITING))]
    return []


def selects(user):
    """One select of ids per kind (the badge counts them)."""
    return [stmt.with_only_columns(stmt.selected_columns[0].table.c.id) for _kind, stmt in _queries(user)]


def todos(session, user):
    """(kind, title, endpoint, args, department, since) of each to-do."""
    out = []
    for kind, stmt in _queries(user):
        for row in session.execute(stmt).all():
            obj = row[0]
            if isinstance(obj, EmergencyPlanVersion):
                plan = row[1]
                out.append((kind, f"{plan.title}（第{obj.number}版）", "duties.plan", {"plan_id": plan.id},
                            plan.department.name if plan.department else "", obj.submitted_at or obj.created_at))
            elif isinstance(obj, Rectification):
                out.append((kind, f"{obj.number} {obj.title}", "duties.rectification", {"rect_id": obj.id},
                            obj.department.name if obj.department else "", obj.answered_at or obj.issued_at))
            else:
                out.append((kind, obj.title, "duties.key_change", {"change_id": obj.id}, "", obj.applied_at))
    return out

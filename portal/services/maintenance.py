"""Maintenance windows (维护窗口, 第十三条): the vendor applies, the bureau approves or rejects."""
from datetime import timedelta

from sqlalchemy import select

from ..database import utcnow
from ..errors import Forbidden, ValidationFailed
from ..models.accounts import Department, Role
from ..models.operations import MAINTENANCE_STATE_LABELS, MaintenanceKind, MaintenanceState, MaintenanceWindow
from ..pagination import paginate
from ..scoping import get_scoped, scoped
from ..statemachine import StateMachine
from ..text import _l
from ..workdays import CHINA
from .audit import record_event
from .notifications import notify_department
from .transitions import transition
from .workcalendar import load_calendar

S = MaintenanceState
WINDOWS = StateMachine("maintenance", "maintenance_window", {
    (S.SUBMITTED, "approve"): S.APPROVED,
    (S.SUBMITTED, "reject"): S.REJECTED,
    (S.SUBMITTED, "cancel"): S.CANCELLED,
    (S.APPROVED, "cancel"): S.CANCELLED,
}, MAINTENANCE_STATE_LABELS, kind=_l("maintenance window"), changed_at="decided_at", snapshots=True)
TERMINAL = WINDOWS.terminal()
# who may take an action
ACTION_ROLES = {"approve": {Role.BUREAU}, "reject": {Role.BUREAU}, "cancel": {Role.VENDOR, Role.BUREAU}}
APPLICANTS = {Role.VENDOR}
DECIDERS = {Role.BUREAU, Role.VENDOR}  # who may reach the decision form (each action checks its own roles)
MAX_LENGTH = timedelta(days=7)


def list_windows(session, user, *, state="", page=1, per_page=20):
    """Return one page of the windows user may see (departments: those affecting them), newest first."""
    stmt = scoped(select(MaintenanceWindow), user)
    if state:
        stmt = stmt.where(MaintenanceWindow.state == state)
    stmt = stmt.order_by(MaintenanceWindow.starts_at.desc(), MaintenanceWindow.id.desc())
    return paginate(session, stmt, page, per_page)


def get_window(session, user, window_id):
    return get_scoped(session, MaintenanceWindow, window_id, user, kind=_l("Maintenance window"))


def earliest_start(session, applied_at=None):
    """Reckoned(the earliest start of a planned window applied for at applied_at, assumed years)."""
    return load_calendar(session).earliest_planned_start(applied_at or utcnow())


def assumed_note(reckoned):
    """The sentence that says a result was counted Monday to Friday for years not entered, or ""."""
    if not reckoned.assumed:
        return ""
    return _l("The %(years)s arrangement of holidays has not been entered: those days were counted Monday to Friday.",
              years="、".join(str(y) for y in reckoned.assumed_years))


def _check_times(session, kind, starts_at, ends_at, applied_at):
    if starts_at is None or ends_at is None or starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValidationFailed(_l("Enter the start and the end."), field="starts_at")
    if ends_at <= starts_at:
        raise ValidationFailed(_l("The end must be after the start."), field="ends_at")
    if ends_at - starts_at > MAX_LENGTH:
        raise ValidationFailed(_l("A maintenance window may last at most 7 days."), field="ends_at")
    if kind == MaintenanceKind.PLANNED:
        reckoned = earliest_start(session, applied_at)
        if starts_at < reckoned.value:
            raise ValidationFailed(
                _l("A planned maintenance must be applied for at least 2 working days ahead: "
                   "it may start at %(earliest)s at the earliest. %(note)s",
                   earliest=reckoned.value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M"),
                   note=assumed_note(reckoned)), field="starts_at")
    elif ends_at <= applied_at:
        raise ValidationFailed(_l("An emergency maintenance cannot end in the past."), field="ends_at")


def apply_window(session, ctx, data, *, now=None):
    """The vendor applies for a window: kind, title, reason, impact, systems, departments, start, end."""
    if ctx.actor is None or ctx.actor.role not in APPLICANTS:
        raise Forbidden()
    now = now or utcnow()
    kind = data.get("kind")
    if kind not in set(MaintenanceKind):
        raise ValidationFailed(_l("Choose planned or emergency."), field="kind")
    _check_times(session, kind, data.get("starts_at"), data.get("ends_at"), now)
    department_ids = sorted(set(data.get("department_ids") or []))
    departments = list(session.scalars(select(Department).where(Department.id.in_(department_ids))))
    if not departments or len(departments) != len(department_ids):
        raise ValidationFailed(_l("Choose the affected departments."), field="department_ids")
    title = (data.get("title") or "").strip()
    if not title:
        raise ValidationFailed(_l("This field is required."), field="title")
    window = MaintenanceWindow(
        kind=kind, state=S.SUBMITTED, title=title, reason=(data.get("reason") or "").strip(),
        impact=(data.get("impact") or "").strip(),
        systems=[s.strip() for s in data.get("systems") or [] if s.strip()],
        starts_at=data["starts_at"], ends_at=data["ends_at"], applied_at=now,
        applied_by_id=ctx.actor.id, departments=departments)
    session.add(window)
    session.flush()
    record_event(session, ctx, "maintenance.apply", object_type="maintenance_window",
                 object_id=window.id, after=window.snapshot())
    session.commit()
    return window


def _transition(session, ctx, window, action, note=""):
    """Move window by action as ctx.actor: validate, stamp, audit (the caller commits)."""
    if ctx.actor is None or ctx.actor.role not in ACTION_ROLES[action]:
        raise Forbidden()

    def decided(window, _now):
        window.decided_by_id = ctx.actor.id
        if note:
            window.decision_note = note
    transition(session, ctx, WINDOWS, window, action, detail=note, effects=decided)


def _describe(window):
    local = "%Y-%m-%d %H:%M"
    kind = "计划内维护" if window.kind == MaintenanceKind.PLANNED else "紧急维护"
    return (f"{kind}: {window.title}\n"
            f"时间 / Time: {window.starts_at.astimezone(CHINA).strftime(local)} — "
            f"{window.ends_at.astimezone(CHINA).strftime(local)} (北京时间)\n"
            f"影响系统 / Systems: {', '.join(window.systems) or '全部 / all'}\n"
            f"原因 / Reason: {window.reason}\n影响 / Impact: {window.impact}\n")


def approve_window(session, ctx, window_id, settings, note=""):
    """The bureau approves; the affected departments are notified."""
    window = get_window(session, ctx.actor, window_id)
    _transition(session, ctx, window, "approve", note)
    for department in window.departments:
        notify_department(session, settings, department.id,
                          subject=f"[政务云] 维护窗口通知 / Maintenance window: {window.title}",
                          body=_describe(window), topic=f"maintenance:{window.id}")
    session.commit()
    return window


def reject_window(session, ctx, window_id, reason):
    """The bureau rejects with a reason (驳回理由)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_l("A rejection needs a reason."), field="note")
    window = get_window(session, ctx.actor, window_id)
    _transition(session, ctx, window, "reject", reason)
    session.commit()
    return window


def cancel_window(session, ctx, window_id, settings, note=""):
    """The vendor or the bureau cancels; departments already notified hear of it."""
    window = get_window(session, ctx.actor, window_id)
    was_approved = window.state == S.APPROVED
    _transition(session, ctx, window, "cancel", note)
    if was_approved:
        for department in window.departments:
            notify_department(session, settings, department.id,
                              subject=f"[政务云] 维护取消 / Maintenance cancelled: {window.title}",
                              body=_describe(window), topic=f"maintenance:{window.id}")
    session.commit()
    return window


def current_banners(session, user, now=None):
    """Return approved windows not yet over that concern user (the banner on every page)."""
    now = now or utcnow()
    stmt = scoped(select(MaintenanceWindow), user).where(
        MaintenanceWindow.state == S.APPROVED, MaintenanceWindow.ends_at > now,
        MaintenanceWindow.starts_at < now + timedelta(days=14)).order_by(MaintenanceWindow.starts_at)
    return list(session.scalars(stmt.limit(5)))


def approved_windows(session, start, end):
    """Return approved windows overlapping [start, end) (probes and SLA use them)."""
    return list(session.scalars(select(MaintenanceWindow).where(
        MaintenanceWindow.state == S.APPROVED, MaintenanceWindow.starts_at < end,
        MaintenanceWindow.ends_at > start)))

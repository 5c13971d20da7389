"""Maintenance windows (维护窗口, 第十三条): the vendor applies, the affected departments agree or
object (协商一致), the bureau approves or rejects; every step notifies those concerned."""
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..database import utcnow
from ..errors import Forbidden, ValidationFailed, WrongState
from ..models.accounts import Department, Role, User
from ..models.operations import (MAINTENANCE_STATE_LABELS, MaintenanceAnswer, MaintenanceKind, MaintenanceResponse,
                                 MaintenanceState, MaintenanceWindow)
from ..pagination import paginate
from ..scoping import get_scoped, scoped
from ..statemachine import StateMachine
from ..text import _l
from ..workdays import CHINA
from .audit import record_event
from .notifications import notify_department, notify_roles, notify_users, summary, users_with_roles
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


def apply_window(session, ctx, data, *, now=None, settings=None):
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
    settings = settings or {}
    for department in window.departments:
        notify_department(session, settings, department.id,
                          subject=f"[政务云] 维护窗口征求意见：{window.title}",
                          body=_describe(window) + "请在门户中对该维护窗口表示同意或提出异议（附理由）。\n",
                          topic=f"maintenance:{window.id}", link=_link(window))
    notify_roles(session, settings, (Role.BUREAU,), subject=f"[政务云] 维护窗口待审批：{window.title}",
                 body=_describe(window), topic=f"maintenance:{window.id}", link=_link(window))
    session.commit()
    return window


def _link(window):
    return f"/maintenance/{window.id}"


RESPONDERS = {Role.DEPARTMENT}
OPEN_FOR_ANSWERS = {S.SUBMITTED, S.APPROVED}


def can_respond(user, window, now=None):
    """True when user's department may still answer window (before it starts, while it stands)."""
    return (user.role in RESPONDERS and window.state in OPEN_FOR_ANSWERS
            and window.starts_at > (now or utcnow())
            and any(d.id == user.department_id for d in window.departments))


def respond_window(session, ctx, window_id, settings, answer, reason="", *, now=None):
    """A department affected by the window agrees or objects (with a reason); it may change its
    answer until the window starts. An objection flags the window and tells the bureau and the
    applicant. Committed."""
    user = ctx.actor
    if user is None or user.role not in RESPONDERS:
        raise Forbidden()
    if answer not in set(MaintenanceAnswer):
        raise ValidationFailed(_l("Choose agree or object."), field="answer")
    reason = (reason or "").strip()
    if answer == MaintenanceAnswer.OBJECT and not reason:
        raise ValidationFailed(_l("An objection needs a reason."), field="reason")
    if len(reason) > 2000:
        raise ValidationFailed(_l("At most %(n)d characters.", n=2000), field="reason")
    window = get_window(session, user, window_id)  # 404 unless it affects the user's department
    now = now or utcnow()
    if not can_respond(user, window, now):
        raise WrongState(_l("This maintenance window can no longer be answered."))
    response = window.response_of(user.department_id)
    before = response.snapshot() if response is not None else None
    if response is None:
        response = MaintenanceResponse(window_id=window.id, department_id=user.department_id)
        window.responses.append(response)
    response.answer, response.reason, response.user_id, response.answered_at = answer, reason, user.id, now
    try:
        session.flush()
    except IntegrityError:  # another user of the department answered at the same moment
        session.rollback()
        raise WrongState(_l("Your department answered this window meanwhile: look at its answer.")) from None
    record_event(session, ctx, "maintenance.respond", object_type="maintenance_window", object_id=window.id,
                 department_id=user.department_id, before=before, after=response.snapshot(), detail=reason)
    if answer == MaintenanceAnswer.OBJECT:
        department = session.get(Department, user.department_id)
        subject = f"[政务云] 维护窗口异议：{window.title}"
        body = f"{department.name} 对维护窗口“{window.title}”提出异议。\n理由：{reason}\n"
        recipients = _deciders(session, window)
        notify_users(session, settings, recipients, subject=subject, body=body,
                     topic=f"maintenance:{window.id}", link=_link(window), department_id=None)
    session.commit()
    return response


def _deciders(session, window):
    """The bureau's users and the vendor who applied (the people who must see an objection)."""
    people = users_with_roles(session, Role.BUREAU)
    applicant = session.get(User, window.applied_by_id) if window.applied_by_id else None
    return people + ([applicant] if applicant is not None else [])


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
    return (f"{kind}：{window.title}\n"
            f"时间：{window.starts_at.astimezone(CHINA).strftime(local)} — "
            f"{window.ends_at.astimezone(CHINA).strftime(local)}（北京时间）\n"
            f"影响系统：{'、'.join(window.systems) or '全部'}\n"
            f"原因：{window.reason}\n影响：{window.impact}\n")


def _tell_applicant(session, settings, window, subject, body):
    applicant = session.get(User, window.applied_by_id) if window.applied_by_id else None
    return notify_users(session, settings, [applicant] if applicant else [], subject=subject, body=body,
                        topic=f"maintenance:{window.id}", link=_link(window), department_id=None)


def approve_window(session, ctx, window_id, settings, note=""):
    """The bureau approves; the affected departments (every user, by their channels, and the IT
    lead's e-mail) and the applicant are notified. Returns (window, counts of what was sent)."""
    window = get_window(session, ctx.actor, window_id)
    _transition(session, ctx, window, "approve", note)
    rows = []
    for department in window.departments:
        rows += notify_department(session, settings, department.id,
                                  subject=f"[政务云] 维护窗口通知：{window.title}",
                                  body=_describe(window), topic=f"maintenance:{window.id}", link=_link(window))
    _tell_applicant(session, settings, window, f"[政务云] 维护窗口已批准：{window.title}", _describe(window))
    session.commit()
    return window, summary(rows)


def reject_window(session, ctx, window_id, reason, settings=None):
    """The bureau rejects with a reason (驳回理由)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_l("A rejection needs a reason."), field="note")
    window = get_window(session, ctx.actor, window_id)
    _transition(session, ctx, window, "reject", reason)
    _tell_applicant(session, settings or {}, window, f"[政务云] 维护窗口被驳回：{window.title}",
                    f"驳回理由：{reason}\n")
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
                              subject=f"[政务云] 维护取消：{window.title}",
                              body=_describe(window), topic=f"maintenance:{window.id}", link=_link(window))
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

"""Rectification notices (整改通知, 第二十条) and key changes of the platform (第二十一条).

The bureau issues a notice to the vendor or a department (finding, requirement, deadline); the
receiver answers with what it did and the evidence; the bureau accepts it (closed) or returns it
with a reason (answered again) — RECTIFICATIONS, through services.transitions (409 when two act
at once). A notice not answered by its deadline is flagged once (drill_reminders job).

A key change (更新关键设备和软件: upgrades, network changes) is the vendor's application, which the
bureau approves or rejects like a maintenance window (KEY_CHANGES); the vendor confirms that it uses
no equipment or software that may endanger public or national security, and reports when it is done.
"""
import uuid
from datetime import timedelta

from sqlalchemy import select

from ..database import utcnow
from ..errors import NotFound, ValidationFailed
from ..models.accounts import Department, Role
from ..models.duties import (KEY_CHANGE_STATE_LABELS, RECTIFICATION_STATE_LABELS, KeyChange, KeyChangeKind,
                             KeyChangeState, Rectification, RectificationAnswer, RectificationState,
                             RectificationTarget)
from ..models.operations import MaintenanceState, MaintenanceWindow
from ..pagination import paginate
from ..scoping import get_scoped, scoped
from ..statemachine import StateMachine
from ..text import _l
from ..workdays import CHINA
from .audit import record_event
from .duties_common import (act, add_months, clean, document_path, notify_bureau, notify_owner, remove_quietly,
                            require_role, store_document, today)

R = RectificationState
RECTIFICATIONS = StateMachine("rectification", "rectification", {
    (R.ISSUED, "answer"): R.ANSWERED,
    (R.RETURNED, "answer"): R.ANSWERED,
    (R.ANSWERED, "accept"): R.ACCEPTED,
    (R.ANSWERED, "return"): R.RETURNED,
    (R.ISSUED, "withdraw"): R.WITHDRAWN,
    (R.RETURNED, "withdraw"): R.WITHDRAWN,
}, RECTIFICATION_STATE_LABELS, kind=_l("rectification notice"),
    stamps={R.ANSWERED: "answered_at", R.ACCEPTED: "closed_at"}, changed_at="changed_at", snapshots=True)
WAITING_FOR_RECEIVER = (R.ISSUED, R.RETURNED)
ISSUERS = (Role.BUREAU,)


def _link(kind, ident):
    return f"/duties/{kind}/{ident}"


# -- rectification notices -----------------------------------------------------------------------

def receiver_roles(rect):
    return (Role.VENDOR,) if rect.target == RectificationTarget.VENDOR else (Role.DEPARTMENT,)


def is_receiver(user, rect):
    return user.role in receiver_roles(rect) and (rect.department_id is None
                                                   or user.department_id == rect.department_id)


def _visible(user):
    """Department users see the notices to their department; the vendor sees those to it (and not
    the departments'); bureau, auditor and admin see all."""
    stmt = scoped(select(Rectification), user)
    if user.role == Role.VENDOR:
        stmt = stmt.where(Rectification.target == RectificationTarget.VENDOR)
    return stmt


def list_rectifications(session, user, *, state="", page=1, per_page=20):
    stmt = _visible(user)
    if state:
        stmt = stmt.where(Rectification.state == state)
    return paginate(session, stmt.order_by(Rectification.id.desc()), page, per_page)


def get_rectification(session, user, rect_id):
    rect = session.scalars(_visible(user).where(Rectification.id == rect_id)).one_or_none()
    if rect is None:
        raise NotFound(_l("Rectification notice"), rect_id)
    return rect


def _number(rect, now):
    """ZG-<year in Beijing>-<id>: unique however many notices are issued at once (a count was not)."""
    return f"ZG-{now.astimezone(CHINA).year}-{rect.id:04d}"


def issue(session, ctx, data, settings=None, now=None):
    """The bureau issues a notice: target (vendor or department), title, finding, requirement,
    due day (from today, within a year). The receiver is told. Committed."""
    require_role(ctx.actor, ISSUERS)
    now = now or utcnow()
    target = data.get("target")
    if target not in set(RectificationTarget):
        raise ValidationFailed(_l("Choose the vendor or a department."), field="target")
    department_id = data.get("department_id") if target == RectificationTarget.DEPARTMENT else None
    if target == RectificationTarget.DEPARTMENT and (
            not isinstance(department_id, int) or session.get(Department, department_id) is None):
        raise ValidationFailed(_l("Choose the department."), field="department_id")
    due = data.get("due_date")
    if due is None or not hasattr(due, "year") or not today(now) <= due <= add_months(today(now), 12):
        raise ValidationFailed(_l("Enter a deadline from today up to a year ahead."), field="due_date")
    rect = Rectification(number=f"tmp-{uuid.uuid4().hex[:24]}", target=target, department_id=department_id, due_date=due,
                         title=clean(data.get("title"), "title", limit=200),
                         finding=clean(data.get("finding"), "finding"),
                         requirement=clean(data.get("requirement"), "requirement"),
                         state=R.ISSUED, issued_at=now, issued_by_id=ctx.actor.id)
    session.add(rect)
    session.flush()
    rect.number = _number(rect, now)
    record_event(session, ctx, "rectification.issue", object_type="rectification", object_id=rect.id,
                 department_id=department_id, after=rect.snapshot())
    notify_owner(session, settings, department_id, subject=f"[政务云] 整改通知 {rect.number}：{rect.title}",
                 body=_describe(rect) + "请按期整改，并在门户中提交整改情况及证明材料。\n",
                 topic=f"rectification:{rect.id}", link=_link("rectifications", rect.id))
    session.commit()
    return rect


def _describe(rect):
    return (f"整改通知 {rect.number}：{rect.title}\n发现的问题：{rect.finding}\n整改要求：{rect.requirement}\n"
            f"整改期限：{rect.due_date}\n")


def answer(session, ctx, rect_id, text, document=None, upload_dir=None, settings=None):
    """The receiver answers (again, after a return) with what was done and, as evidence, a document
    (filename, stream). Two answers at once: one wins, the other gets 409. Committed."""
    rect = get_rectification(session, ctx.actor, rect_id)
    if not is_receiver(ctx.actor, rect):
        require_role(None, ())
    text = clean(text, "text")
    entry = RectificationAnswer(department_id=rect.department_id, text=text, answered_by_id=ctx.actor.id,
                                round=rect.rounds + 1)
    path = store_document(entry, document[0], document[1], upload_dir) if document else None
    try:
        def answered(obj, now):
            obj.rounds = entry.round
            entry.answered_at = now
            obj.answers.append(entry)
        act(session, ctx, RECTIFICATIONS, rect, "answer", receiver_roles(rect), effects=answered,
            after={"answer": entry.snapshot()})
    except Exception:
        session.rollback()
        remove_quietly(path)
        raise
    notify_bureau(session, settings, rect.department_id, subject=f"[政务云] 整改情况待确认 {rect.number}：{rect.title}",
                  body=f"{_receiver_name(rect)}提交了第 {rect.rounds} 次整改情况：\n{text}\n",
                  topic=f"rectification:{rect.id}", link=_link("rectifications", rect.id))
    session.commit()
    return rect


def _receiver_name(rect):
    return rect.department.name if rect.department is not None else "云服务商"


def decide(session, ctx, rect_id, decision, note="", settings=None):
    """The bureau accepts the answer (closed) or returns it with the reason; the receiver is told."""
    if decision not in ("accept", "return"):
        raise ValidationFailed(_l("Choose accept or return."), field="decision")
    rect = get_rectification(session, ctx.actor, rect_id)

    def decided(obj, now):
        obj.decided_at, obj.decided_by_id, obj.decision_note = now, ctx.actor.id, (note or "").strip()
        last = obj.answers[-1]
        last.decision, last.decision_note, last.decided_at = (
            "accepted" if decision == "accept" else "returned", obj.decision_note, now)
    act(session, ctx, RECTIFICATIONS, rect, decision, ISSUERS, note=note, note_required=decision == "return",
        effects=decided)
    word = "已通过验收" if decision == "accept" else "被退回，请继续整改后重新提交"
    notify_owner(session, settings, rect.department_id, subject=f"[政务云] 整改{word} {rect.number}：{rect.title}",
                 body=f"整改通知 {rect.number} 的整改情况{word}。" + (f"\n意见：{note}\n" if note else "\n"),
                 topic=f"rectification:{rect.id}", link=_link("rectifications", rect.id))
    session.commit()
    return rect


def withdraw(session, ctx, rect_id, note, settings=None):
    rect = get_rectification(session, ctx.actor, rect_id)
    act(session, ctx, RECTIFICATIONS, rect, "withdraw", ISSUERS, note=note, note_required=True)
    notify_owner(session, settings, rect.department_id, subject=f"[政务云] 整改通知已撤回 {rect.number}：{rect.title}",
                 body=f"撤回理由：{note}\n", topic=f"rectification:{rect.id}", link=_link("rectifications", rect.id))
    session.commit()
    return rect


def evidence(session, user, rect_id, answer_id, upload_dir):
    rect = get_rectification(session, user, rect_id)
    entry = next((a for a in rect.answers if a.id == answer_id), None)
    if entry is None:
        raise NotFound(_l("Evidence"), answer_id)
    return entry, document_path(entry, upload_dir, _l("Evidence"))


def overdue_rectifications(session, user=None, now=None):
    """Notices whose receiver has not answered by the end of the due day (Beijing)."""
    stmt = select(Rectification) if user is None else _visible(user)
    return list(session.scalars(stmt.where(Rectification.state.in_(WAITING_FOR_RECEIVER),
                                           Rectification.due_date < today(now)).order_by(Rectification.due_date)))


def flag_overdue(session, settings, now=None):
    """Tell the receiver and the bureau of each notice newly overdue, once; return how many."""
    now = now or utcnow()
    fresh = [r for r in overdue_rectifications(session, None, now) if r.overdue_flagged_at is None]
    for rect in fresh:
        rect.overdue_flagged_at = now
        notify_owner(session, settings, rect.department_id, subject=f"[政务云] 整改逾期 {rect.number}：{rect.title}",
                     body=_describe(rect) + "整改期限已过，尚未提交整改情况。\n", topic=f"rectification:{rect.id}",
                     link=_link("rectifications", rect.id), bureau=True)
    return len(fresh)


# -- key changes (第二十一条) ----------------------------------------------------------------------

K = KeyChangeState
KEY_CHANGES = StateMachine("key_change", "key_change", {
    (K.SUBMITTED, "approve"): K.APPROVED,
    (K.SUBMITTED, "reject"): K.REJECTED,
    (K.SUBMITTED, "cancel"): K.CANCELLED,
    (K.APPROVED, "cancel"): K.CANCELLED,
    (K.APPROVED, "complete"): K.COMPLETED,
}, KEY_CHANGE_STATE_LABELS, kind=_l("key change"), stamps={K.COMPLETED: "completed_at"}, snapshots=True)
KEY_CHANGE_ROLES = {"approve": (Role.BUREAU,), "reject": (Role.BUREAU,), "cancel": (Role.VENDOR, Role.BUREAU),
                    "complete": (Role.VENDOR,)}
APPLICANTS = (Role.VENDOR,)
MAX_CHANGE_LENGTH = timedelta(days=30)


def list_key_changes(session, user, *, state="", page=1, per_page=20):
    stmt = scoped(select(KeyChange), user)
    if state:
        stmt = stmt.where(KeyChange.state == state)
    return paginate(session, stmt.order_by(KeyChange.starts_at.desc(), KeyChange.id.desc()), page, per_page)


def get_key_change(session, user, change_id):
    return get_scoped(session, KeyChange, change_id, user, kind=_l("Key change"))


def open_windows(session):
    """Maintenance windows a key change may go with (submitted or approved), newest first."""
    return list(session.scalars(select(MaintenanceWindow).where(
        MaintenanceWindow.state.in_((MaintenanceState.SUBMITTED, MaintenanceState.APPROVED)))
        .order_by(MaintenanceWindow.starts_at.desc()).limit(50)))


def apply_key_change(session, ctx, data, settings=None, now=None):
    """The vendor applies: kind, title, description, impact, rollback plan, start and end, the
    security confirmation (第二十一条), optionally the maintenance window that goes with it."""
    require_role(ctx.actor, APPLICANTS)
    now = now or utcnow()
    kind = data.get("kind")
    if kind not in set(KeyChangeKind):
        raise ValidationFailed(_l("Choose the kind of change."), field="kind")
    starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
    if starts_at is None or ends_at is None or starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValidationFailed(_l("Enter the start and the end."), field="starts_at")
    if starts_at <= now:
        raise ValidationFailed(_l("A key change is approved before it starts: choose a later start."),
                               field="starts_at")
    if not starts_at < ends_at <= starts_at + MAX_CHANGE_LENGTH:
        raise ValidationFailed(_l("The end must be after the start, at most 30 days later."), field="ends_at")
    if data.get("security_confirmed") is not True:
        raise ValidationFailed(_l("Confirm that no equipment or software that may endanger public or national "
                                  "security is used."), field="security_confirmed")
    window_id = data.get("maintenance_window_id")
    if window_id is not None and session.get(MaintenanceWindow, window_id) is None:
        raise ValidationFailed(_l("No such maintenance window."), field="maintenance_window_id")
    change = KeyChange(kind=kind, state=K.SUBMITTED, title=clean(data.get("title"), "title", limit=200),
                       description=clean(data.get("description"), "description"),
                       impact=clean(data.get("impact"), "impact"),
                       rollback_plan=clean(data.get("rollback_plan"), "rollback_plan"),
                       starts_at=starts_at, ends_at=ends_at, security_confirmed=True, applied_at=now,
                       applied_by_id=ctx.actor.id, maintenance_window_id=window_id)
    session.add(change)
    session.flush()
    record_event(session, ctx, "key_change.apply", object_type="key_change", object_id=change.id,
                 after=change.snapshot())
    notify_bureau(session, settings, None, subject=f"[政务云] 重大变更待审批：{change.title}",
                  body=_describe_change(change), topic=f"key_change:{change.id}",
                  link=_link("key-changes", change.id))
    session.commit()
    return change


def _describe_change(change):
    local = "%Y-%m-%d %H:%M"
    return (f"重大变更：{change.title}\n时间：{change.starts_at.astimezone(CHINA).strftime(local)} — "
            f"{change.ends_at.astimezone(CHINA).strftime(local)}（北京时间）\n内容：{change.description}\n"
            f"影响：{change.impact}\n回退方案：{change.rollback_plan}\n")


def decide_key_change(session, ctx, change_id, action, note="", settings=None):
    """approve / reject (the bureau; a rejection needs its reason), cancel (the vendor or the
    bureau), complete (the vendor, with what was done). The other side is told. Committed."""
    if action not in KEY_CHANGE_ROLES:
        raise ValidationFailed(_l("Choose an action."), field="action")
    change = get_key_change(session, ctx.actor, change_id)

    def stamped(obj, now):
        if action == "complete":
            obj.result_note = (note or "").strip()
        else:
            obj.decided_at, obj.decided_by_id, obj.decision_note = now, ctx.actor.id, (note or "").strip()
    act(session, ctx, KEY_CHANGES, change, action, KEY_CHANGE_ROLES[action], note=note,
        note_required=action in ("reject", "complete"), effects=stamped)
    word = {"approve": "已批准", "reject": "被驳回", "cancel": "已取消", "complete": "已实施完成"}[action]
    subject, body = f"[政务云] 重大变更{word}：{change.title}", _describe_change(change) + (
        f"意见：{note}\n" if note else "")
    if ctx.actor.role == Role.BUREAU:
        notify_owner(session, settings, None, subject=subject, body=body, topic=f"key_change:{change.id}",
                     link=_link("key-changes", change.id))
    else:
        notify_bureau(session, settings, None, subject=subject, body=body, topic=f"key_change:{change.id}",
                      link=_link("key-changes", change.id))
    session.commit()
    return change

"""Incidents (故障事件, 第二十五条): opened by failing probes, backups and Prometheus's alerts (resolved
when the probe passes again or the alert is resolved), or by the vendor by hand (resolved by hand);
acknowledged and explained by the vendor. Each has a kind; only outages and degradations count
against a system's availability (sla.py)."""
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from ..database import utcnow
from ..errors import Forbidden, ValidationFailed
from ..models.accounts import Department, Role
from ..models.operations import (INCIDENT_STATE_LABELS, Incident, IncidentEvent, IncidentKind,
                                 IncidentState, Notification, NotificationChannel)
from ..pagination import paginate
from ..scoping import get_scoped, scoped
from ..statemachine import StateMachine
from ..text import _l
from .audit import record_event
from ..workdays import CHINA
from .notifications import notify_department, summary
from .transitions import transition

S = IncidentState
INCIDENTS = StateMachine("incident", "incident", {
    (S.OPEN, "acknowledge"): S.ACKNOWLEDGED,
    (S.OPEN, "resolve"): S.RESOLVED,
    (S.ACKNOWLEDGED, "resolve"): S.RESOLVED,
}, INCIDENT_STATE_LABELS, kind=_l("incident"), stamps={S.ACKNOWLEDGED: "acknowledged_at", S.RESOLVED: "resolved_at"})
ACTIVE = {S.OPEN, S.ACKNOWLEDGED}
HANDLERS = {Role.VENDOR}  # acknowledge, root cause


def list_incidents(session, user, *, state="", page=1, per_page=20):
    """Return one page of incidents user may see (departments: their own), newest first."""
    stmt = scoped(select(Incident), user)
    if state == "active":
        stmt = stmt.where(Incident.state.in_(ACTIVE))
    elif state:
        stmt = stmt.where(Incident.state == state)
    stmt = stmt.order_by(Incident.detected_at.desc(), Incident.id.desc())
    return paginate(session, stmt, page, per_page)


def get_incident(session, user, incident_id):
    return get_scoped(session, Incident, incident_id, user, kind=_l("Incident"))


@dataclass
class IncidentSource:
    """What open_incident needs of a source that is not a probe target (a backup, an alert)."""

    department_id: int | None
    system_name: str
    name: str
    kind: str
    id: int | None = None


def open_incident_for(session, target):
    """Return the target's unresolved incident, if any."""
    return session.scalars(select(Incident).where(Incident.target_id == target.id,
                                                  Incident.state.in_(ACTIVE))).first()


def find_active(session, department_id, title):
    """Return the unresolved incident of a department with this title, if any."""
    return session.scalars(select(Incident).where(Incident.department_id == department_id, Incident.title == title,
                                                  Incident.target_id.is_(None),
                                                  Incident.state.in_(ACTIVE))).first()


def _event(incident, kind, at, note="", actor=None):
    """Add a line to the incident's timeline."""
    incident.events.append(IncidentEvent(kind=kind, at=at, note=note,
                                         actor_username=getattr(actor, "username", "") or ""))


note_event = _event


def _notify(session, settings, incident, subject, body, at):
    """Notify the incident's department; the timeline says how many (never the addresses)."""
    if incident.department_id is None:
        return
    rows = notify_department(session, settings, incident.department_id, subject=subject, body=body,
                             topic=f"incident:{incident.id}", link=f"/incidents/{incident.id}")
    if rows:
        counts = summary(rows)
        _event(incident, "notified", at, f"站内消息 {counts['people']} 人，邮件 {counts['email']} 封，"
                                         f"短信/推送 {counts['webhook']} 条")


def active_for_system(session, department_id, system_name):
    """Return the oldest unresolved incident of a department's system (any source), if any."""
    return session.scalars(select(Incident).where(
        Incident.department_id.is_(None) if department_id is None else Incident.department_id == department_id,
        Incident.system_name == system_name, Incident.state.in_(ACTIVE)).order_by(Incident.id)).first()


def open_incident(session, ctx, settings, target, *, started_at, detected_at, detail, alert_fingerprint=None,
                  kind=IncidentKind.OUTAGE):
    """Open an incident for a failing target and notify its department (the caller commits)."""
    return _open(session, ctx, settings, Incident(
        department_id=target.department_id, target_id=target.id, system_name=target.system_name,
        state=S.OPEN, kind=kind, title=f"{target.system_name} · {target.name}"[:255],
        started_at=started_at, detected_at=detected_at, alert_fingerprint=alert_fingerprint), detail)


def open_resource_incident(session, ctx, settings, *, department_id, system_name, title, detail, at):
    """Open an incident that no probe found: a resource of a system changed state or disappeared
    without anyone asking (the live inventory, issue 18); the caller commits."""
    return _open(session, ctx, settings, Incident(
        department_id=department_id, target_id=None, system_name=system_name[:120], state=S.OPEN,
        title=title, started_at=at, detected_at=at), detail)


def _open(session, ctx, settings, incident, detail):
    session.add(incident)
    _event(incident, "detected", incident.detected_at, detail)
    session.flush()
    record_event(session, ctx, "incident.open", object_type="incident", object_id=incident.id,
                 department_id=incident.department_id, after={"state": incident.state, "kind": incident.kind,
                                                              "system": incident.system_name},
                 detail=detail)
    _notify(session, settings, incident, f"[政务云] 故障事件 / Incident: {incident.title}",
            f"故障事件 #{incident.id}: {incident.title}\n"
            f"开始 / Started: {incident.started_at.isoformat()}\n"
            f"发现 / Detected: {incident.detected_at.isoformat()}\n"
            f"详情 / Detail: {detail}\n", incident.detected_at)
    return incident


def resolve_incident(session, ctx, settings, incident, *, at, note=""):
    """Resolve an incident at time at (the probe passed again) and notify (the caller commits)."""
    transition(session, ctx, INCIDENTS, incident, "resolve", now=at)
    _event(incident, "resolved", at, note)
    minutes = (at - incident.started_at).total_seconds() / 60
    _notify(session, settings, incident, f"[政务云] 故障恢复 / Incident resolved: {incident.title}",
            f"故障事件 #{incident.id} 已恢复 / resolved at {at.isoformat()}\n"
            f"中断时长 / Duration: {minutes:.0f} min\n", at)
    return incident


def acknowledge_incident(session, ctx, incident_id, note=""):
    """The vendor acknowledges an open incident."""
    _require_handler(ctx)
    incident = get_incident(session, ctx.actor, incident_id)
    now = utcnow()
    transition(session, ctx, INCIDENTS, incident, "acknowledge", now=now)
    _event(incident, "acknowledged", now, note, ctx.actor)
    session.commit()
    return incident


def set_root_cause(session, ctx, incident_id, root_cause):
    """The vendor records the root cause (any time, also after resolution)."""
    _require_handler(ctx)
    root_cause = (root_cause or "").strip()
    if not root_cause:
        raise ValidationFailed(_l("This field is required."), field="root_cause")
    incident = get_incident(session, ctx.actor, incident_id)
    before = {"root_cause": incident.root_cause}
    incident.root_cause = root_cause
    _event(incident, "root_cause", utcnow(), root_cause, ctx.actor)
    record_event(session, ctx, "incident.root_cause", object_type="incident", object_id=incident.id,
                 department_id=incident.department_id, before=before, after={"root_cause": root_cause})
    session.commit()
    return incident


def _require_handler(ctx):
    if ctx.actor is None or ctx.actor.role not in HANDLERS:
        raise Forbidden()


def _kind(value):
    if value not in set(IncidentKind):
        raise ValidationFailed(_l("Choose the type of the incident."), field="kind")
    return IncidentKind(value)


def open_by_hand(session, ctx, settings, data, *, now=None):
    """The vendor opens an incident by hand: department, system, kind, title, start (not in the
    future, at most 30 days ago), detail; the department is notified. Committed."""
    _require_handler(ctx)
    now = now or utcnow()
    kind = _kind(data.get("kind"))
    department = session.get(Department, data.get("department_id") or 0)
    if department is None:
        raise ValidationFailed(_l("Choose the department."), field="department_id")
    system_name = (data.get("system_name") or "").strip()
    title = (data.get("title") or "").strip()
    for field, value, limit in (("system_name", system_name, 120), ("title", title, 255)):
        if not value:
            raise ValidationFailed(_l("This field is required."), field=field)
        if len(value) > limit:
            raise ValidationFailed(_l("At most %(n)d characters.", n=limit), field=field)
    started_at = data.get("started_at") or now
    if started_at.tzinfo is None or started_at > now + timedelta(minutes=1):
        raise ValidationFailed(_l("The start cannot be in the future."), field="started_at")
    if started_at < now - timedelta(days=30):
        raise ValidationFailed(_l("The start may be at most 30 days ago."), field="started_at")
    detail = (data.get("detail") or "").strip()
    incident = Incident(department_id=department.id, system_name=system_name, title=title, kind=kind,
                        state=S.OPEN, started_at=started_at, detected_at=now, opened_by_id=ctx.actor.id)
    session.add(incident)
    _event(incident, "opened", now, detail, ctx.actor)
    session.flush()
    record_event(session, ctx, "incident.open", object_type="incident", object_id=incident.id,
                 department_id=department.id,
                 after={"state": incident.state, "kind": kind.value, "system": system_name, "title": title},
                 detail=detail)
    kind_label = INCIDENT_KIND_LABELS_ZH[kind]
    _notify(session, settings, incident, f"[政务云] {kind_label}：{title}",
            f"{kind_label} #{incident.id}：{title}\n系统：{system_name}\n"
            f"开始：{_beijing(started_at)}（北京时间）\n详情：{detail or '—'}\n", now)
    session.commit()
    return incident


def resolve_by_hand(session, ctx, settings, incident_id, note, *, now=None):
    """The vendor resolves an incident (any kind, also one a probe opened) with a note on what
    was done; the department is notified. Committed; a second resolve is refused (409)."""
    _require_handler(ctx)
    note = (note or "").strip()
    if not note:
        raise ValidationFailed(_l("Say how the incident was resolved."), field="note")
    incident = get_incident(session, ctx.actor, incident_id)
    now = now or utcnow()
    transition(session, ctx, INCIDENTS, incident, "resolve", now=now, detail=note)
    _event(incident, "resolved", now, note, ctx.actor)
    minutes = (now - incident.started_at).total_seconds() / 60
    _notify(session, settings, incident, f"[政务云] 故障恢复：{incident.title}",
            f"故障事件 #{incident.id} 已于 {_beijing(now)}（北京时间）处理完毕，历时 {minutes:.0f} 分钟。\n"
            f"处理情况：{note}\n", now)
    session.commit()
    return incident


def change_kind(session, ctx, incident_id, kind):
    """The vendor corrects an incident's kind (it decides whether it counts against the SLA). Committed."""
    _require_handler(ctx)
    kind = _kind(kind)
    incident = get_incident(session, ctx.actor, incident_id)
    if incident.kind == kind:
        return incident
    before = {"kind": incident.kind}
    incident.kind = kind
    _event(incident, "kind", utcnow(), INCIDENT_KIND_LABELS_ZH[kind], ctx.actor)
    record_event(session, ctx, "incident.kind", object_type="incident", object_id=incident.id,
                 department_id=incident.department_id, before=before, after={"kind": kind.value})
    session.commit()
    return incident


def _beijing(at):
    return at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


# the messages are in Chinese (the departments' contacts), whatever the sender's language
INCIDENT_KIND_LABELS_ZH = {IncidentKind.OUTAGE: "服务中断", IncidentKind.DEGRADATION: "性能下降",
                           IncidentKind.SECURITY: "安全事件", IncidentKind.BACKUP: "备份故障"}


def count_open(session, user):
    stmt = scoped(select(Incident), user).where(Incident.state.in_(ACTIVE))
    return session.scalar(select(func.count()).select_from(stmt.subquery()))


def escalate_overdue(session, settings, now, ctx):
    """Escalate incidents unresolved for ESCALATE_AFTER_MINUTES (第二十五条: large outages go up):
    a timeline entry and a message to the department and to ESCALATION_EMAIL (the bureau's duty desk).
    Returns the escalated incidents (the caller commits)."""
    minutes = int(settings.get("ESCALATE_AFTER_MINUTES") or 30)
    overdue = session.scalars(select(Incident).where(Incident.state.in_(ACTIVE),
                                                     Incident.started_at <= now - timedelta(minutes=minutes))).all()
    escalated = []
    for incident in overdue:
        if any(e.kind == "escalated" for e in incident.events):
            continue
        _event(incident, "escalated", now, f"unresolved after {minutes} min")
        subject = f"[政务云] 故障升级 / Incident escalated: {incident.title}"
        body = (f"故障事件 #{incident.id} 超过 {minutes} 分钟未恢复 / unresolved for over {minutes} min.\n"
                f"开始 / Started: {incident.started_at.isoformat()}\n")
        _notify(session, settings, incident, subject, body, now)
        if settings.get("ESCALATION_EMAIL") and settings.get("SMTP_HOST"):
            session.add(Notification(department_id=incident.department_id, channel=NotificationChannel.EMAIL,
                                     recipient=settings["ESCALATION_EMAIL"], subject=subject, body=body,
                                     topic=f"incident:{incident.id}"))
        record_event(session, ctx, "incident.escalate", object_type="incident", object_id=incident.id,
                     department_id=incident.department_id, detail=f"{minutes} min")
        escalated.append(incident)
    return escalated

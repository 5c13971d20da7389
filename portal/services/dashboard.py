"""What each role sees first: its workbench (工作台) of to-dos with their time limits (办理时限), its
systems and their health, recent events; and the count of to-dos the navigation shows."""
from dataclasses import dataclass, field

from sqlalchemy import func, select, text

from ..database import utcnow
from ..models.accounts import Role
from ..models.backups import BackupExtraction, ExtractionState, RestoreJob, RestoreState
from ..models.grants import GrantState, VendorGrant
from ..models.operations import Incident, MaintenanceState, MaintenanceWindow, ProbeState, ProbeTarget
from ..models.requests import DeliveryReceipt, ResourceRequest
from ..scoping import scoped
from ..text import _l
from ..workdays import as_local_date
from ..workflow import IN_REVIEW, RequestKind, RequestState
from . import audit, departments, duty_todos, users
from .incidents import ACTIVE as ACTIVE_INCIDENTS
from .projects import assignments_of
from .resource_requests import system_status
from .timelimits import TimeLimits, deadlines_by_object, open_steps
from .workcalendar import missing_years

# what a to-do is, in the user's words (the label of its kind) and the button that acts on it
TODO_LABELS = {
    "fix": (_l("Returned for revision"), _l("Revise and resubmit")),
    "draft": (_l("Draft not yet submitted"), _l("Complete and submit")),
    "sign": (_l("Receipt to sign"), _l("Sign the receipt")),
    "grant_decide": (_l("Vendor access to decide"), _l("Decide")),
    "extraction_ready": (_l("Backup extraction ready"), _l("Download")),
    "review": (_l("Request to review"), _l("Start review")),
    "green_approval": (_l("Green channel: approval to complete"), _l("Complete the approval")),
    "extraction_decide": (_l("Backup extraction to decide"), _l("Decide")),
    "maintenance_decide": (_l("Maintenance window to decide"), _l("Decide")),
    "overdue": (_l("Overdue (to supervise)"), _l("View")),
    "provision": (_l("Provisioning queue"), _l("View")),
    "provision_failed": (_l("Provisioning failed"), _l("Retry or roll back")),
    "incident": (_l("Open incident"), _l("Handle")),
    "restore": (_l("Restore requested"), _l("Carry out")),
    "grant_live": (_l("Vendor access granted"), _l("View")),
    "grant_waiting": (_l("Vendor access awaiting the department"), _l("View")),
    "in_progress": (_l("In progress"), _l("View")),
    "locked": (_l("Locked accounts"), _l("View")),
    "calendar": (_l("Working-day calendar of a year missing"), _l("Enter it")),
}
TODO_LABELS.update(duty_todos.LABELS)  # emergency plans, rectification, key changes (issue 20)
# a green-channel request whose approval is still to be completed; what the vendor provisions or repairs
GREEN_PENDING = (RequestState.APPROVED, RequestState.PROVISIONING, RequestState.PROVISIONED, RequestState.DELIVERED,
                 RequestState.FAILED)
VENDOR_STATES = (RequestState.APPROVED, RequestState.PROVISIONING, RequestState.FAILED)
HEALTH_LABELS = {"ok": _l("Normal"), "incident": _l("Incident open"), "down": _l("Probe failing"),
                 "unknown": _l("Not monitored"), "pending": _l("Request open")}


@dataclass
class Todo:
    """One thing waiting for the user (or, when waiting=True, for someone else, shown for its time limit)."""

    kind: str
    subject: str
    endpoint: str
    args: dict
    department: str = ""
    since: object = None
    step: str = ""       # the time-limited step it belongs to (timelimits.STEPS), or ""
    object_id: int = 0
    deadline: object = None
    urgent: bool = False
    waiting: bool = False  # for information: someone else acts

    @property
    def label(self):
        return TODO_LABELS[self.kind][0]

    @property
    def action(self):
        return TODO_LABELS[self.kind][1]


@dataclass
class Workbench:
    todos: list = field(default_factory=list)      # the user acts
    waiting: list = field(default_factory=list)    # others act; shown with their time limits
    systems: list = field(default_factory=list)
    figures: dict = field(default_factory=dict)

    @property
    def count(self):
        return len(self.todos)

    @property
    def overdue_count(self):
        return sum(1 for t in self.todos if t.deadline is not None and t.deadline.overdue)


def _name(obj):
    return obj.department.name if getattr(obj, "department", None) is not None else ""


def _request_todo(kind, r, endpoint, step="", waiting=False, since=None):
    return Todo(kind, f"{r.number} {r.system_name}", endpoint, {"request_id": r.id}, _name(r),
                since or r.submitted_at or r.state_changed_at, step, r.id, urgent=r.urgent, waiting=waiting)


def _department_todos(session, user, bench):
    requests = list(session.scalars(scoped(select(ResourceRequest), user).where(ResourceRequest.state.in_(
        [RequestState.RETURNED, RequestState.DRAFT, *IN_REVIEW, RequestState.APPROVED, RequestState.PROVISIONING,
         RequestState.FAILED])).order_by(ResourceRequest.id)))
    for r in requests:
        if r.state == RequestState.RETURNED:
            bench.todos.append(_request_todo("fix", r, "requests.edit", since=r.state_changed_at))
        elif r.state == RequestState.DRAFT:
            endpoint = "requests.decommission" if r.kind == RequestKind.DECOMMISSION else "requests.edit"
            todo = _request_todo("draft", r, endpoint, since=r.created_at)
            if r.kind == RequestKind.DECOMMISSION:
                todo.args = {"request_id": r.system_root_id}
            bench.todos.append(todo)
        elif r.state in IN_REVIEW:
            bench.waiting.append(_request_todo("in_progress", r, "requests.detail", "review", waiting=True))
        else:
            bench.waiting.append(_request_todo("in_progress", r, "requests.detail", "provisioning", waiting=True))
    receipts = session.scalars(scoped(select(DeliveryReceipt), user).join(DeliveryReceipt.request).where(
        DeliveryReceipt.confirmed_at.is_(None), ResourceRequest.state == RequestState.PROVISIONED)
        .order_by(DeliveryReceipt.id))
    for rec in receipts:
        bench.todos.append(Todo("sign", f"{rec.number} {rec.request.system_name}", "requests.receipt",
                                {"receipt_id": rec.id}, _name(rec.request), rec.issued_at))
    grants = session.scalars(scoped(select(VendorGrant), user).where(VendorGrant.state == GrantState.REQUESTED)
                             .order_by(VendorGrant.id))
    for g in grants:
        todo = Todo("grant_decide" if user.is_dept_admin else "grant_waiting",
                    f"#{g.id} {g.system.system_name}", "grants.detail", {"grant_id": g.id}, _name(g), g.created_at,
                    step="grant", object_id=g.id, waiting=not user.is_dept_admin)
        (bench.todos if user.is_dept_admin else bench.waiting).append(todo)
    extractions = session.scalars(scoped(select(BackupExtraction), user).where(
        BackupExtraction.state.in_([ExtractionState.READY, ExtractionState.APPLIED])).order_by(BackupExtraction.id))
    for x in extractions:
        if x.state == ExtractionState.READY:
            bench.todos.append(Todo("extraction_ready", f"#{x.id} {x.reason}", "backups.extraction",
                                    {"extraction_id": x.id}, _name(x), x.decided_at))
        else:  # the bureau decides (第十九条), within its time limit
            bench.waiting.append(Todo("in_progress", f"#{x.id} {x.reason}", "backups.extraction",
                                      {"extraction_id": x.id}, _name(x), x.requested_at, "extraction", x.id,
                                      waiting=True))


def _bureau_todos(session, user, bench, limits, now):
    for r in session.scalars(select(ResourceRequest).where(ResourceRequest.state.in_(IN_REVIEW))
                             .order_by(ResourceRequest.urgent.desc(), ResourceRequest.submitted_at)):
        bench.todos.append(_request_todo("review", r, "reviews.review", "review"))
    for r in session.scalars(select(ResourceRequest).where(
            ResourceRequest.urgent.is_(True), ResourceRequest.approved_at.is_(None),
            ResourceRequest.state.in_(GREEN_PENDING))):
        bench.todos.append(_request_todo("green_approval", r, "reviews.review", since=r.state_changed_at))
    for x in session.scalars(select(BackupExtraction).where(BackupExtraction.state == ExtractionState.APPLIED)
                             .order_by(BackupExtraction.requested_at)):
        bench.todos.append(Todo("extraction_decide", f"#{x.id} {x.reason}", "backups.extraction", {"extraction_id": x.id},
                                _name(x), x.requested_at, "extraction", x.id))
    for w in session.scalars(select(MaintenanceWindow).where(MaintenanceWindow.state == MaintenanceState.SUBMITTED)
                             .order_by(MaintenanceWindow.starts_at)):
        bench.todos.append(Todo("maintenance_decide", w.title, "maintenance.detail", {"window_id": w.id},
                                since=w.applied_at))
    _overdue_of_others(session, user, bench, limits, now, ("provisioning", "grant"))


def _overdue_of_others(session, user, bench, limits, now, steps):
    """Steps others act on that are overdue: the bureau supervises them (督办)."""
    found = open_steps(session, user, steps)
    deadlines = deadlines_by_object(session, found, limits, now)
    for s in found:
        if not deadlines[(s.step, s.object_id)].overdue:
            continue
        if s.step == "grant":
            todo = Todo("overdue", f"#{s.obj.id} {s.obj.system.system_name}", "grants.detail", {"grant_id": s.obj.id},
                        _name(s.obj), s.started_at, s.step, s.object_id, waiting=True)
        else:
            todo = _request_todo("overdue", s.obj, "requests.detail", s.step, since=s.started_at, waiting=True)
        bench.waiting.append(todo)


def _vendor_todos(session, user, bench):
    for r in session.scalars(select(ResourceRequest).where(ResourceRequest.state.in_(VENDOR_STATES))
                             .order_by(ResourceRequest.id)):
        kind = "provision_failed" if r.state == RequestState.FAILED else "provision"
        endpoint = "requests.detail" if r.state == RequestState.FAILED else "provisioning.queue"
        todo = _request_todo(kind, r, endpoint, "provisioning", since=r.approved_at or r.state_changed_at)
        if endpoint == "provisioning.queue":
            todo.args = {}
        bench.todos.append(todo)
    for i in session.scalars(select(Incident).where(Incident.state.in_(ACTIVE_INCIDENTS)).order_by(Incident.detected_at)):
        bench.todos.append(Todo("incident", f"#{i.id} {i.title}", "incidents.detail", {"incident_id": i.id},
                                _name(i), i.detected_at))
    for job in session.scalars(select(RestoreJob).where(RestoreJob.state == RestoreState.REQUESTED)
                               .order_by(RestoreJob.requested_at)):
        bench.todos.append(Todo("restore", f"#{job.id}", "backups.restores", {}, _name(job), job.requested_at,
                                urgent=bool(job.urgent)))
    for g in session.scalars(select(VendorGrant).where(VendorGrant.vendor_id == user.id, VendorGrant.state.in_(
            [GrantState.REQUESTED, GrantState.APPROVED])).order_by(VendorGrant.id)):
        waiting = g.state == GrantState.REQUESTED
        todo = Todo("grant_waiting" if waiting else "grant_live", f"#{g.id} {g.system.system_name}", "grants.detail",
                    {"grant_id": g.id}, _name(g), g.created_at, "grant" if waiting else "", g.id, waiting=waiting)
        (bench.waiting if waiting else bench.todos).append(todo)


def _systems(session, user):
    """The department's systems (its new requests) with their status and health."""
    roots = list(session.scalars(scoped(select(ResourceRequest), user).where(
        ResourceRequest.kind == RequestKind.NEW, ResourceRequest.state.not_in(
            [RequestState.DRAFT, RequestState.CANCELLED, RequestState.REJECTED])).order_by(ResourceRequest.id)))
    incidents = {i.system_name for i in session.scalars(scoped(select(Incident), user)
                                                        .where(Incident.state.in_(ACTIVE_INCIDENTS)))}
    probes = {}
    for t in session.scalars(scoped(select(ProbeTarget), user).where(ProbeTarget.enabled.is_(True))):
        probes.setdefault(t.system_name, []).append(t.state)
    systems = []
    for r in roots:
        status = system_status(session, r.id)
        if status == "decommissioned":
            continue
        states = probes.get(r.system_name, [])
        if r.system_name in incidents:
            health = "incident"
        elif ProbeState.DOWN in states:
            health = "down"
        elif status == "pending":
            health = "pending"
        elif states and all(s == ProbeState.UP for s in states):
            health = "ok"
        else:
            health = "unknown"
        systems.append({"request": r, "status": status, "health": health, "probes": len(states)})
    return systems


def _set_deadlines(session, user, bench, limits, now):
    """The deadline of each timed to-do: reckoned for the listed objects only (at a city's scale the
    open steps of every department are tens of thousands, each a walk through the calendar)."""
    timed = [t for t in bench.todos + bench.waiting if t.step]
    if not timed:
        return
    wanted = {(t.step, t.object_id) for t in timed}
    reader = user if user.role == Role.DEPARTMENT else None  # a department's to-dos are all its own
    steps = [s for s in open_steps(session, reader, tuple({t.step for t in timed})) if (s.step, s.object_id) in wanted]
    deadlines = deadlines_by_object(session, steps, limits, now)
    for t in timed:
        t.deadline = deadlines.get((t.step, t.object_id))


def collect(session, user, now, limits=None):
    """Return the user's Workbench: to-dos (with their deadlines), what waits on others, systems."""
    bench = Workbench()
    limits = limits or TimeLimits()
    if user.role == Role.DEPARTMENT:
        _department_todos(session, user, bench)
    elif user.role == Role.BUREAU:
        _bureau_todos(session, user, bench, limits, now)
    elif user.role == Role.VENDOR:
        _vendor_todos(session, user, bench)
    elif user.role == Role.SECURITY:
        locked = users.count_locked(session, user)
        if locked:
            bench.todos.append(Todo("locked", str(locked), "users.index", {}))
    if user.role in (Role.ADMIN, Role.BUREAU):
        for year in missing_years(session, as_local_date(now)):
            bench.todos.append(Todo("calendar", str(year), "calendar.edit", {"year": year}))
    if user.role == Role.AUDITOR:  # read-only: what is overdue, for the record
        _overdue_of_others(session, user, bench, limits, now, ("review", "provisioning", "extraction", "grant"))
    bench.todos.extend(Todo(*row) for row in duty_todos.todos(session, user))
    _set_deadlines(session, user, bench, limits, now)
    return bench


def _counted(stmt):
    return select(func.count()).select_from(stmt.subquery()).scalar_subquery()


def _count_selects(user):
    """The selects whose rows are user's to-dos, kind by kind as collect() lists them (one query for all)."""
    requests = scoped(select(ResourceRequest.id), user)
    if user.role == Role.DEPARTMENT:
        selects = [requests.where(ResourceRequest.state.in_([RequestState.RETURNED, RequestState.DRAFT])),
                   scoped(select(DeliveryReceipt.id), user).join(DeliveryReceipt.request).where(
                       DeliveryReceipt.confirmed_at.is_(None), ResourceRequest.state == RequestState.PROVISIONED),
                   scoped(select(BackupExtraction.id), user).where(BackupExtraction.state == ExtractionState.READY)]
        if user.is_dept_admin:
            selects.append(scoped(select(VendorGrant.id), user).where(VendorGrant.state == GrantState.REQUESTED))
        return selects
    if user.role == Role.BUREAU:
        return [requests.where(ResourceRequest.state.in_(IN_REVIEW)),
                requests.where(ResourceRequest.urgent.is_(True), ResourceRequest.approved_at.is_(None),
                               ResourceRequest.state.in_(GREEN_PENDING)),
                select(BackupExtraction.id).where(BackupExtraction.state == ExtractionState.APPLIED),
                select(MaintenanceWindow.id).where(MaintenanceWindow.state == MaintenanceState.SUBMITTED)]
    if user.role == Role.VENDOR:
        return [requests.where(ResourceRequest.state.in_(VENDOR_STATES)),
                select(Incident.id).where(Incident.state.in_(ACTIVE_INCIDENTS)),
                select(RestoreJob.id).where(RestoreJob.state == RestoreState.REQUESTED),
                select(VendorGrant.id).where(VendorGrant.vendor_id == user.id, VendorGrant.state == GrantState.APPROVED)]
    return []


def todo_count(session, user, now):
    """Return how many to-dos wait for user (the navigation's badge): one query, no time limits reckoned."""
    selects = _count_selects(user) + duty_todos.selects(user)
    count = sum(session.execute(select(*(_counted(s) for s in selects))).one()) if selects else 0
    if user.role == Role.SECURITY:
        count += 1 if users.count_locked(session, user) else 0
    if user.role in (Role.ADMIN, Role.BUREAU):
        count += len(missing_years(session, as_local_date(now)))
    return count


def home_summary(session, user, now=None, limits=None):
    """Return the figures and lists of user's home page, with its workbench."""
    now = now or utcnow()
    summary = {"role": user.role, "bench": collect(session, user, now, limits)}
    if user.role == Role.DEPARTMENT:
        summary["department"] = departments.get_department(session, user, user.department_id)
        summary["member_count"] = users.count_users(session, user)
        summary["recent_events"] = audit.recent_events(session, user, 5)
        summary["systems"] = _systems(session, user)
        return summary
    if user.role == Role.EXPERT:  # 评审专家: the projects assigned to them, nothing else
        summary["assignments"] = assignments_of(session, user)
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
        summary["recent_events"] = audit.recent_events(session, user, 10)
    return summary


def database_ok(session):
    """Return True when the database answers."""
    return session.execute(select(text("1"))).scalar() == 1

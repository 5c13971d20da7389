"""Write and read the audit log (操作日志)."""
import csv
import io
import logging
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import func, or_, select

from .. import audit_chain
from ..database import utcnow
from ..errors import Forbidden
from ..crypto.masking import mask_record
from ..models.accounts import Role
from ..labels import ACTION_LABELS, OBJECT_LABELS, OUTCOME_LABELS, ROLE_LABELS
from ..text import _l
from ..models.audit import AuditEvent
from ..models.requests import ResourceRequest
from ..pagination import paginate
from ..scoping import scoped

log = logging.getLogger(__name__)
# who reads the audit log (department users: their department's events). 三权分立: the system and the
# security administrators do not; the audit administrator (auditor) reads, exports and verifies it
READERS = (Role.BUREAU, Role.AUDITOR, Role.DEPARTMENT)


def _readable(user):
    """Return select(AuditEvent) scoped to user; raise Forbidden when user may not read the log."""
    if user is None or getattr(user, "role", None) not in READERS:
        raise Forbidden()
    return scoped(select(AuditEvent), user)


@dataclass
class RequestInfo:
    """Who is acting and from where; views build it from the request."""

    actor: object = None
    correlation_id: str = ""  # the HTTP request's X-Request-ID (or a job's name): audit and logs share it
    remote_addr: str = ""
    extra: dict = field(default_factory=dict)


def record_event(session, ctx, action, *, object_type="", object_id="", department_id=None,
                 before=None, after=None, outcome="success", detail="", actor=None):
    """Record an audit event in session: inserted, sealed into the chain, when the caller's
    transaction commits (and dropped if it rolls back; see record_failure for that case)."""
    actor = actor if actor is not None else ctx.actor
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor_username=actor.username if actor is not None else "",
        actor_role=actor.role if actor is not None else "",
        department_id=department_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else "",
        before=mask_record(before),  # phones and e-mails never in clear in the log
        after=mask_record(after),
        outcome=outcome,
        request_id=ctx.correlation_id,
        remote_addr=ctx.remote_addr,
        detail=detail,
    )
    audit_chain.track(session, event)
    log.info("audit action=%s outcome=%s actor=%s object=%s:%s department=%s", action, outcome,
             event.actor_username or "-", object_type or "-", event.object_id or "-",
             department_id if department_id is not None else "-",
             extra={"request_id": ctx.correlation_id or "-"})
    return event


MAX_FAILED = 20


def record_failures(session, ctx, events, error):
    """Record `<action>.failed` for events an operation wrote before it failed and was rolled back
    (call with a session of a new transaction): who, what and on which object, and the error; not
    their before/after, which never came to be."""
    from ..models.accounts import Department, User
    for ev in events[:MAX_FAILED]:
        failed = AuditEvent(
            occurred_at=utcnow(),
            actor_id=ev.actor_id if ev.actor_id and session.get(User, ev.actor_id) else None,
            actor_username=ev.actor_username or "", actor_role=ev.actor_role or "",
            department_id=ev.department_id if ev.department_id and session.get(Department, ev.department_id) else None,
            action=f"{(ev.action or '')[:57]}.failed", object_type=ev.object_type or "",
            object_id=ev.object_id or "", before=None, after=None, outcome="failure",
            request_id=ev.request_id or ctx.correlation_id, remote_addr=ev.remote_addr or ctx.remote_addr,
            detail=error[:2000])
        audit_chain.track(session, failed)
        log.warning("audit action=%s outcome=failure object=%s:%s error=%s", failed.action,
                    failed.object_type or "-", failed.object_id or "-", error[:200])


def recent_events(session, user, limit=10):
    """Return the newest audit events user may see (a home page's list: no count of the whole log)."""
    stmt = _readable(user).order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(limit)
    return list(session.scalars(stmt))


@dataclass
class AuditFilter:
    """What the audit search narrows by; empty fields do not narrow."""

    since: datetime | None = None
    until: datetime | None = None
    department_id: int | None = None
    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    request_id: str = ""
    outcome: str = ""
    q: str = ""  # free text: user, object id, detail, or a word of the action's or object's label


def days_filter(zone, *, since=None, until=None, department_id=None, actor="", action="", object_type="",
                object_id="", request_id="", outcome="", q=""):
    """Return the AuditFilter of a search by whole days in zone: from since's first moment to the end
    of until (the audit page's and the API's dates); text is compared stripped."""
    def day_start(d):
        return datetime.combine(d, time.min, zone).astimezone(timezone.utc) if d else None

    return AuditFilter(since=day_start(since), until=day_start(until + timedelta(days=1)) if until else None,
                       department_id=department_id, actor=(actor or "").strip(), action=action or "",
                       object_type=(object_type or "").strip(), object_id=(object_id or "").strip(),
                       request_id=(request_id or "").strip(), outcome=outcome or "", q=(q or "").strip())


@dataclass
class KeysetPage:
    """One page of a newest-first list; `older`/`newer` are the ids to continue from."""

    items: list
    older: int | None
    newer: int | None


def _filtered(user, f):
    stmt = _readable(user)
    if f.since is not None:
        stmt = stmt.where(AuditEvent.occurred_at >= f.since)
    if f.until is not None:
        stmt = stmt.where(AuditEvent.occurred_at < f.until)
    if f.department_id is not None:
        stmt = stmt.where(AuditEvent.department_id == f.department_id)
    for column, value in ((AuditEvent.actor_username, f.actor), (AuditEvent.action, f.action),
                          (AuditEvent.object_type, f.object_type),
                          (AuditEvent.object_id, f.object_id),
                          (AuditEvent.request_id, f.request_id),
                          (AuditEvent.outcome, f.outcome)):
        if value:
            stmt = stmt.where(column == value)
    if f.q:
        actions = [k for k, v in ACTION_LABELS.items() if f.q.lower() in str(v).lower()]
        objects = [k for k, v in OBJECT_LABELS.items() if f.q.lower() in str(v).lower()]
        stmt = stmt.where(or_(AuditEvent.actor_username.contains(f.q, autoescape=True),
                              AuditEvent.object_id == f.q, AuditEvent.detail.contains(f.q, autoescape=True),
                              AuditEvent.action.in_(actions), AuditEvent.object_type.in_(objects)))
    return stmt


def count_events(session, user, f):
    """Return how many events f selects (the total shown above the audit table)."""
    return session.scalar(select(func.count()).select_from(_filtered(user, f).subquery()))


MISSING = object()


def change_rows(before, after):
    """Return [(field, value before or MISSING, value after or MISSING)] of an event, fields sorted;
    a field whose value did not change is listed once (after)."""
    before = before if isinstance(before, dict) else ({} if before is None else {"": before})
    after = after if isinstance(after, dict) else ({} if after is None else {"": after})
    rows = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key, MISSING), after.get(key, MISSING)
        rows.append((key, MISSING if old == new else old, new))
    return rows


def request_numbers(session, events):
    """Return {event id: 申请编号} of the events about a resource request (the audit table's column)."""
    ids = {int(e.object_id) for e in events if e.object_type == "resource_request" and str(e.object_id).isdigit()}
    if not ids:
        return {}
    numbers = dict(session.execute(select(ResourceRequest.id, ResourceRequest.number)
                                   .where(ResourceRequest.id.in_(ids))).all())
    return {e.id: numbers.get(int(e.object_id)) for e in events
            if e.object_type == "resource_request" and str(e.object_id).isdigit()}


def search_page(session, user, f, *, page=1, per_page=20):
    """Return one numbered page of the events f selects, newest first."""
    return paginate(session, _filtered(user, f).order_by(AuditEvent.id.desc()), page, per_page)


def search_events(session, user, f, *, before=None, after=None, per_page=50):
    """Return a page of events newest first, continuing below id `before` or above `after`.

    Keyset pagination on the primary key: the cost of a page does not grow with the table.
    """
    stmt = _filtered(user, f)
    if after is not None:  # the page just above `after`: fetched upwards, shown newest first
        rows = list(session.scalars(stmt.where(AuditEvent.id > after)
                                    .order_by(AuditEvent.id.asc()).limit(per_page + 1)))
        items = list(reversed(rows[:per_page]))
        newer = items[0].id if len(rows) > per_page else None
        return KeysetPage(items, items[-1].id if items else None, newer)
    if before is not None:
        stmt = stmt.where(AuditEvent.id < before)
    rows = list(session.scalars(stmt.order_by(AuditEvent.id.desc()).limit(per_page + 1)))
    items = rows[:per_page]
    older = items[-1].id if len(rows) > per_page else None
    newer = items[0].id if before is not None and items else None
    return KeysetPage(items, older, newer)


CSV_COLUMNS = ("seq", "occurred_at", "actor_username", "actor_role", "department_id", "action",
               "object_type", "object_id", "outcome", "request_id", "remote_addr", "before",
               "after", "detail", "hash")


# the export's header row (in the reader's language) and the columns shown by their labels
CSV_HEADERS = {
    "seq": _l("Sequence"), "occurred_at": _l("Time (Beijing time)"), "actor_username": _l("User"),
    "actor_role": _l("Role"), "department_id": _l("Department ID"), "action": _l("Action"),
    "object_type": _l("Object type"), "object_id": _l("Object ID"), "outcome": _l("Outcome"),
    "request_id": _l("Trace ID"), "remote_addr": _l("Address"), "before": _l("Before"), "after": _l("After"),
    "detail": _l("Detail"), "hash": _l("Hash"),
}
CSV_LABELS = {"actor_role": ROLE_LABELS, "action": ACTION_LABELS, "object_type": OBJECT_LABELS,
              "outcome": OUTCOME_LABELS}


def export_csv(new_session, user, f, batch=1000, zone=None):
    """Yield the filtered events as CSV text, oldest first, a batch at a time (constant memory).

    With a zone (the audit page's export, for people): headers and coded values (role, action,
    object, outcome) by their labels, times in zone; without (the API's, for programs): column
    names, codes and ISO times in UTC.

    It reads through a session of its own (from new_session()), closed when the export ends or
    is abandoned, so a slow or vanished client holds no connection of the request's session.
    """
    import json
    buf = io.StringIO()
    writer = csv.writer(buf)
    buf.write("\ufeff")  # Excel reads UTF-8 Chinese text only with a BOM
    writer.writerow([str(CSV_HEADERS[name]) for name in CSV_COLUMNS] if zone else CSV_COLUMNS)
    yield buf.getvalue()
    buf.seek(0)
    buf.truncate()
    last_id = 0
    # plain rows, not ORM objects: a few times faster over millions of events, nothing kept between batches
    base = _filtered(user, f).with_only_columns(
        AuditEvent.id, *(getattr(AuditEvent, name) for name in CSV_COLUMNS)).order_by(AuditEvent.id.asc())
    with new_session() as session:
        while True:
            rows = session.execute(base.where(AuditEvent.id > last_id).limit(batch)).all()
            for row in rows:
                values = []
                for name, value in zip(CSV_COLUMNS, row[1:]):
                    if isinstance(value, datetime):
                        value = (value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if zone
                                 else value.isoformat(timespec="seconds"))
                    elif zone and name in CSV_LABELS and value:
                        value = str(CSV_LABELS[name].get(value, value))
                    elif isinstance(value, (dict, list)):
                        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
                    values.append("" if value is None else value)
                writer.writerow(values)
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
            if len(rows) < batch:
                return
            last_id = rows[-1][0]


VERIFIERS = (Role.AUDITOR,)  # 三权分立: verifying the log is the audit administrator's duty
PROBLEM_KINDS = ("altered", "deleted", "inserted", "reordered", "digest")


def verify_log(session, ctx, key):
    """Walk the whole chain and check the signed digests (audit_chain.verify) for the audit
    administrator; the check itself is audited with its result. Return the report."""
    if ctx.actor is None or ctx.actor.role not in VERIFIERS:
        raise Forbidden()
    report = audit_chain.verify(session, key)
    record_event(session, ctx, "audit.verify", object_type="audit_log", outcome="success" if report.ok else "failure",
                 after={"events": report.events, "digests": report.digests, "problems": len(report.problems),
                        "key": key is not None})
    session.commit()
    return report

"""Write and read the audit log (操作日志)."""
import logging
from dataclasses import dataclass, field

from sqlalchemy import select

from .. import audit_chain
from ..models import AuditEvent
from ..pagination import paginate
from ..scoping import scoped

log = logging.getLogger(__name__)


@dataclass
class RequestInfo:
    """Who is acting and from where; views build it from the request."""

    actor: object = None
    request_id: str = ""
    remote_addr: str = ""
    extra: dict = field(default_factory=dict)


def record_event(session, ctx, action, *, object_type="", object_id="", department_id=None,
                 before=None, after=None, outcome="success", detail="", actor=None):
    """Add an audit event to session (committed with the caller's transaction)."""
    actor = actor if actor is not None else ctx.actor
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        actor_username=actor.username if actor is not None else "",
        actor_role=actor.role if actor is not None else "",
        department_id=department_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else "",
        before=before,
        after=after,
        outcome=outcome,
        request_id=ctx.request_id,
        remote_addr=ctx.remote_addr,
        detail=detail,
    )
    session.add(event)
    audit_chain.track(session, event)
    log.info("audit action=%s outcome=%s actor=%s object=%s:%s department=%s", action, outcome,
             event.actor_username or "-", object_type or "-", event.object_id or "-",
             department_id if department_id is not None else "-",
             extra={"request_id": ctx.request_id or "-"})
    return event


def list_events(session, user, *, action="", actor="", page=1, per_page=20):
    """Return one page of the audit events user may see, newest first."""
    stmt = scoped(select(AuditEvent), user)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if actor:
        stmt = stmt.where(AuditEvent.actor_username == actor)
    stmt = stmt.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    return paginate(session, stmt, page, per_page)

"""The live inventory as the pages and the API show it (issue 18): lists with filters, search,
sorting and pagination read from the database only; one object and what links to it; the
refresh of one object; and the actions a department takes on its own servers.

Who acts on a server (第十八条): a user of the server's department; the vendor only during a live
grant of that department on the server's system; the bureau and the auditor only look.
"""
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, or_, select

from ..database import utcnow
from ..errors import Forbidden, NotFound, PortalError, ValidationFailed, WrongState
from ..models.accounts import Department, Role
from ..models.audit import AuditEvent
from ..models.grants import GrantState, VendorGrant
from ..models.inventory import ITEM_KIND_LABELS, InventoryItem, InventorySync, ItemKind
from ..models.requests import ResourceRequest
from ..pagination import paginate
from ..scoping import get_scoped, scoped
from ..text import _l
from .audit import record_event

SORTS = {"name": InventoryItem.name, "status": InventoryItem.status, "flavor": InventoryItem.flavor,
         "host": InventoryItem.host, "created": InventoryItem.cloud_created_at,
         "department": InventoryItem.department_id}
FILTERS = ("department_id", "system_id", "status", "flavor", "image", "host")
# action: (states it may start from, the state it asks for)
ACTIONS = {"start": ({"SHUTOFF"}, "ACTIVE"), "stop": ({"ACTIVE"}, "SHUTOFF"),
           "reboot_soft": ({"ACTIVE"}, "ACTIVE"), "reboot_hard": ({"ACTIVE", "SHUTOFF", "ERROR"}, "ACTIVE")}
ACTION_LABELS = {"start": _l("Power on"), "stop": _l("Stop"), "reboot_soft": _l("Reboot"),
                 "reboot_hard": _l("Hard reboot"), "console": _l("Console log"), "snapshot": _l("Snapshot now"),
                 "refresh": _l("Refresh")}
ACTORS = {Role.DEPARTMENT, Role.VENDOR}
POWER_LABELS = {"RUNNING": _l("Running"), "SHUTDOWN": _l("Shut down"), "PAUSED": _l("Paused"),
                "CRASHED": _l("Crashed"), "SUSPENDED": _l("Suspended"), "NOSTATE": _l("No state")}
DIRECTION_LABELS = {"ingress": _l("Inbound"), "egress": _l("Outbound")}


class TooManyActions(PortalError):
    http_status = 429

    def default_message(self):
        return _l("Too many server actions in a short time. Please wait a minute and try again.")


class CloudUnanswered(PortalError):
    """The cloud could not be asked now (HTTP 503); nothing was done."""

    http_status = 503

    def default_message(self):
        return _l("The cloud did not answer; nothing was done. Please try again later.")


@dataclass
class Query:
    kind: str = ItemKind.SERVER
    department_id: int | None = None
    system_id: int | None = None
    status: str = ""
    flavor: str = ""
    image: str = ""
    host: str = ""
    q: str = ""
    sort: str = "name"
    desc: bool = False
    gone: bool = False  # show what the cloud no longer has (drift)


def items_select(user, query):
    """The select of the items user may see that match query (no paging)."""
    stmt = scoped(select(InventoryItem), user).where(InventoryItem.kind == query.kind)
    stmt = stmt.where(InventoryItem.gone_at.is_not(None) if query.gone else InventoryItem.gone_at.is_(None))
    for name in FILTERS:
        value = getattr(query, name)
        if value not in (None, ""):
            stmt = stmt.where(getattr(InventoryItem, name) == value)
    if query.q.strip():
        stmt = stmt.where(InventoryItem.search_text.like(_pattern(query.q), escape="\\"))
    column = SORTS.get(query.sort, InventoryItem.name)
    return stmt.order_by(column.desc() if query.desc else column.asc(), InventoryItem.id)


def _pattern(q):
    """LIKE pattern of a search: a whole address or id matches that token only, anything else a part."""
    import ipaddress
    import uuid
    text = q.strip().lower()[:100]
    needle = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    for parse in (ipaddress.ip_address, uuid.UUID):
        try:
            parse(text)
        except ValueError:
            continue
        return f"% {needle} %"
    return f"%{needle}%"


def list_items(session, user, query, page=1, per_page=80):
    """One page of items, with their department's and system's names loaded in two queries."""
    from sqlalchemy.orm import load_only, selectinload
    stmt = items_select(user, query).options(
        selectinload(InventoryItem.department).options(load_only(Department.id, Department.name)),
        selectinload(InventoryItem.system).options(load_only(ResourceRequest.id, ResourceRequest.system_name)))
    return paginate(session, stmt, page, per_page)


def filter_choices(session, user, kind):
    """The values the filters offer: departments and systems (with names), statuses, flavors, images, hosts."""
    base = scoped(select(InventoryItem), user).where(InventoryItem.kind == kind, InventoryItem.gone_at.is_(None))
    sub = base.subquery()

    def values(column):
        return [v for v in session.scalars(select(sub.c[column]).distinct().order_by(sub.c[column])) if v]

    departments = []
    if user.role != Role.DEPARTMENT:
        departments = session.execute(select(Department.id, Department.name).where(
            Department.id.in_(select(sub.c.department_id))).order_by(Department.code)).all()
    systems = session.execute(select(ResourceRequest.id, ResourceRequest.system_name).where(
        ResourceRequest.id.in_(select(sub.c.system_id))).order_by(ResourceRequest.system_name)).all()
    return {"departments": departments, "systems": systems, "status": values("status"),
            "flavor": values("flavor"), "image": values("image"),
            "host": values("host") if user.role in (Role.VENDOR, Role.ADMIN) else []}


def freshness(session):
    """The time the inventory was last brought up to date (any mode), or None."""
    return session.scalar(select(func.max(InventorySync.finished_at)))


def counts(session, user):
    """{kind: number of live items} user may see."""
    rows = session.execute(scoped(select(InventoryItem.kind, func.count()), user)
                           .where(InventoryItem.gone_at.is_(None)).group_by(InventoryItem.kind)).all()
    return {kind: n for kind, n in rows}


def get_item(session, user, item_id):
    return get_scoped(session, InventoryItem, item_id, user, kind=_l("Cloud resource"))


def related(session, item):
    """What links to an item: its system's requests, the attached volumes or the server it is on."""
    out = {"requests": [], "volumes": [], "servers": []}
    if item.system_id is not None:
        out["requests"] = list(session.scalars(select(ResourceRequest).where(or_(
            ResourceRequest.id == item.system_id, ResourceRequest.system_id == item.system_id))
            .order_by(ResourceRequest.id)))
    ids = (item.attributes or {}).get("volumes") or (item.attributes or {}).get("attached_to") or []
    if ids:
        kind = ItemKind.VOLUME if item.kind == ItemKind.SERVER else ItemKind.SERVER
        found = list(session.scalars(select(InventoryItem).where(InventoryItem.kind == kind,
                                                                 InventoryItem.openstack_id.in_(ids[:50]))))
        out["volumes" if kind == ItemKind.VOLUME else "servers"] = found
    return out


def _vendor_grant(session, user, item, now):
    return session.scalars(select(VendorGrant).where(
        VendorGrant.vendor_id == user.id, VendorGrant.system_id == item.system_id,
        VendorGrant.state == GrantState.APPROVED, VendorGrant.starts_at <= now,
        VendorGrant.ends_at > now)).first()


def may_act(session, user, item, now=None):
    """(allowed, grant) for user acting on item's server."""
    now = now or utcnow()
    if item.kind != ItemKind.SERVER or item.gone_at is not None or item.department_id is None:
        return False, None
    if user.role == Role.DEPARTMENT:
        return user.department_id == item.department_id, None
    if user.role == Role.VENDOR and item.system_id is not None:
        grant = _vendor_grant(session, user, item, now)
        return grant is not None, grant
    return False, None


def _check_rate(session, user, settings, now):
    limit = int(settings.get("SERVER_ACTIONS_PER_MINUTE") or 6)
    recent = session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.actor_id == user.id, AuditEvent.action.like("server.%"),
        AuditEvent.occurred_at >= now - timedelta(minutes=1)))
    if recent >= limit:
        raise TooManyActions()


def _authorize(session, ctx, item_id, what, settings, now):
    user = ctx.actor
    if user is None or user.role not in ACTORS:
        raise Forbidden()
    item = get_item(session, user, item_id)
    allowed, grant = may_act(session, user, item, now)
    if not allowed:
        record_event(session, ctx, f"access.server.{what}", object_type="server", object_id=item.openstack_id,
                     department_id=item.department_id, outcome="denied",
                     detail="no live grant" if user.role == Role.VENDOR else "not this department's server")
        session.commit()
        if user.role == Role.VENDOR:
            raise Forbidden(_l("The vendor acts on a department's servers only during a live grant."))
        raise NotFound(_l("Cloud resource"), item_id)
    _check_rate(session, user, settings, now)
    return item, grant


def server_action(session, ctx, settings, cloud, item_id, action):
    """Start, stop or reboot a server; audited with the cloud's answer; commits. Returns the item."""
    from provisioner import errors as cloud_errors
    now = utcnow()
    item, grant = _authorize(session, ctx, item_id, action if action in ACTIONS else "action", settings, now)
    if action not in ACTIONS:
        raise ValidationFailed(_l("Unknown action."), field="action")
    allowed_from, expected = ACTIONS[action]
    try:
        _read_afresh(session, settings, cloud, item)  # the state decides, not the last cycle's copy
    except cloud_errors.ProvisioningError as exc:
        raise CloudUnanswered() from exc
    if (item.attributes or {}).get("task_state") and item.gone_at is None:
        raise WrongState(_l("The server is busy (%(task)s): try again when it is done.",
                            task=item.attributes["task_state"]))
    if item.gone_at is not None or item.status not in allowed_from:
        raise WrongState(_l("The server is %(state)s: %(action)s is not possible now.",
                            state=status_label(item), action=ACTION_LABELS[action]))
    detail = {"action": action, "grant": grant.id if grant else None, "before": item.status}
    try:
        answer = cloud.server_action(item.openstack_id, action)
    except cloud_errors.ProvisioningError as exc:
        record_event(session, ctx, f"server.{action}", object_type="server", object_id=item.openstack_id,
                     department_id=item.department_id, outcome="failure", after=detail,
                     detail=str(exc)[:500])
        session.commit()
        if isinstance(exc, cloud_errors.TransientCloudError):
            raise CloudUnanswered() from exc
        raise ValidationFailed(_l("The cloud refused the action: %(error)s", error=str(exc)[:200])) from exc
    item.attributes = dict(item.attributes or {}, expected=expected)
    item.status = answer or item.status
    record_event(session, ctx, f"server.{action}", object_type="server", object_id=item.openstack_id,
                 department_id=item.department_id, after=dict(detail, cloud_status=answer))
    session.commit()
    return item


def _read_afresh(session, settings, cloud, item):
    from sqlalchemy import inspect as sa_inspect

    from .inventory_store import refresh_one
    refresh_one(session, settings, cloud, item, commit=False)
    session.flush()
    if sa_inspect(item).was_deleted:
        session.commit()
        raise NotFound(_l("Cloud resource"), item.id)


def console_log(session, ctx, settings, cloud, item_id, length=100):
    """The last lines of a server's console log; audited."""
    now = utcnow()
    item, grant = _authorize(session, ctx, item_id, "console", settings, now)
    text = cloud.server_console_output(item.openstack_id, length=length)
    record_event(session, ctx, "server.console", object_type="server", object_id=item.openstack_id,
                 department_id=item.department_id,
                 after={"grant": grant.id if grant else None, "lines": text.count("\n")})
    session.commit()
    return item, text


def snapshot_now(session, ctx, settings, item_id):
    """Queue an on-demand backup of the server's system through the backup engine (its policy)."""
    from backup.engine import queue_run
    from ..models.backups import BackupPolicy
    now = utcnow()
    item, grant = _authorize(session, ctx, item_id, "snapshot", settings, now)
    policy = session.scalars(select(BackupPolicy).where(BackupPolicy.system_id == item.system_id,
                                                        BackupPolicy.enabled.is_(True))).first() \
        if item.system_id is not None else None
    if policy is None:
        raise WrongState(_l("The server's system has no enabled backup policy: create one first."))
    record_event(session, ctx, "server.snapshot", object_type="server", object_id=item.openstack_id,
                 department_id=item.department_id, after={"policy": policy.id, "grant": grant.id if grant else None})
    return queue_run(session, ctx, policy, requested_by=ctx.actor, now=now)


def refresh(session, ctx, settings, cloud, item_id):
    """Read one object afresh from the cloud (any role that sees it); returns the item or None if gone."""
    from .inventory_store import refresh_one
    item = get_item(session, ctx.actor, item_id)
    refresh_one(session, settings, cloud, item)
    return session.get(InventoryItem, item_id)


def status_text(kind, status):
    from ..models.inventory import NETWORK_STATUS_LABELS, STATUS_LABELS
    labels = STATUS_LABELS if kind in (ItemKind.SERVER, ItemKind.VOLUME, ItemKind.SNAPSHOT,
                                       ItemKind.BACKUP) else NETWORK_STATUS_LABELS
    return labels.get(status, status or "—")


def status_label(item):
    return status_text(item.kind, item.status)


def kind_label(kind):
    return ITEM_KIND_LABELS.get(kind, kind)


EXPORT_LIMIT = 50000


def export_rows(session, user, query):
    """(headings, rows) of what query selects, for CSV/XLSX: Chinese headings, Beijing time."""
    from flask_babel import format_datetime, gettext as _
    headings = [_("Name"), _("Department"), _("System"), _("Status"), _("Flavor"), _("vCPU (cores)"),
                _("Memory (GB)"), _("Fixed IPs"), _("Floating IPs"), _("Image"), _("Created"), "ID"]
    if user.role in (Role.VENDOR, Role.ADMIN):
        headings.append(_("Host"))
    names = dict(session.execute(select(Department.id, Department.name)).all())
    systems = dict(session.execute(select(ResourceRequest.id, ResourceRequest.system_name)).all())
    rows = []
    for item in session.scalars(items_select(user, query).limit(EXPORT_LIMIT)):
        a = item.attributes or {}
        row = [item.name, names.get(item.department_id, ""), systems.get(item.system_id, ""), str(status_label(item)),
               item.flavor, a.get("vcpus", ""), round(a.get("ram_mib", 0) / 1024, 1) if a.get("ram_mib") else "",
               " ".join(x["addr"] for x in a.get("fixed_ips", []) if x.get("addr")),
               " ".join(x["addr"] for x in a.get("floating_ips", []) if x.get("addr")) or a.get("address") or "",
               item.image, format_datetime(item.cloud_created_at, "yyyy-MM-dd HH:mm") if item.cloud_created_at else "",
               item.openstack_id]
        if user.role in (Role.VENDOR, Role.ADMIN):
            row.append(item.host)
        rows.append(row)
    return headings, rows

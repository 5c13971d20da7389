"""Storing what the cloud listed in the live inventory (issue 18): upserts by kind and id, what the
cloud no longer has marked gone (or dropped when a request of the portal deleted it). A server of a
system found stopped or in error although nobody asked for it, a volume in error, an object deleted
behind the portal's back: each opens an incident for the system, resolved when the state is back."""
from datetime import datetime, timezone

from sqlalchemy import select

from ..database import utcnow
from ..models.accounts import Department
from ..models.inventory import InventoryItem, ItemKind
from ..models.requests import CloudResource, ResourceRequest
from . import incidents
from .probes import SYSTEM_CTX

NEUTRON = {ItemKind.NETWORK, ItemKind.SUBNET, ItemKind.ROUTER, ItemKind.SECURITY_GROUP, ItemKind.FLOATING_IP}
UNEXPECTED = {ItemKind.SERVER: {"SHUTOFF", "ERROR"}, ItemKind.VOLUME: {"error", "error_extending"}}
BATCH = 500


def _parse(text):
    if not text:
        return None
    value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _search_text(item):
    attrs = item["attributes"]
    parts = [item["name"], item["id"], attrs.get("address") or "", attrs.get("cidr") or ""]
    parts += [a.get("addr") or "" for a in attrs.get("fixed_ips", []) + attrs.get("floating_ips", [])]
    return (" " + " ".join(p for p in parts if p).lower()[:1998] + " ")  # tokens between spaces


def _rows(session, keys):
    """{(kind, openstack_id): row} of the given keys (any number), in batches."""
    out, keys = {}, list(keys)
    for start in range(0, len(keys), BATCH):
        batch = keys[start:start + BATCH]
        ids = {i for _, i in batch}
        for row in session.scalars(select(InventoryItem).where(InventoryItem.openstack_id.in_(ids))):
            out[(row.kind, row.openstack_id)] = row
    return out


def _owners(session):
    """({project id: department id}, {openstack id: (system id, deleted by the portal, department id)})."""
    departments = dict(session.execute(select(Department.openstack_project_id, Department.id)
                                       .where(Department.openstack_project_id.is_not(None))).all())
    systems = {}
    for openstack_id, system_id, created_by, deleted, department_id in session.execute(
            select(CloudResource.openstack_id, CloudResource.system_id, CloudResource.created_by_request_id,
                   CloudResource.deleted, CloudResource.department_id).where(CloudResource.openstack_id != "")):
        systems[openstack_id] = (system_id or created_by, deleted, department_id)
    return departments, systems


def _system_name(session, system_id):
    return session.scalar(select(ResourceRequest.system_name).where(ResourceRequest.id == system_id)) or ""


def _incident_title(row, problem):
    return f"{row.name or row.openstack_id}: {problem}"[:255]


def _open(session, settings, row, problem, detail, now):
    """Open an incident for the row's system unless one with the same title is still open."""
    if row.system_id is None:
        return 0
    title = _incident_title(row, problem)
    if incidents.find_active(session, row.department_id, title) is not None:
        return 0
    incidents.open_resource_incident(session, SYSTEM_CTX, settings, department_id=row.department_id,
                                     system_name=_system_name(session, row.system_id), title=title,
                                     detail=detail, at=now)
    return 1


def _resolve(session, settings, row, problem, now):
    incident = incidents.find_active(session, row.department_id, _incident_title(row, problem))
    if incident is not None:
        incidents.resolve_incident(session, SYSTEM_CTX, settings, incident, at=now,
                                   note=f"{row.kind} {row.openstack_id}: {row.status}")


def apply_listing(session, settings, listing, now=None):
    """Store a listing of Cloud.live_listing; return (changed, gone, incidents opened)."""
    now = now or utcnow()
    departments, systems = _owners(session)
    items = listing["items"]
    existing = _rows(session, [(i["kind"], i["id"]) for i in items] + list(listing["gone"]))
    changed = opened = 0
    for item in items:
        key = (item["kind"], item["id"])
        row = existing.get(key)
        before = row.status if row is not None and row.gone_at is None else None
        if row is None:
            row = existing[key] = InventoryItem(kind=item["kind"], openstack_id=item["id"], attributes={})
            session.add(row)
        expected = (row.attributes or {}).get("expected")
        row.project_id = item["project_id"]
        system_id, _, owner = systems.get(item["id"], (None, False, None))
        row.department_id = departments.get(item["project_id"], owner)
        row.system_id = system_id
        row.name, row.status = item["name"][:255], item["status"][:32]
        row.flavor, row.image, row.host = item["flavor"][:64], item["image"][:255], item["host"][:255]
        attributes = dict(item["attributes"])
        if expected and expected != item["status"] and item["status"] in UNEXPECTED.get(item["kind"], ()):
            attributes.pop("expected", None)  # the cloud went elsewhere than the action asked
        elif expected:
            attributes["expected"] = expected
        row.attributes = attributes
        row.search_text = _search_text(item)
        row.cloud_created_at, row.cloud_updated_at = _parse(item["created_at"]), _parse(item["updated_at"])
        row.synced_at, row.gone_at = now, None
        changed += 1
        bad = UNEXPECTED.get(item["kind"], set())
        if row.status in bad and before not in bad and expected != row.status:
            opened += _open(session, settings, row, "unexpected " + row.status,
                            f"{row.kind} {row.openstack_id} {before or '-'} → {row.status}", now)
        elif before in bad and row.status not in bad:
            _resolve(session, settings, row, "unexpected " + before, now)
    gone_keys = set(listing["gone"])
    complete = set(listing["complete"])
    if complete:
        seen = {(i["kind"], i["id"]) for i in items}
        for row in session.scalars(select(InventoryItem).where(InventoryItem.kind.in_(complete),
                                                               InventoryItem.gone_at.is_(None))):
            if (row.kind, row.openstack_id) not in seen:
                existing[(row.kind, row.openstack_id)] = row
                gone_keys.add((row.kind, row.openstack_id))
    gone = 0
    for key in gone_keys:
        row = existing.get(key)
        if row is None or row.gone_at is not None:
            continue
        deleted_by_portal = systems.get(row.openstack_id, (None, False, None))[1]
        if deleted_by_portal or row.system_id is None and row.openstack_id not in systems:
            session.delete(row)  # deleted through a request of the portal (or never one of ours)
        else:
            row.gone_at = now
            opened += _open(session, settings, row, "deleted outside the portal",
                            f"{row.kind} {row.openstack_id} is no longer in the cloud", now)
        gone += 1
    return changed, gone, opened


def known_revisions(session):
    return {(k, i): (a or {}).get("revision") for k, i, a in session.execute(
        select(InventoryItem.kind, InventoryItem.openstack_id, InventoryItem.attributes)
        .where(InventoryItem.kind.in_(NEUTRON), InventoryItem.gone_at.is_(None)))}


def refresh_one(session, settings, cloud, row, now=None, commit=True):
    """Read one object afresh from the cloud (the pages' refresh button)."""
    now = now or utcnow()
    item = cloud.live_object(row.kind, row.openstack_id)
    listing = {"items": [item] if item else [], "gone": [] if item else [(row.kind, row.openstack_id)],
               "complete": []}
    apply_listing(session, settings, listing, now)
    if commit:
        session.commit()
    return item is not None

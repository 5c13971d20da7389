"""The collector's inventory snapshot as the portal shows it: each user sees only their slice."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..models.accounts import Department
from ..models.operations import InventorySnapshot
from ..models.requests import CloudResource
from ..pagination import paginate
from ..schemas.operations import DepartmentUsage
from ..scoping import get_scoped, scoped


@dataclass
class UsageView:
    taken_at: datetime | None
    rows: list
    capacity: dict
    services: dict


def usage_view(session, user):
    """Return the newest snapshot's figures for the departments user may see (platform figures
    only for bureau, vendor, auditor and admin)."""
    from datetime import timezone
    snap = session.scalars(select(InventorySnapshot).order_by(InventorySnapshot.taken_at.desc()).limit(1)).first()
    departments = {d.code: d for d in session.scalars(scoped(select(Department), user).order_by(Department.code))}
    if snap is None:
        return UsageView(None, [], {}, {})
    rows = []
    for code, department in departments.items():
        d = snap.departments.get(code)
        if d is None:
            continue
        backup = d.get("last_backup_at")
        rows.append(DepartmentUsage(
            code=code, name=department.name, servers=d.get("servers", {}), vcpus=d.get("vcpus", 0),
            ram_gib=d.get("ram_bytes", 0) / 1024 ** 3, volume_gib=d.get("volume_bytes", 0) / 1024 ** 3,
            floating_ips=d.get("floating_ips", 0),
            last_backup_at=datetime.fromtimestamp(backup, timezone.utc) if backup else None))
    platform = getattr(user, "role", None) != "department"
    return UsageView(snap.taken_at, rows, snap.capacity if platform else {}, snap.services if platform else {})


def list_resources(session, user, *, kind="", system_id=None, deleted=False, q="", page=1, per_page=20):
    """Return one page of the cloud resources user may see (departments: their own), oldest first;
    live ones unless deleted, of one kind, of one system, or whose name holds q."""
    stmt = scoped(select(CloudResource), user).where(CloudResource.deleted.is_(deleted))
    if kind:
        stmt = stmt.where(CloudResource.kind == kind)
    if system_id is not None:
        stmt = stmt.where(CloudResource.system_id == system_id)
    if q:
        stmt = stmt.where(CloudResource.name.contains(q, autoescape=True))
    return paginate(session, stmt.order_by(CloudResource.id), page, per_page)


def get_resource(session, user, resource_id):
    return get_scoped(session, CloudResource, resource_id, user, kind="CloudResource")

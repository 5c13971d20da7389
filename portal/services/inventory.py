"""The collector's inventory snapshot as the portal shows it: each user sees only their slice."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..models.accounts import Department
from ..models.operations import InventorySnapshot
from ..scoping import scoped


@dataclass
class DepartmentUsage:
    code: str
    name: str
    servers: dict
    vcpus: int
    ram_gib: float
    volume_gib: float
    floating_ips: int
    last_backup_at: datetime | None


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

"""Capacity for the vendor and the bureau (issue 18, 第八条 emergency reserve, 第四条 supervision):
the cloud's vCPU, memory and disk — used, allocated to approved requests, free, the reserve — and
each department's use against its approved allocation. Read from the database only (the collector's
Placement figures, the live inventory, the approved specs)."""
from dataclasses import dataclass, field

from sqlalchemy import select

from ..models.accounts import Department
from ..models.inventory import InventoryItem, InventorySync, ItemKind
from ..models.operations import InventorySnapshot
from ..specs import add_allocations, allocation
from .resource_requests import current_spec, live_systems

GIB = 1024 ** 3


@dataclass
class Pool:
    resource: str          # vcpus, memory_gb, disk_gb
    total: float
    used: float
    allocated: float       # to approved requests
    reserve: float
    free: float = field(init=False)
    below_reserve: bool = field(init=False)

    def __post_init__(self):
        self.free = max(0.0, self.total - self.used)
        self.below_reserve = self.total > 0 and self.free < self.reserve


@dataclass
class DepartmentUse:
    department: Department
    allocated: dict        # cores, ram (MB), gigabytes (of the approved specs)
    used: dict             # cores, ram (MB), gigabytes (of the inventory)

    def over(self, key):
        return self.used.get(key, 0) > self.allocated.get(key, 0)


def _flavors(session):
    return session.scalar(select(InventorySync.flavors).where(InventorySync.mode == "full")) or []


def department_allocations(session, flavors):
    """{department id: approved allocation} of the departments with a live system."""
    out = {}
    for dept in session.scalars(select(Department).order_by(Department.code)):
        systems = live_systems(session, dept.id)
        if systems:
            out[dept.id] = (dept, add_allocations(*(allocation(current_spec(session, s.id), flavors) for s in systems)))
    return out


def overview(session, settings):
    """(pools, departments, taken_at): the cloud's pools and each department's use."""
    reserve = float(settings.get("EMERGENCY_RESERVE_PERCENT") or 0) / 100
    snap = session.scalars(select(InventorySnapshot).order_by(InventorySnapshot.taken_at.desc()).limit(1)).first()
    capacity = snap.capacity if snap is not None else {}
    allocations = department_allocations(session, _flavors(session))
    approved = add_allocations(*(a for _, a in allocations.values()))
    per_dept = {}
    for item in session.scalars(select(InventoryItem).where(
            InventoryItem.kind.in_((ItemKind.SERVER, ItemKind.VOLUME)), InventoryItem.gone_at.is_(None),
            InventoryItem.department_id.is_not(None))):
        d = per_dept.setdefault(item.department_id, {"cores": 0, "ram": 0, "gigabytes": 0, "instances": 0})
        a = item.attributes or {}
        if item.kind == ItemKind.SERVER:
            d["cores"] += a.get("vcpus", 0)
            d["ram"] += a.get("ram_mib", 0)
            d["instances"] += 1
        else:
            d["gigabytes"] += a.get("size_gib", 0)

    def pool(resource, key, scale, approved_value):
        figures = capacity.get(key, {})
        total, in_use = figures.get("total", 0) / scale, figures.get("used", 0) / scale
        return Pool(resource, total, in_use, approved_value, total * reserve)

    pools = [pool("vcpus", "vcpus", 1, approved["cores"]),
             pool("memory_gb", "memory_bytes", GIB, approved["ram"] / 1024),
             pool("disk_gb", "disk_bytes", GIB, approved["gigabytes"])]
    departments = [DepartmentUse(dept, alloc, per_dept.get(dept.id, {"cores": 0, "ram": 0, "gigabytes": 0}))
                   for dept, alloc in allocations.values()]
    return pools, departments, snap.taken_at if snap is not None else None

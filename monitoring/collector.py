"""The collector: one cycle lists the cloud across all projects and stores an aggregated snapshot.

The API calls of a cycle are a few paginated all-projects listings, the service list and the
Placement inventories: their number grows with pages (1,000 items each) and with resource
providers, never with the number of projects (openstack-exporter's #132 is the anti-model).
"""
import time
from collections import defaultdict

from sqlalchemy import delete, select

from portal.database import utcnow
from portal.models.accounts import Department
from portal.models.operations import InventorySnapshot

from .errors import CloudUnavailable

UNASSIGNED = "_unassigned"  # projects that belong to no registered department
KEEP_SNAPSHOTS = 10
GIB = 1024 ** 3
MIB = 1024 ** 2


def aggregate(inventory, project_codes):
    """Fold an inventory (plain lists) into {department code: figures} and {server id: status}."""
    departments = defaultdict(lambda: {"servers": {}, "vcpus": 0, "ram_bytes": 0, "volumes": {},
                                       "volume_bytes": 0, "floating_ips": 0, "networks": 0, "snapshots": 0,
                                       "backups": 0, "last_backup_at": None})
    statuses = {}
    for s in inventory.get("servers", []):
        d = departments[project_codes.get(s["project_id"], UNASSIGNED)]
        d["servers"][s["status"]] = d["servers"].get(s["status"], 0) + 1
        d["vcpus"] += s.get("vcpus", 0)
        d["ram_bytes"] += s.get("ram_mib", 0) * MIB
        statuses[s["id"]] = s["status"]
    for v in inventory.get("volumes", []):
        d = departments[project_codes.get(v["project_id"], UNASSIGNED)]
        d["volumes"][v["status"]] = d["volumes"].get(v["status"], 0) + 1
        d["volume_bytes"] += v.get("size_gib", 0) * GIB
    for ip in inventory.get("floating_ips", []):
        departments[project_codes.get(ip["project_id"], UNASSIGNED)]["floating_ips"] += 1
    for n in inventory.get("networks", []):
        departments[project_codes.get(n["project_id"], UNASSIGNED)]["networks"] += 1
    for s in inventory.get("snapshots", []):
        departments[project_codes.get(s["project_id"], UNASSIGNED)]["snapshots"] += 1
    for b in inventory.get("backups", []):
        d = departments[project_codes.get(b["project_id"], UNASSIGNED)]
        d["backups"] += 1
        if b.get("status") == "available" and b.get("created_at"):
            d["last_backup_at"] = max(d["last_backup_at"] or 0, b["created_at"])
    return dict(departments), statuses


def store_snapshot(session, inventory, *, duration_seconds=0.0):
    """Aggregate inventory by department and store it as the newest snapshot (older ones pruned)."""
    project_codes = dict(session.execute(select(Department.openstack_project_id, Department.code)
                                         .where(Department.openstack_project_id.is_not(None))).all())
    departments, statuses = aggregate(inventory, project_codes)
    snapshot = InventorySnapshot(taken_at=utcnow(), api_calls=inventory.get("api_calls", 0),
                                 duration_seconds=duration_seconds, departments=departments,
                                 services=inventory.get("services", {}), capacity=inventory.get("capacity", {}),
                                 server_statuses=statuses)
    session.add(snapshot)
    session.flush()
    keep = select(InventorySnapshot.id).order_by(InventorySnapshot.taken_at.desc()).limit(KEEP_SNAPSHOTS)
    session.execute(delete(InventorySnapshot).where(InventorySnapshot.id.not_in(keep.scalar_subquery())))
    session.commit()
    return snapshot


def collect_and_store(session, settings, cloud=None):
    """Run one collection cycle against the cloud and store the snapshot."""
    from provisioner import errors as cloud_errors
    from provisioner.cloud import Cloud
    own = cloud is None
    cloud = cloud or Cloud.from_config(settings)
    started = time.perf_counter()
    try:
        inventory = cloud.monitoring_inventory()
    except cloud_errors.ProvisioningError as exc:
        raise CloudUnavailable(getattr(cloud, "cloud_name", "?"), exc) from exc
    finally:
        if own:
            cloud.close()
    return store_snapshot(session, inventory, duration_seconds=time.perf_counter() - started)


def latest_server_statuses(session):
    """Return {server id: status} of the newest snapshot (the server-status probes read it)."""
    snap = session.scalars(select(InventorySnapshot).order_by(InventorySnapshot.taken_at.desc()).limit(1)).first()
    return dict(snap.server_statuses or {}) if snap is not None else {}

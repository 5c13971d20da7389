"""Metering (用量): turn periodic samples of the cloud into usage per department, system and resource type.

A sample taken at t is charged for [previous sample's end, t): the runs form a gapless chain
(each run's interval_start is unique and equal to the previous interval_end), so a restarted
scheduler neither counts an interval twice nor drops one silently. When the pause since the
previous sample exceeds the tolerance, the run is recorded in state `gap` without usage; the
statements of the months it touches show the unmetered time.
Servers count in every status but ERROR (a failed boot is not charged); the first sample is a
baseline without usage.
"""
import logging
from collections import defaultdict

from sqlalchemy import func, select

from ..models.billing import MeteringRun, MeteringRunState, UsageRecord
from ..models.accounts import Department
from .rating import UNASSIGNED

log = logging.getLogger(__name__)
DEFAULT_TOLERANCE_SECONDS = 900
NOT_CHARGED_SERVER_STATUSES = frozenset({"ERROR", "DELETED", "SOFT_DELETED"})


RETIRED = ("retired",)  # attribution of a decommissioned system's leftovers: not metered


class SampleNotAfterLast(ValueError):
    """A sample at or before the newest stored one (same second, or a clock gone backwards)."""


def _attribution(session):
    """Return {openstack id: (system id, system name)} of the resources govcloud created; a resource of
    a decommissioned system (a final backup kept after it) maps to RETIRED: it is metered no more."""
    try:
        from ..models.requests import CloudResource, ResourceRequest
    except ImportError:  # the resource request models are not installed
        return {}
    from .system_retirement import retired_systems
    retired = retired_systems(session)
    rows = session.execute(
        select(CloudResource.openstack_id, CloudResource.system_id, ResourceRequest.system_name)
        .join(ResourceRequest, ResourceRequest.id == CloudResource.system_id, isouter=True)
        .where(CloudResource.openstack_id != "")).all()
    return {oid: RETIRED if sid in retired else (sid, name or UNASSIGNED) for oid, sid, name in rows
            if sid is not None}


def aggregate(inventory, departments_by_project, attribution):
    """Sum the inventory to {(department id, system id, system name, resource type): quantity}.

    Returns (totals, resources counted, projects of no department).
    """
    totals = defaultdict(int)
    unknown = set()
    counted = 0

    def owner(item, via=None):
        dept = departments_by_project.get(item.get("project_id"))
        if dept is None:
            unknown.add(item.get("project_id"))
            return None
        system = attribution.get(item["id"]) or (attribution.get(via) if via else None)
        if system is RETIRED:  # the system was decommissioned: its metering is off
            return None
        return (dept, *(system or (None, UNASSIGNED)))

    def add(key, resource_type, quantity):
        nonlocal counted
        if key is not None and quantity:
            totals[(*key, resource_type)] += quantity
            counted += 1

    for server in inventory.get("servers", []):
        if server.get("status") in NOT_CHARGED_SERVER_STATUSES:
            continue
        key = owner(server)
        add(key, "vcpu", server["vcpus"])
        add(key, "ram", server["ram_mib"])
    for volume in inventory.get("volumes", []):
        vtype = volume.get("volume_type") or "default"
        add(owner(volume), f"volume:{vtype}", volume["size_gib"])
    for kind in ("snapshot", "backup"):
        for item in inventory.get(kind + "s", []):
            add(owner(item, via=item.get("volume_id")), kind, item["size_gib"])
    for ip in inventory.get("floating_ips", []):
        add(owner(ip), "floating_ip", 1)
    unknown.discard(None)
    return dict(totals), counted, len(unknown)


def last_run(session):
    return session.scalars(select(MeteringRun).order_by(MeteringRun.interval_end.desc()).limit(1)).first()


def record_sample(session, inventory, now, *, tolerance_seconds=DEFAULT_TOLERANCE_SECONDS):
    """Store one sample taken at now (the caller commits); return the MeteringRun.

    A unique-constraint error on commit means another collector recorded the same interval first.
    """
    end = now.replace(microsecond=0)
    previous = last_run(session)
    if previous is not None and end <= previous.interval_end:
        raise SampleNotAfterLast(f"sample at {end.isoformat()} is not after the last one ({previous.interval_end.isoformat()})")
    departments = dict(session.execute(
        select(Department.openstack_project_id, Department.id)
        .where(Department.openstack_project_id.is_not(None))).all())
    totals, counted, unknown = aggregate(inventory, departments, _attribution(session))
    if previous is None:
        state = MeteringRunState.BASELINE
    elif (end - previous.interval_end).total_seconds() > tolerance_seconds:
        state = MeteringRunState.GAP
    else:
        state = MeteringRunState.OK
    start = previous.interval_end if previous is not None else None
    run = MeteringRun(interval_start=start, interval_end=end, state=state, resources=counted,
                      unknown_projects=unknown)
    session.add(run)
    session.flush()
    if state == MeteringRunState.OK:
        for (dept, system_id, system_name, rtype), quantity in sorted(totals.items(), key=str):
            session.add(UsageRecord(run_id=run.id, department_id=dept, system_id=system_id,
                                    system_key=str(system_id or ""), system_name=system_name,
                                    resource_type=rtype, quantity=quantity, interval_start=start,
                                    interval_end=end))
    elif state == MeteringRunState.GAP:
        log.warning("metering gap of %s s since %s: not metered", int((end - start).total_seconds()),
                    start.isoformat())
    return run


def usage_between(session, department_id, start, end):
    """Return the usage records of a department overlapping [start, end)."""
    return list(session.scalars(
        select(UsageRecord).where(UsageRecord.department_id == department_id,
                                  UsageRecord.interval_start < end, UsageRecord.interval_end > start)
        .order_by(UsageRecord.interval_start, UsageRecord.id)))


def gap_seconds(session, start, end):
    """Return how many seconds of [start, end) no sample covers (gaps, and time before/after the chain)."""
    runs = session.execute(select(MeteringRun.interval_start, MeteringRun.interval_end, MeteringRun.state)
                           .where(MeteringRun.interval_end > start,
                                  (MeteringRun.interval_start.is_(None)) | (MeteringRun.interval_start < end))).all()
    covered = 0
    for r_start, r_end, state in runs:
        if state != MeteringRunState.OK:
            continue
        s, e = max(r_start, start), min(r_end, end)
        covered += max(0, int((e - s).total_seconds()))
    horizon = min(end, last_run(session).interval_end) if last_run(session) else start
    total = max(0, int((horizon - start).total_seconds()))
    return max(0, total - covered)


def department_totals(session, start, end):
    """Return {(department id, resource type): unit-seconds} within [start, end) (for charts)."""
    out = defaultdict(int)
    for rec in session.scalars(select(UsageRecord).where(UsageRecord.interval_start < end,
                                                         UsageRecord.interval_end > start)):
        s, e = max(rec.interval_start, start), min(rec.interval_end, end)
        out[(rec.department_id, rec.resource_type)] += rec.quantity * int((e - s).total_seconds())
    return dict(out)


def collect(session, cloud, now, *, tolerance_seconds=DEFAULT_TOLERANCE_SECONDS):
    """Sample the cloud once and store the run (the caller commits)."""
    inventory = cloud.metering_inventory()
    return record_sample(session, inventory, now, tolerance_seconds=tolerance_seconds)


def runs_count(session):
    return session.scalar(select(func.count(MeteringRun.id)))



def _scoped_hours(session, user, start, end, key):
    """Return {key(record): {resource type: unit-hours (Decimal)}} of [start, end) over the usage user may see."""
    from decimal import Decimal

    from ..scoping import scoped
    from .rating import hours
    seconds = defaultdict(int)
    stmt = scoped(select(UsageRecord), user).where(UsageRecord.interval_start < end, UsageRecord.interval_end > start)
    for rec in session.scalars(stmt):
        s, e = max(rec.interval_start, start), min(rec.interval_end, end)
        seconds[(key(rec), rec.resource_type)] += rec.quantity * int((e - s).total_seconds())
    out = defaultdict(dict)
    for (group, rtype), value in seconds.items():
        out[group][rtype] = hours(value, rtype) if value else Decimal("0")
    return dict(out)


def usage_summary(session, user, start, end):
    """Return {department id: {resource type: unit-hours (Decimal)}} of [start, end) that user may see."""
    return _scoped_hours(session, user, start, end, lambda rec: rec.department_id)


def usage_by_system(session, user, start, end):
    """Return {(department id, system id, system name): {resource type: unit-hours}} of [start, end)
    that user may see (system id None: resources of no system, 未归属)."""
    return _scoped_hours(session, user, start, end, lambda rec: (rec.department_id, rec.system_id, rec.system_name))

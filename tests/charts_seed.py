"""Three days of probe checks and metering for a system, for its charts (issue 22)."""
from datetime import timedelta

HOURS = 72
OUTAGE_HOURS_AGO = 5  # half the checks of this hour fail
MAINTENANCE_HOURS_AGO = 10  # every check of this hour fails inside approved maintenance


def hour_floor(at):
    return at.replace(minute=0, second=0, microsecond=0)


def add_chart_data(session, system, now, *, servers=("web-1",)):
    """Add a server-status and a TCP probe per server, checked every 10 minutes for HOURS hours, and
    hourly metering runs in which the system holds 2 vCPUs, 4096 MiB and a 20 GB volume (the last
    24 hours: 4 vCPUs). Return {"targets": [ids], "outage_hour": epoch, "maintenance_hour": epoch}."""
    from portal.models.billing import MeteringRun, UsageRecord
    from portal.models.operations import ProbeResult, ProbeTarget

    end = hour_floor(now)
    start = end - timedelta(hours=HOURS)
    outage = end - timedelta(hours=OUTAGE_HOURS_AGO)
    maintenance = end - timedelta(hours=MAINTENANCE_HOURS_AGO)
    targets = []
    for server in servers:
        for kind, name, settings in (("server_status", server, {"server_id": "0" * 32}),
                                     ("tcp", f"{server}:443", {"host": "192.0.2.10", "port": 443})):
            target = ProbeTarget(department_id=system.department_id, system_name=system.system_name, name=name,
                                 kind=kind, settings=settings, state="up")
            session.add(target)
            session.flush()
            targets.append(target)
    rows = []
    at = start
    while at < end:
        hour = hour_floor(at)
        for target in targets:
            failing = (hour == outage and at.minute >= 30) or hour == maintenance
            rows.append(dict(target_id=target.id, checked_at=at, ok=not failing, latency_ms=None if failing else 12,
                             in_maintenance=hour == maintenance, detail="timed out" if failing else ""))
        at += timedelta(minutes=10)
    session.execute(ProbeResult.__table__.insert(), rows)
    previous = session.query(MeteringRun).order_by(MeteringRun.interval_end.desc()).first()
    assert previous is None or previous.interval_end <= start, "metering runs already cover these hours"
    for h in range(HOURS):
        run = MeteringRun(interval_start=start + timedelta(hours=h), interval_end=start + timedelta(hours=h + 1),
                          state="ok", resources=3)
        session.add(run)
        session.flush()
        vcpus = 4 if h >= HOURS - 24 else 2
        for rtype, quantity in (("vcpu", vcpus), ("ram", 4096), ("volume:ssd", 20)):
            session.add(UsageRecord(run_id=run.id, department_id=system.department_id, system_id=system.id,
                                    system_key=str(system.id), system_name=system.system_name, resource_type=rtype,
                                    quantity=quantity, interval_start=run.interval_start,
                                    interval_end=run.interval_end))
    session.commit()
    return {"targets": [t.id for t in targets], "outage_hour": int(outage.timestamp()),
            "maintenance_hour": int(maintenance.timestamp())}

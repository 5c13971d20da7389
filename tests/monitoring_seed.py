"""Rows of the monitoring pages for the seeded departments (used by the access walk)."""
from datetime import timedelta


def seed_monitoring(session, seed):
    """Add a probe target, an incident and a maintenance window to department A and to B.

    Returns {url argument: (id in department A, id in department B)}.
    """
    from portal.database import utcnow
    from portal.models.accounts import Department
    from portal.models.operations import Incident, MaintenanceWindow, ProbeTarget

    now = utcnow()
    out = {"target_id": [], "incident_id": [], "window_id": []}
    for dept_id in (seed.dept_a, seed.dept_b):
        target = ProbeTarget(department_id=dept_id, system_name="办公系统", name="web", kind="tcp",
                             settings={"host": "127.0.0.1", "port": 9})
        session.add(target)
        session.flush()
        incident = Incident(department_id=dept_id, target_id=target.id, system_name="办公系统",
                            title="办公系统 · web", started_at=now - timedelta(minutes=5),
                            detected_at=now - timedelta(minutes=3))
        window = MaintenanceWindow(kind="planned", state="approved", title="存储扩容", reason="扩容",
                                   impact="只读", systems=[], starts_at=now + timedelta(days=3),
                                   ends_at=now + timedelta(days=3, hours=2),
                                   departments=[session.get(Department, dept_id)])
        session.add_all([incident, window])
        session.flush()
        out["target_id"].append(target.id)
        out["incident_id"].append(incident.id)
        out["window_id"].append(window.id)
    session.commit()
    return {k: tuple(v) for k, v in out.items()}

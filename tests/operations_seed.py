"""Rows of the operations pages (scheduled jobs, usage) and audit events with before/after values
(used by the Chinese-everywhere walk; not in the common seed: the scheduler tests count job runs)."""
from datetime import timedelta


def seed_operations(app, session, seed):
    """Store every job's plan (as the leading scheduler does), a finished run of
    each with its figures, a failed run with the cloud's own words, an inventory snapshot of both
    departments, a rate-less statement note, and audit events of a request's edit."""
    from portal.database import utcnow
    from portal.models.billing import Statement
    from portal.models.operations import InventorySnapshot, JobRun, ScheduledJob
    from portal.services.audit import RequestInfo, record_event
    from portal.models.accounts import User
    from scheduler.process import JOBS

    now = utcnow()
    for spec in JOBS:
        trigger = spec.trigger(app.config)
        session.add(ScheduledJob(job_id=spec.job_id, trigger=str(trigger)[:255], updated_at=now,
                                 next_run_at=trigger.get_next_fire_time(None, now)))
    figures = {"run_probes": {"checked": 3, "failing": 1}, "deliver_notifications": {"sent": 2, "failed_to_send": 0},
               "collect_inventory": {"servers": 4, "API_calls": 9}, "audit_digest": {"seq_signed": 42},
               "run_due_backups": {"queued": 1, "succeeded": 1, "retrying": 0, "failed_runs": 0},
               "monthly_summary": {"month": "2026-11", "departments": 3}}
    for i, spec in enumerate(JOBS):
        session.add(JobRun(job_id=spec.job_id, started_at=now - timedelta(minutes=i), duration_seconds=0.5,
                           outcome="success", figures=figures.get(spec.job_id, {}), summary="seeded"))
    session.add(JobRun(job_id="collect_usage", started_at=now, duration_seconds=1.0, outcome="failed", figures={},
                       summary="The cloud could not be reached: connect: HTTP 503"))
    mib = 1024 ** 2
    session.add(InventorySnapshot(
        taken_at=now, api_calls=9, duration_seconds=1.0,
        departments={"DEPT-A": {"servers": {"ACTIVE": 4, "SHUTOFF": 1}, "vcpus": 8, "ram_bytes": 16384 * mib,
                                "volume_bytes": 200 * 1024 * mib, "floating_ips": 1,
                                "last_backup_at": now.timestamp()},
                     "DEPT-B": {"servers": {"ERROR": 1}, "vcpus": 1, "ram_bytes": 512 * mib, "volume_bytes": 0,
                                "floating_ips": 0, "last_backup_at": None}},
        services={"compute": 1, "volumev3": 1, "network": 1, "image": 0, "placement": 1, "identity": 1},
        capacity={"vcpus": {"used": 9, "total": 64}, "memory_bytes": {"used": 16896 * mib, "total": 131072 * mib},
                  "disk_bytes": {"used": 210 * 1024 * mib, "total": 2048 * 1024 * mib}}))
    statement = session.get(Statement, seed.extra["statement_id"][0])
    statement.note = "no rate for volume:__DEFAULT__; no rate for backup"
    user = session.get(User, seed.user_ids["dept"])
    record_event(session, RequestInfo(actor=user, correlation_id="c0ffee"), "request.update",
                 object_type="resource_request", object_id=str(seed.extra["request_id"][0]),
                 department_id=seed.dept_a, before={"system_name": "办公系统", "purpose": "办公"},
                 after={"system_name": "协同办公系统", "purpose": "办公", "spec": {"servers": [{"name": "web", "count": 2}]}})
    session.commit()

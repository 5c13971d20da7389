"""Backup bookkeeping without the cloud, on SQLite and PostgreSQL: policies are checked and audited,
a run left "running" by a dead scheduler is recovered (and fails for good when its attempts are
used up, with an incident), the decommission guard's question, the /metrics families."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from backup import engine, policies
from backup.errors import RUN_CRASHED
from portal.models.backups import BackupArtifact, BackupRun, RunState
from portal.database import utcnow
from portal.errors import ValidationFailed
from portal.models.audit import AuditEvent
from portal.models.operations import Incident
from portal.models.requests import ResourceRequest
from portal.services.audit import RequestInfo
from provisioner.cloud import Cloud
from tests.integration.backup_fixtures import backup_metrics

CTX = RequestInfo(correlation_id="test-backup-runs")


@pytest.fixture
def system(db_session, seed):
    req = ResourceRequest(number="ZWY-BK-RUNS", department_id=seed.dept_a, system_name="社保查询系统",
                          state="delivered", spec={}, approved_spec={}, approved_at=utcnow())
    db_session.add(req)
    db_session.commit()
    return req


def test_policies_are_checked_and_audited(db_session, seed, system):
    policy = policies.create_policy(db_session, CTX, seed.dept_a, {
        "name": "每日", "system_id": system.id, "cron": "30 1 * * *", "keep_days": "14"})
    assert (policy.next_run_at.hour, policy.next_run_at.minute) == (17, 30)  # 01:30 in Beijing
    with pytest.raises(ValidationFailed) as exc:
        policies.create_policy(db_session, CTX, seed.dept_a, {"name": "第二个", "system_id": system.id,
                                                              "cron": "0 2 * * *", "keep_count": "1"})
    assert exc.value.field == "system_id"
    with pytest.raises(ValidationFailed) as exc:  # a system of another department
        policies.create_policy(db_session, CTX, seed.dept_b, {"name": "x", "system_id": system.id,
                                                              "cron": "0 2 * * *", "keep_count": "1"})
    assert exc.value.field == "system_id"
    default = policies.create_policy(db_session, CTX, seed.dept_a, {"name": "部门默认", "cron": "0 3 * * *",
                                                                     "keep_count": "3", "kinds": "volume"})
    assert policies.policy_for_system(db_session, system.id).id == policy.id
    policies.set_enabled(db_session, CTX, default, False)
    assert default.next_run_at is None
    actions = [e.action for e in db_session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "backup_policy").order_by(AuditEvent.id))]
    assert actions == ["backup.policy.create", "backup.policy.create", "backup.policy.update"]


def interrupted_run(db_session, seed, system, now):
    """A run of a new daily policy of system left "running" three hours ago by a dead scheduler."""
    policy = policies.create_policy(db_session, CTX, seed.dept_a, {
        "name": "每日", "system_id": system.id, "cron": "30 1 * * *", "keep_count": "3"})
    run = BackupRun(policy_id=policy.id, department_id=seed.dept_a, system_id=system.id, state=RunState.RUNNING,
                    attempts=1, started_at=now - timedelta(hours=3), kinds="both")
    db_session.add(run)
    db_session.commit()
    return run


def test_an_interrupted_run_is_recovered_and_then_fails_with_an_incident(db_session, seed, system):
    now = utcnow()
    run = interrupted_run(db_session, seed, system, now)
    policy_id = run.policy_id
    db_session.add(BackupArtifact(run_id=run.id, policy_id=policy_id, department_id=seed.dept_a, kind="volume",
                                  name="made before the crash", status="available"))
    db_session.commit()
    cloud = Cloud()  # never called: nothing of the run is still being created
    counts = engine.run_due(db_session, cloud, {"BACKUP_MAX_ATTEMPTS": 1}, now=now)
    assert counts["succeeded"] == counts["failed"] == 0  # the run failed in the recovery, not in a new attempt
    db_session.refresh(run)
    assert run.state == RunState.FAILED and run.error_message == RUN_CRASHED
    incident = db_session.get(Incident, run.incident_id)
    assert incident.department_id == seed.dept_a and incident.system_name == "社保查询系统"
    actions = [e.action for e in db_session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "backup_run", AuditEvent.object_id == str(run.id)).order_by(AuditEvent.id))]
    assert actions == ["backup.run.interrupted", "backup.run.failed"]
    # a second failure of the same policy adds to the open incident instead of opening another
    again = BackupRun(policy_id=policy_id, department_id=seed.dept_a, system_id=system.id, state=RunState.RUNNING,
                      attempts=1, started_at=now - timedelta(hours=3), kinds="both")
    db_session.add(again)
    db_session.commit()
    engine.run_due(db_session, cloud, {"BACKUP_MAX_ATTEMPTS": 1}, now=now)
    db_session.refresh(again)
    assert again.incident_id == incident.id
    assert len(db_session.scalars(select(Incident).where(Incident.system_name == "社保查询系统")).all()) == 1
    assert [e.kind for e in incident.events].count("detected") == 2


def test_final_backup_guard_and_metrics(app, db_session, seed, system):
    before = backup_metrics(app)
    assert engine.final_backup_succeeded(db_session, system.id) is None
    run = engine.request_final_backup(db_session, CTX, system.id)
    assert run.trigger == "final" and run.state == "queued"
    assert engine.final_backup_succeeded(db_session, system.id) is None
    run.state, run.finished_at, run.attempts = RunState.SUCCEEDED, utcnow(), 2
    db_session.add(BackupArtifact(run_id=run.id, department_id=seed.dept_a, kind="volume", name="final",
                                  status="available", size_gb=5, completed_at=utcnow(),
                                  created_at=utcnow() - timedelta(hours=2), source_key="volume:R1:db"))
    db_session.commit()
    assert engine.final_backup_succeeded(db_session, system.id).id == run.id
    assert engine.final_backup_succeeded(db_session, system.id, since=utcnow() + timedelta(minutes=1)) is None
    after = backup_metrics(app)
    assert after['govcloud_backup_size_bytes{kind="volume"}'] - before.get('govcloud_backup_size_bytes{kind="volume"}', 0) \
        == 5 * 1024 ** 3
    assert after['govcloud_backup_failures_total{kind="both"}'] \
        - before.get('govcloud_backup_failures_total{kind="both"}', 0) == 1  # one retried attempt
    assert after['govcloud_backup_runs{state="succeeded"}'] - before.get('govcloud_backup_runs{state="succeeded"}', 0) == 1
    # never verified: the age counts from when it was made, two hours ago
    assert 7000 < after['govcloud_backup_verification_age_seconds{kind="volume"}'] < 7400


def test_scheduler_jobs_are_recorded(app, db_session):
    from backup import jobs
    from scheduler import runtime
    from portal.models.operations import JobRun
    runtime.configure(app.config, app.extensions["govcloud_db"][0])
    assert jobs.run_due_backups().summary == "0 queued, 0 succeeded, 0 retrying, 0 failed runs"
    assert jobs.track_restores().failed is False
    outcomes = {r.job_id: r.outcome for r in db_session.scalars(select(JobRun))}
    assert outcomes == {"run_due_backups": "success", "track_restores": "success"}


def test_a_department_default_covers_the_systems_without_a_policy(db_session, seed, system):
    from portal.models.requests import CloudResource
    other = ResourceRequest(number="ZWY-BK-RUNS-2", department_id=seed.dept_a, system_name="公积金系统",
                            state="delivered", spec={}, approved_spec={}, approved_at=utcnow())
    db_session.add(other)
    db_session.flush()
    for req in (system, other):
        db_session.add(CloudResource(department_id=seed.dept_a, system_id=req.id, kind="volume",
                                     key=f"volume:R{req.id}:data", name=f"v{req.id}", openstack_id=f"vol-{req.id}"))
    db_session.commit()
    policies.create_policy(db_session, CTX, seed.dept_a, {"name": "own", "system_id": system.id,
                                                          "cron": "0 2 * * *", "keep_count": "1"})
    default = policies.create_policy(db_session, CTX, seed.dept_a, {"name": "default", "cron": "0 3 * * *",
                                                                    "keep_count": "1"})
    run = BackupRun(policy_id=default.id, department_id=seed.dept_a, system_id=None, kinds="volume")
    covered = engine.covered_systems(db_session, run)
    assert other.id in covered and system.id not in covered
    assert policies.policy_for_system(db_session, other.id).id == default.id


def test_a_backup_being_extracted_is_not_pruned(db_session, seed, system):
    from portal.models.backups import BackupExtraction
    policy = policies.create_policy(db_session, CTX, seed.dept_a, {
        "name": "每日", "system_id": system.id, "cron": "30 1 * * *", "keep_count": "1"})
    run = BackupRun(policy_id=policy.id, department_id=seed.dept_a, system_id=system.id, state=RunState.SUCCEEDED,
                    kinds="volume", trigger="schedule")
    db_session.add(run)
    db_session.flush()
    old, new = (BackupArtifact(run_id=run.id, policy_id=policy.id, department_id=seed.dept_a, kind="volume",
                               name=n, status="available", source_key="volume:R1:data", openstack_id=f"b-{n}",
                               created_at=utcnow() - timedelta(days=d)) for n, d in (("old", 2), ("new", 1)))
    db_session.add_all([old, new])
    db_session.flush()
    db_session.add(BackupExtraction(artifact_id=old.id, department_id=seed.dept_a, reason="审计", state="ready"))
    db_session.commit()
    assert engine.prunable([old, new], 1, None, utcnow())[0][0] is old
    assert engine.prune_policy(db_session, CTX, Cloud(), policy) == 0  # the cloud is not called
    assert old.status == "available"


def test_a_failed_backup_is_an_incident_of_type_backup_that_does_not_count_as_outage(db_session, seed, system):
    """Issue 17, wrong result: a failed backup opened an incident that counted as outage, and one system
    fell to 6.67 % availability for the month. The incident is of type backup; only outage and
    degradation count against the SLA."""
    from portal.models.operations import ProbeTarget
    from portal.services import sla
    from portal.services.incidents import open_incident
    from portal.workdays import CHINA
    db_session.add(ProbeTarget(department_id=seed.dept_a, system_name="社保查询系统", name="web", kind="tcp",
                               settings={"host": "127.0.0.1", "port": 9}))
    now = utcnow()
    run = interrupted_run(db_session, seed, system, now)
    engine.run_due(db_session, Cloud(), {"BACKUP_MAX_ATTEMPTS": 1}, now=now)
    db_session.refresh(run)
    incident = db_session.get(Incident, run.incident_id)
    assert incident.kind == "backup" and incident.resolved_at is None  # still open: hours of "outage" before
    local = now.astimezone(CHINA)

    def figure():
        figures = sla.monthly_report(db_session, None, local.year, local.month, now=now, every_department=True)
        return next(f for f in figures if f.system_name == "社保查询系统")
    assert figure().minutes_lost == 0 and figure().incidents == 0
    # an outage of the same system still counts
    source = engine.IncidentSource(department_id=seed.dept_a, system_name="社保查询系统", name="web", kind="tcp")
    outage = open_incident(db_session, CTX, {}, source, started_at=now - timedelta(minutes=30), detected_at=now,
                           detail="connection refused")
    db_session.commit()
    assert outage.kind == "outage"
    assert round(figure().minutes_lost) == 30 and figure().incidents == 1

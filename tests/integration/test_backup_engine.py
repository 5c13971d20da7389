"""第十九条 against the dev cloud: a policy runs twice on its schedule (the due-runner driven with
a moved clock), retention keeps one, the server snapshot and the volume backup exist in OpenStack
with the tags/metadata naming policy and system; a restore to a new volume gives an available
volume of the right size; verification records "last verified" and leaves no scratch volume;
/metrics shows the backup families.

PostgreSQL only (the scheduler's production database; the cloud part is the slow part); the
hook tests in test_backup_hooks.py run on both backends.
"""
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from backup import engine, policies, restore, verify
from portal.models.backups import ArtifactStatus, BackupArtifact, BackupRun, RestoreState, RunState
from portal.database import utcnow
from portal.models.audit import AuditEvent
from portal.services.audit import RequestInfo
from tests.conftest import single_backend_app
from tests.integration.backup_fixtures import backup_metrics, bk_project, gc_cloud  # noqa: F401  (fixtures)

pytestmark = pytest.mark.devcloud
CTX = RequestInfo(correlation_id="test-backup")


@pytest.fixture(scope="module")
def migrated_app(tmp_path_factory):
    """This module's app: PostgreSQL only."""
    yield from single_backend_app("postgresql", tmp_path_factory)


def test_policy_runs_twice_prunes_restores_and_verifies(app, db_session, gc_cloud, bk_project):
    from tests.integration.backup_fixtures import make_system
    cloud, project_id = gc_cloud, bk_project["project_id"]
    settings = {"CLOUD_NAME_PREFIX": bk_project["prefix"], "BACKUP_MAX_ATTEMPTS": 2}
    metrics_before = backup_metrics(app)
    dept, system, server_row, volume_row = make_system(db_session, bk_project, "BKENG")
    policy = policies.create_policy(db_session, CTX, dept.id, {
        "name": "每日备份", "system_id": system.id, "kinds": "both", "cron": "*/5 * * * *", "keep_count": "1"})
    first_due = policy.next_run_at
    assert first_due is not None and first_due.minute % 5 == 0

    # -- not due yet: nothing happens
    assert engine.run_due(db_session, cloud, settings, now=first_due - timedelta(seconds=1))["queued"] == 0

    # -- first run at its time
    counts = engine.run_due(db_session, cloud, settings, now=first_due)
    assert counts == {"queued": 1, "succeeded": 1, "retrying": 0, "failed": 0}, _runs(db_session)
    first = db_session.scalars(select(BackupRun).where(BackupRun.policy_id == policy.id).order_by(BackupRun.id)).one()
    assert first.state == RunState.SUCCEEDED and first.trigger == "schedule" and first.attempts == 1
    assert first.duration_seconds > 0 and first.size_gb >= 1
    assert policy.next_run_at == first_due + timedelta(minutes=5)
    kinds = {a.kind: a for a in first.artifacts}
    assert set(kinds) == {"snapshot", "volume"}
    assert all(a.status == ArtifactStatus.AVAILABLE for a in kinds.values())
    assert kinds["volume"].size_gb == 1 and kinds["snapshot"].size_bytes > 0

    # the backups in OpenStack carry the policy, the system and the department
    conn = cloud.project(project_id)
    image = conn.image.get_image(kinds["snapshot"].openstack_id)
    assert image.status == "active"
    assert {"govcloud-backup", f"govcloud_backup_policy={policy.id}", f"govcloud_system={system.id}",
            "govcloud_department=BKENG"} <= set(image.tags)
    assert image.properties["govcloud_backup_policy"] == str(policy.id)
    assert image.properties["govcloud_system"] == str(system.id)
    backup = conn.block_storage.get_backup(kinds["volume"].openstack_id)
    assert backup.status == "available" and backup.volume_id == bk_project["volume_id"]
    assert backup.metadata["govcloud_backup_policy"] == str(policy.id)
    assert backup.metadata["govcloud_system"] == str(system.id)
    assert backup.metadata["govcloud_department"] == "BKENG"
    assert backup.name.startswith(f"{bk_project['prefix']}-bk-bkeng-r{first.id}-")

    # -- the second run, five minutes later; retention (keep 1) removes the first run's backups
    counts = engine.run_due(db_session, cloud, settings, now=first_due + timedelta(minutes=5))
    assert counts["succeeded"] == 1, _runs(db_session)
    second = db_session.scalars(select(BackupRun).where(BackupRun.policy_id == policy.id)
                                .order_by(BackupRun.id.desc())).first()
    assert second.id != first.id and second.state == RunState.SUCCEEDED
    db_session.expire_all()
    assert {a.status for a in first.artifacts} == {ArtifactStatus.DELETED}
    assert {a.status for a in second.artifacts} == {ArtifactStatus.AVAILABLE}
    assert conn.image.find_image(kinds["snapshot"].openstack_id) is None
    old_backup = conn.block_storage.find_backup(kinds["volume"].openstack_id)
    assert old_backup is None or old_backup.status == "deleting"
    for artifact in second.artifacts:  # the newest ones are there
        if artifact.kind == "snapshot":
            assert conn.image.get_image(artifact.openstack_id).status == "active"
        else:
            assert conn.block_storage.get_backup(artifact.openstack_id).status == "available"
    pruned = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "backup.prune")).all()
    assert len(pruned) == 2

    # -- prune again with keep 1: the last good backup stays
    assert engine.prune_policy(db_session, CTX, cloud, policy, utcnow() + timedelta(days=400)) == 0

    # -- restore the newest volume backup to a new volume: starts at once, the tracker completes it
    newest_volume = next(a for a in second.artifacts if a.kind == "volume")
    job = restore.start_restore(db_session, CTX, cloud, newest_volume, "new_volume", urgent=True,
                                reason="误删数据恢复", settings=settings)
    assert job.state == RestoreState.RUNNING and job.target_openstack_id
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "backup.restore.start",
                                                      AuditEvent.object_id == str(job.id))).detail == "urgent"
    for _ in range(300):
        restore.track_restores(db_session, cloud)
        if job.state != RestoreState.RUNNING:
            break
        time.sleep(1)
    assert job.state == RestoreState.SUCCEEDED, (job.error_message, job.error_detail)
    restored = conn.block_storage.get_volume(job.target_openstack_id)
    assert restored.status == "available" and restored.size == 1
    cloud.delete_volume(project_id, job.target_openstack_id)

    # -- verification: newest of each source checked, "last verified" recorded, no scratch volume left
    before = {v.id for v in conn.block_storage.volumes()}
    checked = verify.verify_policy(db_session, CTX, cloud, policy, settings=settings)
    assert {a.kind for a in checked} == {"snapshot", "volume"}
    assert all(a.verify_outcome == "ok" and a.verified_at for a in checked), [a.verify_detail for a in checked]
    assert policy.last_verified_at is not None
    assert {v.id for v in conn.block_storage.volumes()} <= before
    assert not [v for v in conn.block_storage.volumes() if "-verify-" in (v.name or "")]

    # -- the audit trail of a run, and /metrics
    actions = [e.action for e in db_session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "backup_run", AuditEvent.object_id == str(second.id)).order_by(AuditEvent.id))]
    assert actions == ["backup.run.queue", "backup.run.start", "backup.run.succeeded"]
    after = backup_metrics(app)
    assert after['govcloud_backup_run_last_success_timestamp_seconds{kind="volume"}'] >= \
        newest_volume.completed_at.timestamp() - 1
    assert after['govcloud_backup_size_bytes{kind="snapshot"}'] \
        - metrics_before.get('govcloud_backup_size_bytes{kind="snapshot"}', 0) \
        == next(a for a in second.artifacts if a.kind == "snapshot").size_bytes
    assert after['govcloud_backup_verification_age_seconds{kind="volume"}'] >= 0
    assert after['govcloud_backup_runs{state="succeeded"}'] - metrics_before['govcloud_backup_runs{state="succeeded"}'] == 2
    assert after['govcloud_backup_restores{mode="new_volume",state="succeeded"}'] \
        - metrics_before.get('govcloud_backup_restores{mode="new_volume",state="succeeded"}', 0) == 1


def _runs(session):
    return [(r.id, r.state, r.error_message, r.error_detail[-600:]) for r in session.scalars(select(BackupRun))]


def test_final_backup_for_a_decommission(app, db_session, gc_cloud, bk_project):
    """The decommission guard's question: has a final backup of the system succeeded?"""
    from tests.integration.backup_fixtures import make_system
    cloud = gc_cloud
    settings = {"CLOUD_NAME_PREFIX": bk_project["prefix"]}
    dept, system, _server, _volume = make_system(db_session, bk_project, "BKFIN")
    assert engine.final_backup_succeeded(db_session, system.id) is None
    run = engine.request_final_backup(db_session, CTX, system.id)
    assert run.policy_id is None and run.kinds == "both" and run.state == RunState.QUEUED
    counts = engine.run_due(db_session, cloud, settings)
    assert counts["succeeded"] == 1, _runs(db_session)
    assert engine.final_backup_succeeded(db_session, system.id).id == run.id
    artifacts = db_session.scalars(select(BackupArtifact).where(BackupArtifact.run_id == run.id)).all()
    assert {a.kind for a in artifacts} == {"snapshot", "volume"}
    backup = cloud.project(bk_project["project_id"]).block_storage.get_backup(
        next(a.openstack_id for a in artifacts if a.kind == "volume"))
    assert backup.metadata["govcloud_backup_policy"] == "final"

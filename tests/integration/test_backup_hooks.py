"""Application-consistent backups: the policy's commands run over SSH (paramiko, host key pinned,
the department's own key, saved by the department's administrator: approved) against a real sshd,
before and after the server snapshot in the dev cloud, in order; a failing
pre-hook fails the run with a clear Chinese message, leaves no snapshot behind, still runs the
post-hook (thaw), is retried, and then opens an incident for the vendor.
"""
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from backup import engine, errors, policies
from portal.models.backups import ArtifactStatus, BackupArtifact, BackupRun, DepartmentSshKey, RunState
from portal.models.accounts import User
from portal.models.audit import AuditEvent
from portal.models.operations import Incident
from portal.services.audit import RequestInfo
from portal.services.ssh_keys import fingerprint, parse_private_key
from tests.integration.backup_fixtures import bk_project, gc_cloud, make_system  # noqa: F401  (fixtures)
from tests.integration.monitoring_fixtures import sshd  # noqa: F401  (fixture)

pytestmark = pytest.mark.devcloud
CTX = RequestInfo(correlation_id="test-backup-hooks")


def _department_key(db_session, dept, sshd):
    """The department's own key: the one the test sshd lets in (as its administrator would upload it)."""
    from portal.services.ssh_keys import _serialize
    private, public = _serialize(parse_private_key(Path(sshd["key_path"]).read_text()), "test")
    key = DepartmentSshKey(department_id=dept.id, name="数据库主机", public_key=public, private_key_sealed=private,
                           fingerprint=fingerprint(public))
    db_session.add(key)
    db_session.commit()
    return key


def _policy(db_session, dept, system, sshd, log_path, pre):
    # saved by the department's administrator: the hooks are approved by that save (第十八条)
    admin = User(username=f"admin-{dept.code.lower()}", full_name="部门管理员", role="department",
                 department_id=dept.id, is_department_admin=True, password_hash="x")
    db_session.add(admin)
    db_session.commit()
    ctx = RequestInfo(actor=admin, correlation_id=CTX.correlation_id)
    policy = policies.create_policy(db_session, ctx, dept.id, {
        "name": "数据库一致性备份", "system_id": system.id, "kinds": "snapshot", "cron": "0 2 * * *",
        "keep_count": "3", "hook_pre": pre,
        "hook_post": f"echo post $(date +%s.%N) >> {log_path}",
        "ssh_username": sshd["username"], "ssh_port": str(sshd["port"]), "ssh_host_key": sshd["host_key"],
        "ssh_key_id": _department_key(db_session, dept, sshd).id})
    assert policy.hooks_state == "approved"
    return policy


def _lines(path):
    return [line.split() for line in Path(path).read_text().splitlines()]


def _project_images(gc_cloud, project_id):
    return {i.id for i in gc_cloud.project(project_id).image.images(owner=project_id)}


def test_hooks_run_before_and_after_the_snapshot(app, db_session, gc_cloud, bk_project, sshd, tmp_path):
    dept, system, _server, _volume = make_system(db_session, bk_project, f"BKH{app.backend[:2].upper()}")
    log_path = tmp_path / "hooks.log"
    policy = _policy(db_session, dept, system, sshd, log_path, f"echo pre $(date +%s.%N) >> {log_path}")
    settings = {"CLOUD_NAME_PREFIX": bk_project["prefix"]}

    run = engine.run_policy(db_session, gc_cloud, policy, settings=settings, ctx=CTX)

    assert run.state == RunState.SUCCEEDED, (run.error_message, run.error_detail)
    (snapshot,) = run.artifacts
    assert snapshot.kind == "snapshot" and snapshot.status == ArtifactStatus.AVAILABLE
    (pre, pre_at), (post, post_at) = [(w[0], float(w[1])) for w in _lines(log_path)]
    assert (pre, post) == ("pre", "post")
    # the server (reached at its floating address from cloud_resource) was frozen before the
    # snapshot was requested and thawed only after the image was complete
    assert pre_at < snapshot.created_at.timestamp() < snapshot.completed_at.timestamp() < post_at
    image = gc_cloud.project(bk_project["project_id"]).image.get_image(snapshot.openstack_id)
    assert image.status == "active"
    assert "pre-hook root@127.0.0.1" in run.hook_log and "post-hook root@127.0.0.1" in run.hook_log


def test_failing_pre_hook_fails_the_run_without_a_snapshot(app, db_session, gc_cloud, bk_project, sshd, tmp_path):
    dept, system, _server, _volume = make_system(db_session, bk_project, f"BKF{app.backend[:2].upper()}")
    log_path = tmp_path / "hooks.log"
    policy = _policy(db_session, dept, system, sshd, log_path,
                     f"echo pre $(date +%s.%N) >> {log_path}; echo 'FLUSH TABLES failed' >&2; exit 3")
    settings = {"CLOUD_NAME_PREFIX": bk_project["prefix"], "BACKUP_MAX_ATTEMPTS": 2, "BACKUP_RETRY_SECONDS": 60}
    images_before = _project_images(gc_cloud, bk_project["project_id"])

    # first attempt: fails, goes back to the queue for a retry a minute later
    run = engine.run_policy(db_session, gc_cloud, policy, settings=settings, ctx=CTX)
    assert run.state == RunState.QUEUED and run.attempts == 1
    assert run.error_message == errors.PRE_HOOK_FAILED
    assert "exit 3" in run.error_detail and "FLUSH TABLES failed" in run.error_detail
    assert engine.run_due(db_session, gc_cloud, settings, now=run.available_at - timedelta(seconds=1))["retrying"] == 0

    # second (last) attempt: fails for good and opens an incident for the vendor
    counts = engine.run_due(db_session, gc_cloud, settings, now=run.available_at)
    assert counts["failed"] == 1
    db_session.refresh(run)
    assert run.state == RunState.FAILED and run.attempts == 2
    assert run.incident_id is not None
    incident = db_session.get(Incident, run.incident_id)
    assert incident.department_id == dept.id and incident.system_name == "不动产登记系统"
    assert errors.PRE_HOOK_FAILED in incident.events[0].note

    # no snapshot was taken, and the thaw ran after each failed freeze
    assert not db_session.scalars(select(BackupArtifact).where(BackupArtifact.run_id == run.id)).all()
    assert _project_images(gc_cloud, bk_project["project_id"]) == images_before
    assert [w[0] for w in _lines(log_path)] == ["pre", "post", "pre", "post"]

    # people read the reason in Chinese
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        from flask_babel import gettext
        message = gettext(run.error_message)
    assert message != run.error_message and "前置命令" in message

    actions = [e.action for e in db_session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "backup_run", AuditEvent.object_id == str(run.id)).order_by(AuditEvent.id))]
    assert actions == ["backup.run.queue", "backup.run.start", "backup.hook.run", "backup.hook.run",
                       "backup.run.retry", "backup.run.start", "backup.hook.run", "backup.hook.run", "backup.run.failed"]
    assert db_session.scalars(select(BackupRun).where(BackupRun.policy_id == policy.id)).one().id == run.id

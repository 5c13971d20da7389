"""第十八条 (issue 16): no side door through the backups, on both database backends, against a real sshd.

A department's administrator makes or uploads the department's own SSH keys (the private key is
never shown nor audited); a policy may only use a live key of its own department, and the engine
checks it again before each use (a forged row runs nothing and fails the run, audited). Hooks saved
by a vendor stay pending and do not run until the department's administrator approves them; then
they run, audited with the approval. A vendor restores only under a live grant of the department.
"""
import re
import subprocess
from datetime import timedelta
from pathlib import Path

import paramiko
import pytest
from sqlalchemy import select

from backup import engine, errors
from portal.database import utcnow
from portal.errors import ValidationFailed
from portal.models.accounts import User
from portal.models.audit import AuditEvent
from portal.models.backups import BackupPolicy, BackupRun, DepartmentSshKey, RunState
from portal.models.grants import VendorGrant
from portal.models.requests import CloudResource
from portal.services import backups as svc
from portal.services.audit import RequestInfo
from portal.services.vendor_access import NoLiveGrant
from tests.conftest import csrf_token_from
from tests.integration.monitoring_fixtures import sshd  # noqa: F401  (fixture)


def post(client, url, data, page=None, **kwargs):
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token_from(html), **data}, **kwargs)


def _ctx(session, seed, key):
    return RequestInfo(actor=session.get(User, seed.user_ids[key]), correlation_id="test-sidedoor")


def _events(session, action):
    return session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)).all()


def _install(sshd, public_key):
    """Let a key log in to the test sshd (as the department would on its host)."""
    with open(Path(sshd["key_path"]).parent / "authorized_keys", "a") as f:
        f.write(public_key.strip() + "\n")


def _upload_sshd_key(client, sshd, name):
    return post(client, "/backups/keys", {"name": name, "private_key": Path(sshd["key_path"]).read_text(),
                                          "upload": "上传"})


def _policy_row(session, seed, dept):
    return session.get(BackupPolicy, seed.extra["policy_id"][0 if dept == "a" else 1])


def _server(session, policy):
    """A server of the policy's system, reached at the test sshd's address."""
    server = CloudResource(department_id=policy.department_id, system_id=policy.system_id, kind="server",
                           key=f"server:R{policy.system_id}:db-1", name="db-1", openstack_id="1" * 32,
                           attributes={"addresses": [{"addr": "127.0.0.1", "type": "floating"}]})
    session.add(server)
    session.commit()
    return server


def _attempt(session, policy):
    run = BackupRun(policy_id=policy.id, department_id=policy.department_id, system_id=policy.system_id,
                    kinds="snapshot", state=RunState.RUNNING, attempts=1, started_at=utcnow())
    session.add(run)
    session.commit()
    return engine.Attempt(session, None, {}, run, utcnow())


def _hook_form(policy, sshd, log_path, key_id, **over):
    return {"name": policy.name, "target": f"s{policy.system_id}", "kinds": "snapshot", "cron": "0 2 * * *",
            "keep_count": "7", "timeout_seconds": "3600", "enabled": "y",
            "hook_pre": f"echo pre >> {log_path}", "hook_post": f"echo post >> {log_path}",
            "ssh_username": sshd["username"], "ssh_host": "", "ssh_port": str(sshd["port"]),
            "ssh_host_key": sshd["host_key"], "ssh_key_id": str(key_id), **over}


def _lines(path):
    return Path(path).read_text().split() if Path(path).exists() else []


def test_department_admin_makes_and_revokes_its_own_keys(app, seed, login_as, db_session, sshd):
    admin, member = login_as("dept_admin"), login_as("dept")

    # generated: an Ed25519 key paramiko loads; the page shows its public key, never the private one
    response = post(admin, "/backups/keys", {"name": "备份主机密钥", "generate": "生成"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    key = db_session.scalars(select(DepartmentSshKey).where(DepartmentSshKey.name == "备份主机密钥")).one()
    assert key.department_id == seed.dept_a and key.created_by_id == seed.user_ids["dept_admin"]
    assert key.public_key.startswith("ssh-ed25519 ") and key.public_key in html
    assert "PRIVATE KEY" not in html and key.private_key_sealed.split("\n")[1] not in html
    loaded = paramiko.Ed25519Key.from_private_key(__import__("io").StringIO(key.private_key_sealed))
    assert f"{loaded.get_name()} {loaded.get_base64()}" == " ".join(key.public_key.split()[:2])

    # uploaded: the fingerprint is the one ssh-keygen shows for the same key
    assert _upload_sshd_key(admin, sshd, "上传的密钥").status_code == 200
    uploaded = db_session.scalars(select(DepartmentSshKey).where(DepartmentSshKey.name == "上传的密钥")).one()
    shown = subprocess.run(["ssh-keygen", "-lf", sshd["key_path"]], capture_output=True, text=True, check=True)
    assert uploaded.fingerprint == shown.stdout.split()[1]

    # a bad upload, a name taken: Chinese errors, nothing stored
    bad = post(admin, "/backups/keys", {"name": "坏密钥", "private_key": "-----BEGIN RSA PRIVATE KEY-----\nx",
                                        "upload": "上传"}).get_data(as_text=True)
    assert "请粘贴 OpenSSH 格式、无口令的 Ed25519 私钥。" in bad
    taken = post(admin, "/backups/keys", {"name": "上传的密钥", "generate": "生成"}).get_data(as_text=True)
    assert "已有同名的密钥。" in taken
    assert db_session.scalar(select(DepartmentSshKey).where(DepartmentSshKey.name == "坏密钥")) is None

    # a plain department user sees the public keys but may not add or revoke; another department sees none
    page = member.get("/backups/keys").get_data(as_text=True)
    assert key.public_key in page and 'id="key-form"' not in page and "revoke-key" not in page
    assert post(member, "/backups/keys", {"name": "成员密钥", "generate": "生成"}).status_code == 403
    assert post(member, f"/backups/keys/{key.id}/revoke", {}, page="/backups/keys").status_code == 403
    assert key.public_key not in login_as("dept_b_admin").get("/backups/keys").get_data(as_text=True)
    assert post(login_as("dept_b_admin"), f"/backups/keys/{key.id}/revoke", {},
                page="/backups/keys").status_code == 404

    assert post(admin, f"/backups/keys/{key.id}/revoke", {}, page="/backups/keys").status_code == 302
    db_session.refresh(key)
    assert key.revoked_at is not None and key.revoked_by_id == seed.user_ids["dept_admin"]

    # the audit log names the keys by fingerprint and never holds a private key
    events = _events(db_session, "department_ssh_key.generate") + _events(db_session, "department_ssh_key.upload") \
        + _events(db_session, "department_ssh_key.revoke")
    assert [e.action for e in events] == ["department_ssh_key.generate", "department_ssh_key.upload",
                                          "department_ssh_key.revoke"]
    assert events[0].after["fingerprint"] == key.fingerprint
    every = db_session.scalars(select(AuditEvent)).all()
    assert not any("PRIVATE KEY" in str(e.before) + str(e.after) + e.detail for e in every)


def test_a_policy_uses_only_a_live_key_of_its_department(app, seed, login_as, db_session):
    from portal.services import ssh_keys
    a_key, b_key = seed.extra["key_id"]
    policy = _policy_row(db_session, seed, "a")
    data = {"name": policy.name, "target": f"s{policy.system_id}", "kinds": "volume", "cron": "0 2 * * *",
            "keep_count": "7", "hook_pre": "sync", "ssh_username": "root", "ssh_host_key": "ssh-ed25519 AAAA",
            "ssh_key_id": str(b_key)}
    for actor in ("dept_admin", "vendor", "admin"):
        with pytest.raises(ValidationFailed) as exc:
            svc.update_policy(db_session, _ctx(db_session, seed, actor), policy.id, data)
        db_session.rollback()
        assert exc.value.field == "ssh_key_id"
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert str(exc.value.message) == "请选择本单位的 SSH 密钥。"
    db_session.refresh(policy)
    assert policy.ssh_key_id is None and policy.hook_pre == ""
    # its own live key is taken; once revoked, a save with the hooks is refused until another key is chosen
    svc.update_policy(db_session, _ctx(db_session, seed, "dept_admin"), policy.id, {**data, "ssh_key_id": a_key})
    assert (policy.ssh_key_id, policy.hooks_state) == (a_key, "approved")
    ssh_keys.revoke_key(db_session, _ctx(db_session, seed, "dept_admin"), a_key)
    for actor in ("dept_admin", "vendor"):
        with pytest.raises(ValidationFailed) as exc:
            svc.update_policy(db_session, _ctx(db_session, seed, actor), policy.id,
                              {**data, "ssh_key_id": a_key, "keep_count": "9"})
        db_session.rollback()
        with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
            assert "已被吊销" in str(exc.value.message)
    db_session.refresh(policy)
    assert policy.keep_count == 7
    svc.update_policy(db_session, _ctx(db_session, seed, "dept_admin"), policy.id,
                      {**data, "hook_pre": "", "ssh_key_id": "", "keep_count": "9"})  # no hooks: no key needed
    assert (policy.ssh_key_id, policy.hooks_state, policy.keep_count) == (None, "none", 9)

    # the page answers in Chinese and keeps nothing
    forged = post(login_as("vendor"), f"/backups/policies/{policy.id}/edit", {**data, "ssh_key_id": str(b_key)})
    assert forged.status_code == 200 and "请选择本单位的 SSH 密钥。" in forged.get_data(as_text=True)
    db_session.refresh(policy)
    assert policy.ssh_key_id is None


def test_vendor_hooks_stay_pending_until_the_department_admin_approves(app, seed, login_as, db_session, sshd,
                                                                       tmp_path):
    admin, vendor = login_as("dept_admin"), login_as("vendor")
    _upload_sshd_key(admin, sshd, "数据库主机")
    key = db_session.scalars(select(DepartmentSshKey).where(DepartmentSshKey.name == "数据库主机")).one()
    policy = _policy_row(db_session, seed, "a")
    server = _server(db_session, policy)
    log_path = tmp_path / "hooks.log"
    edit = f"/backups/policies/{policy.id}/edit"

    # the vendor (no grant) sets commands, host and key: saved, but pending, and nothing runs
    response = post(vendor, edit, _hook_form(policy, sshd, log_path, key.id))
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    db_session.refresh(policy)
    assert policy.hook_pre and policy.hooks_state == "pending" and policy.hooks_approved_hash == ""
    vendor_page = vendor.get(f"/backups/policies/{policy.id}").get_data(as_text=True)
    assert "等待使用部门(单位)管理员批准" in vendor_page and 'id="approve-hooks"' not in vendor_page
    assert 'id="approve-hooks"' not in login_as("dept").get(f"/backups/policies/{policy.id}").get_data(as_text=True)
    attempt = _attempt(db_session, policy)
    ran = []
    attempt.hooked(server, lambda: ran.append("snapshot"))
    db_session.commit()
    assert ran == ["snapshot"] and _lines(log_path) == []  # backed up without the vendor's commands
    assert "hooks not approved" in attempt.log[0]
    (skipped,) = _events(db_session, "backup.hooks.not_approved")
    assert skipped.outcome == "denied" and skipped.after["approved_by"] is None
    assert [e.actor_username for e in _events(db_session, "backup_policy.hooks_pending")] == [seed.users["vendor"]]

    # a plain department user and the portal admin cannot approve; the department admin does, on the page
    member = login_as("dept")
    assert post(member, f"/backups/policies/{policy.id}/approve-hooks", {},
                page=f"/backups/policies/{policy.id}").status_code == 403
    assert post(login_as("admin"), f"/backups/policies/{policy.id}/approve-hooks", {},
                page=f"/backups/policies/{policy.id}").status_code == 403
    page = admin.get(f"/backups/policies/{policy.id}").get_data(as_text=True)
    assert 'id="approve-hooks"' in page
    approved = post(admin, f"/backups/policies/{policy.id}/approve-hooks", {}, page=f"/backups/policies/{policy.id}",
                    follow_redirects=True).get_data(as_text=True)
    assert "已批准备份前后命令" in approved and 'id="approve-hooks"' not in approved
    db_session.refresh(policy)
    assert policy.hooks_state == "approved" and policy.hooks_approved_by_id == seed.user_ids["dept_admin"]
    (approval,) = _events(db_session, "backup_policy.hooks_approved")
    assert approval.after["hash"] == policy.hook_config_hash() and approval.after["ssh_key_id"] == key.id

    # now the commands run around the backup, each run audited with the approval it ran under
    attempt = _attempt(db_session, policy)
    attempt.hooked(server, lambda: ran.append("snapshot"))
    db_session.commit()
    assert _lines(log_path) == ["pre", "post"]
    runs = _events(db_session, "backup.hook.run")
    assert [(e.after["phase"], e.after["exit_status"], e.outcome) for e in runs] == [("pre", 0, "success"),
                                                                                  ("post", 0, "success")]
    assert {e.after["approved_by"] for e in runs} == {seed.user_ids["dept_admin"]}
    assert {e.after["approved_hash"] for e in runs} == {policy.hooks_approved_hash}
    assert {e.after["key_fingerprint"] for e in runs} == {key.fingerprint}

    # the vendor changes one command: pending again, and the changed command does not run
    post(vendor, edit, _hook_form(policy, sshd, log_path, key.id, hook_pre=f"echo vendor >> {log_path}"))
    db_session.refresh(policy)
    assert policy.hooks_state == "pending"
    _attempt(db_session, policy).hooked(server, lambda: None)
    db_session.commit()
    assert _lines(log_path) == ["pre", "post"]
    # a change the department admin saves itself is approved by that save
    post(admin, edit, _hook_form(policy, sshd, log_path, key.id, hook_pre=f"echo admin >> {log_path}"))
    db_session.refresh(policy)
    assert policy.hooks_state == "approved"
    _attempt(db_session, policy).hooked(server, lambda: None)
    db_session.commit()
    assert _lines(log_path) == ["pre", "post", "admin", "post"]


def test_the_engine_refuses_a_key_of_another_department_even_if_forged(app, seed, login_as, db_session, sshd,
                                                                      tmp_path):
    from portal.services import ssh_keys
    from backup import policies
    b_key = ssh_keys.generate_key(db_session, _ctx(db_session, seed, "dept_b_admin"), "乙局主机")
    _install(sshd, b_key.public_key)  # B's key would log in: only the engine's check stops it
    _upload_sshd_key(login_as("dept_admin"), sshd, "甲局主机")
    a_key = db_session.scalars(select(DepartmentSshKey).where(DepartmentSshKey.name == "甲局主机")).one()
    policy = _policy_row(db_session, seed, "a")
    policy.department.openstack_project_id = "f" * 32  # the run gets as far as the hooks
    _server(db_session, policy)
    log_path = tmp_path / "hooks.log"
    data = {**_hook_form(policy, sshd, log_path, a_key.id), "system_id": policy.system_id, "kinds": "snapshot"}
    policies.update_policy(db_session, _ctx(db_session, seed, "dept_admin"), policy, data)
    assert policy.hooks_state == "approved"

    # someone with database access points the policy at B's key and approves that too
    policy.ssh_key_id = b_key.id
    policy.hooks_approved_hash = policy.hook_config_hash()
    db_session.commit()
    settings = {"BACKUP_MAX_ATTEMPTS": 3}
    run = engine.queue_run(db_session, RequestInfo(correlation_id="test"), policy)
    engine.execute_run(db_session, None, settings, run)  # refused before any cloud call

    assert run.state == RunState.FAILED and run.attempts == 1  # not retried
    assert run.error_message == errors.KEY_NOT_OF_DEPARTMENT and run.incident_id is not None
    assert _lines(log_path) == [] and not run.artifacts
    (refused,) = _events(db_session, "backup.hook.refused")
    assert refused.outcome == "denied" and refused.object_id == str(run.id) and refused.department_id == seed.dept_a
    assert "hooks refused" in run.hook_log
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        from flask_babel import gettext
        assert gettext(run.error_message) == "备份前后命令被拒绝：其 SSH 密钥不属于该系统所属的使用部门(单位)。"

    # A's own key, once revoked, is refused the same way
    policy.ssh_key_id = a_key.id
    ssh_keys.revoke_key(db_session, _ctx(db_session, seed, "dept_admin"), a_key.id)
    policy.hooks_approved_hash = policy.hook_config_hash()
    db_session.commit()
    run = engine.queue_run(db_session, RequestInfo(correlation_id="test"), policy)
    engine.execute_run(db_session, None, settings, run)
    assert run.state == RunState.FAILED and run.error_message == errors.KEY_REVOKED
    assert _lines(log_path) == []


def test_a_vendor_restores_only_under_a_live_grant(app, seed, login_as, db_session):
    a_artifact = seed.extra["artifact_id"][0]
    grant = db_session.get(VendorGrant, seed.extra["grant_id"][0])  # applied for, not granted
    vendor_ctx = _ctx(db_session, seed, "vendor")

    def attempt():
        return svc.start_restore(db_session, vendor_ctx, None, a_artifact, "in_place", reason="甲局电话要求回滚")

    with pytest.raises(NoLiveGrant):
        attempt()
    grant.state, grant.starts_at, grant.ends_at = "approved", utcnow() - timedelta(hours=3), utcnow() - timedelta(
        minutes=1)
    db_session.commit()
    with pytest.raises(NoLiveGrant):  # expired
        attempt()
    other = db_session.get(VendorGrant, seed.extra["grant_id"][1])  # a live grant of department B
    other.state = "approved"
    db_session.commit()
    with pytest.raises(NoLiveGrant):
        attempt()
    denied = _events(db_session, "backup.restore.start")
    assert [(e.outcome, e.object_type, e.department_id) for e in denied] == [("denied", "backup_artifact",
                                                                               seed.dept_a)] * 3
    assert db_session.scalars(select(AuditEvent).where(AuditEvent.object_type == "restore_job")).all() == []

    # the page says why (the Chinese message of 第十八条) and starts nothing
    page = f"/backups/artifacts/{a_artifact}/restore"
    response = post(login_as("vendor"), page, {"mode": "in_place", "reason": "甲局电话要求回滚"})
    assert response.status_code == 403 and "运维授权" in response.get_data(as_text=True)
    from portal.models.backups import RestoreJob
    assert db_session.scalars(select(RestoreJob)).all() == []
    assert re.search(r"第十八条", response.get_data(as_text=True))
    assert len(_events(db_session, "backup.restore.start")) == 4


class RestoringCloud:
    """The one cloud call a new-volume restore makes (the restore itself is proved against the dev
    cloud in test_backup_restore.py; here: whose warrant lets the vendor ask for it)."""

    def __init__(self):
        self.calls = []

    def restore_volume_backup(self, project_id, backup_id, name=None, volume_id=None):
        self.calls.append((backup_id, name))
        return "f" * 32


def test_a_vendor_carries_out_a_restore_the_department_requested(app, seed, login_as, db_session, monkeypatch):
    from portal.models.backups import RestoreJob
    cloud = RestoringCloud()
    monkeypatch.setattr(app.extensions["govcloud_runtime"], "cloud", lambda: cloud)
    a_artifact = seed.extra["artifact_id"][0]
    dept, vendor = login_as("dept"), login_as("vendor")

    # the department asks (a reason is required); nothing runs yet
    page = f"/backups/artifacts/{a_artifact}/restore"
    empty = post(dept, page, {"mode": "new_volume", "reason": "", "ask_vendor": "请云服务商恢复"})
    assert "请说明需云服务商恢复的内容及理由。" in empty.get_data(as_text=True)
    asked = post(dept, page, {"mode": "new_volume", "reason": "误删了业务表，请恢复到新卷", "ask_vendor": "请云服务商恢复"})
    assert asked.status_code == 302
    job = db_session.scalars(select(RestoreJob)).one()
    assert (job.state, job.requested_by_id, job.grant_id, cloud.calls) == ("requested", seed.user_ids["dept"], None,
                                                                          [])
    listing = vendor.get("/backups/restores").get_data(as_text=True)
    assert f'id="start-restore-{job.id}"' in listing and "待云服务商执行" in listing

    # only the vendor carries it out, then it runs at once, audited with the request it used
    start = f"/backups/restores/{job.id}/start"
    assert post(dept, start, {}, page="/backups/restores").status_code == 403
    assert post(vendor, start, {}, page="/backups/restores").status_code == 302
    db_session.refresh(job)
    assert (job.state, job.phase, job.started_by_id) == ("running", "restoring", seed.user_ids["vendor"])
    assert cloud.calls == [(f"{seed.dept_a:032d}", job.target_name)]
    started = _events(db_session, "backup.restore.start")[-1]
    assert started.after["request"] == job.id and started.after["requested_by"] == seed.user_ids["dept"]
    assert started.actor_username == seed.users["vendor"] and started.before["state"] == "requested"
    again = post(vendor, start, {}, page="/backups/restores", follow_redirects=True).get_data(as_text=True)
    assert "该恢复不在等待云服务商执行的状态。" in again and len(cloud.calls) == 1

    # a withdrawn request gives the vendor nothing; another department cannot withdraw it
    svc.request_restore(db_session, _ctx(db_session, seed, "dept"), a_artifact, "new_volume", reason="再恢复一次")
    second = db_session.scalars(select(RestoreJob).where(RestoreJob.state == "requested")).one()
    withdraw = f"/backups/restores/{second.id}/withdraw"
    assert post(login_as("dept_b"), withdraw, {}, page="/backups/restores").status_code == 404
    assert post(dept, withdraw, {}, page="/backups/restores").status_code == 302
    db_session.refresh(second)
    assert second.state == "withdrawn"
    from portal.errors import WrongState
    with pytest.raises(WrongState):
        svc.carry_out_restore(db_session, _ctx(db_session, seed, "vendor"), cloud, second.id)
    assert len(cloud.calls) == 1
    assert [e.action for e in db_session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "restore_job", AuditEvent.object_id == str(second.id)).order_by(AuditEvent.seq))] \
        == ["backup.restore.request", "backup.restore.withdraw"]


def _fill(table, **given):
    """A row of a reflected table: the values given, and a plain value for every other required column."""
    import sqlalchemy as sa
    row = dict(given)
    for column in table.columns:
        if column.name in row or column.nullable or column.primary_key or column.server_default is not None:
            continue
        kind = column.type.python_type if not isinstance(column.type, sa.JSON) else dict
        row[column.name] = {str: "x", int: 1, bool: False, dict: {}}.get(kind, utcnow())
    return row


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_drops_the_shared_key_file_references_and_holds_the_hooks(backend, tmp_path_factory):
    """0011a: a policy's ssh_key_ref (a file of the shared folder) is not trusted: no key after the
    upgrade, and its hooks (kept for review) wait for the department's administrator."""
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from portal import migrate
    from tests.conftest import database_url_for
    url, cleanup = database_url_for(backend, tmp_path_factory)
    engine_ = sa.create_engine(url)
    try:
        migrate.upgrade(url, "0010t")
        meta = sa.MetaData()
        meta.reflect(engine_, only=["department", "backup_policy"])
        with engine_.begin() as conn:
            dept_id = conn.execute(meta.tables["department"].insert().values(
                _fill(meta.tables["department"], name="甲局", code="MIG-A", level="city"))).inserted_primary_key[0]
            conn.execute(meta.tables["backup_policy"].insert().values(_fill(
                meta.tables["backup_policy"], department_id=dept_id, name="旧策略", kinds="both", cron="0 2 * * *",
                keep_count=7, timeout_seconds=3600, ssh_port=22, enabled=True, hook_pre="mysql -e 'FLUSH TABLES'",
                hook_post="", ssh_username="root", ssh_host="", ssh_host_key="ssh-ed25519 AAAA",
                ssh_key_ref="other-department.key")))
        migrate.upgrade(url, "0011a")
        with Session(engine_) as session:
            policy = session.scalars(select(BackupPolicy)).one()
            assert (policy.ssh_key_id, policy.hooks_approved_hash, policy.hook_pre) == (None, "",
                                                                                      "mysql -e 'FLUSH TABLES'")
            assert policy.hooks_state == "pending"
            assert "ssh_key_ref" not in {c["name"] for c in sa.inspect(engine_).get_columns("backup_policy")}
    finally:
        engine_.dispose()
        cleanup()

"""第十八条: a vendor gets into a department's system only during that department's grant.

Against the dev cloud (a real server's console log from Nova) and a real sshd (commands run
with the key pair the portal made for the grant); every step is checked in the audit log.
"""
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.database import utcnow
from portal.models.grants import VendorGrant
from portal.models.accounts import User
from portal.models.audit import AuditEvent
from portal.models.requests import CloudResource, ResourceRequest
from portal.services import vendor_access
from portal.services.audit import RequestInfo
from tests.conftest import csrf_token_from
from tests.integration.monitoring_fixtures import sshd  # noqa: F401  (fixture)

pytestmark = pytest.mark.devcloud


@pytest.fixture
def real_server(cloud, run_id, cleanup):
    """A server booted in the dev cloud (admin project) on a network of its own."""
    net = cloud.network.create_network(name=f"grant-{run_id}")
    cleanup(lambda: cloud.network.delete_network(net))
    subnet = cloud.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.77.0.0/24",
                                         name=f"grant-{run_id}")
    cleanup(lambda: cloud.network.delete_subnet(subnet))
    server = cloud.compute.create_server(
        name=f"gc-grant-{run_id}", flavor_id=cloud.compute.find_flavor("m1.tiny").id,
        image_id=cloud.image.find_image("cirros-devcloud").id, networks=[{"uuid": net.id}])
    cleanup(lambda: (cloud.compute.delete_server(server),
                     cloud.compute.wait_for_delete(server, wait=180)))
    return cloud.compute.wait_for_server(server, status="ACTIVE", wait=180)


@pytest.fixture
def system(app, seed, real_server, run_id):
    """A provisioned system of department A whose one server is the real one."""
    from portal.extensions import db
    with app.app_context():
        req = ResourceRequest(number=f"ZWY-G-{run_id}", department_id=seed.dept_a,
                              system_name="不动产登记系统", state="provisioned", spec={},
                              approved_spec={}, approved_at=utcnow())
        db.session.add(req)
        db.session.flush()
        server = CloudResource(department_id=seed.dept_a, system_id=req.id, kind="server",
                               key=f"server:{run_id}", name=real_server.name,
                               openstack_id=real_server.id)
        db.session.add(server)
        db.session.commit()
        return {"id": req.id, "server": server.id}


def _post(client, url, page_url, data):
    token = csrf_token_from(client.get(page_url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def _local(dt):
    return (dt + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")  # Asia/Shanghai, no DST


def test_vendor_access_only_during_the_grant(app, seed, login_as, system, sshd, db_session):
    vendor, admin = login_as("vendor"), login_as("dept_admin")
    now = utcnow()

    # the vendor applies; before the department decides there is no way in
    response = _post(vendor, "/grants/new", "/grants/new", {
        "system_id": system["id"], "reason": "数据库性能排查",
        "starts_at": _local(now - timedelta(minutes=5)), "ends_at": _local(now + timedelta(hours=1))})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    grant_id = int(re.search(r"/grants/(\d+)$", response.headers["Location"]).group(1))
    console_url = f"/grants/{grant_id}/servers/{system['server']}/console"
    assert vendor.get(console_url).status_code == 403
    assert _post(vendor, f"/grants/{grant_id}/ssh", f"/grants/{grant_id}",
                 {"command": "id"}).status_code == 403

    # the department's administrator grants it, naming its management host (a real sshd)
    response = _post(admin, f"/grants/{grant_id}/decide", f"/grants/{grant_id}", {
        "ssh_host": sshd["host"], "ssh_port": sshd["port"], "ssh_username": sshd["username"],
        "ssh_host_key": sshd["host_key"], "comment": "同意,限本次排查", "approve": "1"})
    assert response.status_code == 302
    page = admin.get(f"/grants/{grant_id}").get_data(as_text=True)
    public_key = re.search(r'id="grant-public-key">([^<]+)<', page).group(1).strip()
    assert public_key.startswith("ssh-ed25519 ") and public_key.endswith(f"govcloud-grant-{grant_id}")
    authorized = Path(sshd["key_path"]).parent / "authorized_keys"
    authorized.write_text(authorized.read_text() + public_key + "\n")  # the department installs it

    # during the grant: the console log from Nova, and a command on the management host
    console = vendor.get(console_url)
    assert console.status_code == 200
    assert "FAKE CONSOLE OUTPUT" in console.get_data(as_text=True)  # Nova's fake driver
    result = _post(vendor, f"/grants/{grant_id}/ssh", f"/grants/{grant_id}",
                   {"command": "echo govcloud-$((6*7)); hostname >/dev/null"})
    html = result.get_data(as_text=True)
    assert result.status_code == 200 and "govcloud-42" in html
    assert re.search(r'id="ssh-exit">0<', html)
    key_file = vendor_access.key_path(os.path.join(app.instance_path, "grant-keys"), grant_id)
    assert os.stat(key_file).st_mode & 0o077 == 0

    # the department revokes: access ends at once and the private key is destroyed
    assert _post(admin, f"/grants/{grant_id}/revoke", f"/grants/{grant_id}", {}).status_code == 302
    assert not os.path.exists(key_file)
    assert vendor.get(console_url).status_code == 403
    assert _post(vendor, f"/grants/{grant_id}/ssh", f"/grants/{grant_id}",
                 {"command": "id"}).status_code == 403

    actions = [(e.action, e.outcome) for e in db_session.scalars(
        select(AuditEvent).where(AuditEvent.object_type.in_(["vendor_grant", "server"]))
        .order_by(AuditEvent.seq))]
    assert actions == [
        ("grant.apply", "success"), ("access.console", "denied"), ("access.ssh", "denied"),
        ("grant.approve", "success"), ("access.console", "success"), ("access.ssh", "success"),
        ("grant.revoke", "success"), ("access.console", "denied"), ("access.ssh", "denied")]
    ssh_event = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "access.ssh", AuditEvent.outcome == "success")).one()
    assert ssh_event.after["command"].startswith("echo govcloud-")
    assert ssh_event.after["exit_status"] == 0


def test_a_grant_expires_and_its_key_with_it(app, seed, login_as, system, sshd, db_session):
    from portal.extensions import db
    key_dir = os.path.join(app.instance_path, "grant-keys")
    with app.app_context():
        vendor = db.session.get(User, seed.user_ids["vendor"])
        admin = db.session.get(User, seed.user_ids["dept_admin"])
        now = utcnow()
        grant = vendor_access.apply_grant(db.session, RequestInfo(actor=vendor), system["id"],
                                          "夜间变更", now - timedelta(minutes=1),
                                          now + timedelta(minutes=10))
        vendor_access.decide_grant(db.session, RequestInfo(actor=admin), grant.id, True, "",
                                   {"host": sshd["host"], "port": sshd["port"],
                                    "username": "root", "host_key": sshd["host_key"]}, key_dir)
        assert os.path.exists(vendor_access.key_path(key_dir, grant.id))
        assert vendor_access.expire_grants(db.session, RequestInfo(), key_dir,
                                           now=now + timedelta(minutes=11)) == 1
        assert db.session.get(VendorGrant, grant.id).state == "expired"
        assert not os.path.exists(vendor_access.key_path(key_dir, grant.id))
        with pytest.raises(vendor_access.NoLiveGrant):
            vendor_access.run_ssh(db.session, RequestInfo(actor=vendor), grant.id, "id", key_dir)


def test_a_refusal_needs_a_reason_in_chinese(login_as, seed):
    admin = login_as("dept_admin")
    grant_id = seed.extra["grant_id"][0]
    response = _post(admin, f"/grants/{grant_id}/decide", f"/grants/{grant_id}",
                     {"refuse": "1", "comment": ""})
    assert response.status_code == 200
    assert "请说明拒绝理由" in response.get_data(as_text=True)


def test_a_wrong_host_key_is_refused_before_anything_runs(app, seed, login_as, system, sshd):
    """The pinned key is the only one accepted: a changed host key stops the command."""
    from portal.extensions import db
    key_dir = os.path.join(app.instance_path, "grant-keys")
    other = Path(sshd["key_path"]).with_suffix(".pub").read_text().split()[:2]  # a user key
    with app.app_context():
        vendor = db.session.get(User, seed.user_ids["vendor"])
        admin = db.session.get(User, seed.user_ids["dept_admin"])
        now = utcnow()
        grant = vendor_access.apply_grant(db.session, RequestInfo(actor=vendor), system["id"],
                                          "巡检", now - timedelta(minutes=1), now + timedelta(hours=1))
        vendor_access.decide_grant(db.session, RequestInfo(actor=admin), grant.id, True, "",
                                   {"host": sshd["host"], "port": sshd["port"],
                                    "username": "root", "host_key": " ".join(other)}, key_dir)
        with pytest.raises(vendor_access.ValidationFailed) as exc:
            vendor_access.run_ssh(db.session, RequestInfo(actor=vendor), grant.id, "id", key_dir)
        assert "无法连接运维管理主机" in str(exc.value.message)
        assert "BadHostKeyException" in str(exc.value.message)
        failed = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "access.ssh")).one()
        assert failed.outcome == "failure" and "BadHostKeyException" in failed.detail


def test_scheduled_jobs_end_grants_and_sign_the_audit_chain(app, seed, db_session):
    from scheduler import runtime, trust_jobs
    from portal import audit_chain
    from portal.models.operations import JobRun
    app.config["AUDIT_HMAC_KEY"] = "job-test-key"
    runtime.configure(app.config, app.extensions["govcloud_db"][0])
    grant = db_session.get(VendorGrant, seed.extra["grant_id"][0])
    grant.state, grant.ends_at = "approved", utcnow() - timedelta(seconds=1)
    db_session.commit()
    assert trust_jobs.expire_grants().summary == "1 grants ended"
    db_session.expire_all()
    assert db_session.get(VendorGrant, grant.id).state == "expired"
    assert trust_jobs.audit_digest().summary.endswith("signed")
    # once per interval (job_period): a second run in the same hour, by hand or by another scheduler
    assert trust_jobs.audit_digest().summary.endswith("signed before")
    assert audit_chain.verify(db_session, b"job-test-key").digests == 1
    runs = {r.job_id: r.outcome for r in db_session.scalars(select(JobRun))}
    assert runs == {"expire_grants": "success", "audit_digest": "success"}

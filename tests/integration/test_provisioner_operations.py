"""Operator actions on a failed provisioning (roll back, mark resolved) and the reconciler, against the
dev cloud on SQLite and PostgreSQL.

A rollback deletes what the request created — found by stored id, and in OpenStack by deterministic
name and metadata, so a resource created just before a crash (never stored) goes too — and leaves
nothing in OpenStack (counted as admin, all projects) and nothing live in cloud_resource. A failed
change loses only what it added. The reconciler finds an orphan, a drift and a quota mismatch with
the right suggested action, and nothing on a clean system.
"""
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from portal.services.cloud_catalog import cloud_for
from provisioner.cloud import Cloud
from tests.conftest import csrf_token_from
from tests.integration.provisioning_support import approve_change, approve_new, make_department
from tests.integration.test_requests_cloud_flow import purge_prefix, ssh_key

pytestmark = pytest.mark.devcloud
FAILING_KINDS = ("router", "network", "subnet", "security_group", "keypair", "server", "volume", "floating_ip")


def post(client, url, page, data=None):
    html = client.get(page).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token_from(html), **(data or {})})


def leftovers(cloud, prefix, number):
    """Everything named prefix-* in all projects, and what carries the request's metadata in the prefix-*
    projects (request numbers repeat across databases: other test runs share the cloud); projects aside."""
    ours = {p.id for p in cloud.identity.projects() if p.name.startswith(prefix + "-")}

    def named(items):
        return [(i.name, i.id) for i in items if (i.name or "").startswith(prefix + "-")]

    def tagged(item):
        return (item.name or "").startswith(prefix + "-") or (
            item.project_id in ours and (item.metadata or {}).get("govcloud_request") == number)
    return {
        "router": named(cloud.network.routers()),
        "network": named(cloud.network.networks()),
        "subnet": named(cloud.network.subnets()),
        "security_group": named(cloud.network.security_groups()),
        "keypair": [k.name for k in cloud.compute.keypairs() if k.name.startswith(prefix + "-")],
        "server": [(s.name, s.id) for s in cloud.compute.servers(all_projects=True) if tagged(s)],
        "volume": [(v.name, v.id) for v in cloud.block_storage.volumes(all_projects=True) if tagged(v)],
        "floating_ip": [ip.id for ip in cloud.network.ips() if (ip.description or "").startswith(prefix + "-")],
    }


def drop_flavor(cloud, name):
    flavor = cloud.compute.find_flavor(name)
    if flavor is not None:
        cloud.compute.delete_flavor(flavor)


def live_rows(app, department_id):
    from portal.extensions import db
    from portal.models.requests import CloudResource
    with app.app_context():
        db.session.expire_all()
        return sorted((r.kind, r.key) for r in db.session.scalars(select(CloudResource).where(
            CloudResource.department_id == department_id, CloudResource.deleted.is_(False),
            CloudResource.kind != "project")))


def metrics(client):
    return {f.name: f for f in text_string_to_metric_families(client.get("/metrics").get_data(as_text=True))}



def _flavor_and_worker_cloud(app, cloud, cleanup, flavor_name):
    """A flavor of the test's own (the forms' cached catalog knows it) and a Cloud for the worker."""
    cloud.compute.create_flavor(name=flavor_name, vcpus=1, ram=256, disk=1)
    cloud_for(app.config).catalog(refresh=True)
    cleanup(lambda: drop_flavor(cloud, flavor_name))
    worker_cloud = Cloud()
    cleanup(worker_cloud.close)
    return flavor_name, worker_cloud

def test_rollback_of_a_failed_request_leaves_nothing(app, seed, login_as, cloud, run_id, cleanup):
    from portal.extensions import db
    from portal.models.accounts import Department
    from portal.models.audit import AuditEvent
    from portal.models.requests import ProvisioningJob, ResourceRequest
    from portal.services.resource_requests import system_status
    from provisioner.naming import resource_name
    from provisioner.worker import Worker

    prefix = f"gc{run_id}"
    cleanup(lambda: purge_prefix(cloud, prefix))
    flavor_name, worker_cloud = _flavor_and_worker_cloud(app, cloud, cleanup, f"gcrb-{run_id}")
    dept_id, user_id = make_department(app, f"RB{run_id[1:6]}".upper(), f"回滚测试局{run_id}")
    # web-1 is built, then app-1 fails: its flavor disappears between approval and provisioning
    request_id = approve_new(app, user_id, seed.user_ids["bureau"], {
        "servers": [{"name": "web", "flavor": "m1.tiny", "image": "cirros-devcloud", "count": 1},
                    {"name": "app", "flavor": flavor_name, "image": "cirros-devcloud", "count": 1}],
        "volumes": [{"name": "data", "size_gb": 1, "attach_to": "web-1"}],
        "rules": [{"port": "22", "protocol": "tcp", "source": "10.0.0.0/8"}],
        "network": {"cidr": "192.168.77.0/24"}, "floating_ips": 1, "ssh_public_key": ssh_key()})
    cloud.compute.delete_flavor(cloud.compute.find_flavor(flavor_name))
    worker = Worker(app.extensions["govcloud_db"][0], worker_cloud, name_prefix=prefix)
    assert worker.run_one() == "failed"
    with app.app_context():
        req = db.session.get(ResourceRequest, request_id)
        dept = db.session.get(Department, dept_id)
        assert req.state == "failed", req.failure_message
        project_id, number = dept.openstack_project_id, req.number
        # a crash just after a create: the volume exists in OpenStack with its deterministic name, its id
        # was never stored (no metadata either, so only the name can find it)
        unrecorded = worker_cloud.create_volume(project_id, resource_name(prefix, dept, f"volume:R{request_id}:data"),
                                                1, {})
    before = leftovers(cloud, prefix, number)
    assert before["server"] and before["network"] and before["router"] and before["keypair"]
    assert unrecorded in {v for _, v in before["volume"]}
    assert ("server", f"server:R{request_id}:web-1") in live_rows(app, dept_id)

    # the bureau and the department see the failure but get no operator buttons; the vendor does
    page = f"/requests/{request_id}"
    assert "failure-actions" not in login_as("bureau").get(page).get_data(as_text=True)
    vendor = login_as("vendor")
    html = vendor.get(page).get_data(as_text=True)
    assert "failure-actions" in html and "回滚" in html and "标记为已处理" in html
    assert "rollback-button" in vendor.get("/provisioning/?state=failed").get_data(as_text=True)
    response = post(vendor, f"/provisioning/{request_id}/rollback", page, {"back": "detail"})
    assert response.status_code == 302 and response.headers["Location"].endswith(page)
    assert "回滚已排队" in vendor.get(page).get_data(as_text=True)
    with app.app_context():
        req = db.session.get(ResourceRequest, request_id)
        job = db.session.scalars(select(ProvisioningJob).where(ProvisioningJob.request_id == request_id)
                                 .order_by(ProvisioningJob.id.desc())).first()
        assert req.state == "rolling_back" and job.action == "rollback" and job.state == "queued"
    # a second click is refused: the request is no longer failed
    post(vendor, f"/provisioning/{request_id}/rollback", page)
    assert "只有开通失败的申请才能回滚。" in vendor.get(page).get_data(as_text=True)

    assert worker.run_one() == "succeeded"
    with app.app_context():
        db.session.expire_all()
        req = db.session.get(ResourceRequest, request_id)
        assert req.state == "rolled_back"
        assert system_status(db.session, request_id) == "none"  # the system is not live
        deletes = db.session.scalars(select(AuditEvent).where(AuditEvent.department_id == dept_id,
                                                              AuditEvent.action == "cloud.delete")).all()
        by_id = {e.object_id: e.after for e in deletes}
        assert by_id[unrecorded]["found_by"] == "name"
        assert {e.object_type for e in deletes} >= {"server", "volume", "floating_ip", "keypair", "security_group",
                                                    "subnet", "network", "router"} - {"floating_ip"}
        quotas = worker_cloud.get_quotas(project_id)
    assert leftovers(cloud, prefix, number) == {kind: [] for kind in FAILING_KINDS}
    assert live_rows(app, dept_id) == []
    assert quotas["instances"] == 0 and quotas["gigabytes"] == 0  # the approved total of no live system
    html = vendor.get(page).get_data(as_text=True)
    assert "已回滚" in html and "failure-actions" not in html

    fams = metrics(app.test_client())
    steps = {s.labels["kind"] for s in fams["govcloud_provisioning_step_duration_seconds"].samples}
    assert {"project", "quotas", "router", "network", "subnet", "sg", "keypair", "server", "rollback"} <= steps
    rollbacks = {s.labels["state"]: s.value for s in fams["govcloud_provisioning_rollbacks"].samples}
    assert rollbacks == {"succeeded": 1}
    failures = {s.labels["reason"]: s.value for s in fams["govcloud_provisioning_failures"].samples
                if s.name == "govcloud_provisioning_failures_total"}
    assert failures == {"flavor_missing": 1}


def test_resolve_records_the_comment(app, seed, login_as, db_session):
    """Mark resolved: the vendor's comment is required, kept on the request and in the audit log."""
    from portal.models.audit import AuditEvent
    from portal.models.requests import ResourceRequest
    request_id = seed.extra["request_id"][0]
    req = db_session.get(ResourceRequest, request_id)
    req.state, req.failure_message = "failed", "The cloud rejected the request."
    db_session.commit()
    page = f"/requests/{request_id}"
    dept = login_as("dept")
    assert "failure-actions" not in dept.get(page).get_data(as_text=True)
    assert post(dept, f"/provisioning/{request_id}/resolve", "/", {"comment": "x"}).status_code == 403
    vendor = login_as("vendor")
    assert post(vendor, f"/provisioning/{request_id}/resolve", page, {"comment": "  ", "back": "detail"}).status_code == 302
    assert "请说明开通失败是如何处理的。" in vendor.get(page).get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(ResourceRequest, request_id).state == "failed"
    comment = "已在云平台手工删除残留云主机 web-1，并与部门确认无需重新开通"
    response = post(vendor, f"/provisioning/{request_id}/resolve", "/provisioning/", {"comment": comment})
    assert response.status_code == 302 and response.headers["Location"].endswith("/provisioning/")
    db_session.expire_all()
    req = db_session.get(ResourceRequest, request_id)
    assert req.state == "resolved" and req.resolution == comment
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "request.resolve",
                                                        AuditEvent.object_id == str(request_id))).one()
    assert event.detail == comment and event.after["state"] == "resolved" and event.actor_username == "vendor1"
    for who in ("dept", "auditor"):
        html = login_as(who).get(page).get_data(as_text=True)
        assert "已处理" in html and comment in html
    assert "开通失败已标记为已处理" in login_as("auditor").get("/audit/").get_data(as_text=True)
    # neither action applies to a resolved request
    post(vendor, f"/provisioning/{request_id}/rollback", page)
    assert db_session.get(ResourceRequest, request_id).state == "resolved"


def test_operator_actions_through_the_api(app, seed, login_as, db_session):
    """POST /api/v1/requests/<id>/operation: the vendor's token may act, a department's may not."""
    from portal.models.requests import ProvisioningJob, ResourceRequest
    from tests.integration.test_api_requests import ui_token
    request_id = seed.extra["request_id"][0]
    req = db_session.get(ResourceRequest, request_id)
    req.state = "failed"
    db_session.commit()
    api, url = app.test_client(), f"/api/v1/requests/{request_id}/operation"
    vendor = {"Authorization": f"Bearer {ui_token(login_as('vendor'))}"}
    dept = {"Authorization": f"Bearer {ui_token(login_as('dept'))}"}
    assert api.post(url, json={"action": "rollback"}, headers=dept).status_code == 403
    assert api.post(url, json={"action": "explode"}, headers=vendor).status_code == 422
    answer = api.post(url, json={"action": "resolve"}, headers=vendor)
    assert answer.status_code == 422 and answer.get_json()["code"] == "invalid"
    answer = api.post(url, json={"action": "rollback"}, headers=vendor)
    assert answer.status_code == 200 and answer.get_json()["state"] == "rolling_back"
    job = db_session.scalars(select(ProvisioningJob).where(ProvisioningJob.request_id == request_id)).one()
    assert job.action == "rollback" and job.state == "queued"
    assert api.post(url, json={"action": "resolve", "comment": "x"}, headers=vendor).status_code in (400, 409)


def test_failed_change_rolls_back_and_the_reconciler_finds_orphan_drift_quota(app, seed, login_as, cloud, run_id,
                                                                             cleanup):
    from portal.extensions import db
    from portal.models.accounts import Department
    from portal.models.operations import JobRun
    from portal.models.reconcile import ReconcileFinding
    from portal.models.requests import ResourceRequest
    from portal.services import provisioning_ops
    from portal.services.audit import RequestInfo
    from portal.services.resource_requests import current_spec, system_status
    from portal.models.accounts import User
    from scheduler import reconcile_jobs, runtime
    from provisioner.naming import resource_name
    from provisioner.worker import Worker

    prefix = f"gc{run_id}"
    cleanup(lambda: purge_prefix(cloud, prefix))
    flavor_name, worker_cloud = _flavor_and_worker_cloud(app, cloud, cleanup, f"gcrc-{run_id}")
    engine = app.extensions["govcloud_db"][0]
    worker = Worker(engine, worker_cloud, name_prefix=prefix)
    dept_id, user_id = make_department(app, f"RC{run_id[1:6]}".upper(), f"核对测试局{run_id}")
    spec = {"servers": [{"name": "web", "flavor": "m1.tiny", "image": "cirros-devcloud", "count": 1}],
            "volumes": [{"name": "data", "size_gb": 1, "attach_to": "web-1"}],
            "rules": [{"port": "443", "protocol": "tcp", "source": "0.0.0.0/0"}]}
    system_id = approve_new(app, user_id, seed.user_ids["bureau"], spec)
    assert worker.run_one() == "succeeded"
    with app.app_context():
        dept = db.session.get(Department, dept_id)
        project_id = dept.openstack_project_id
        assert db.session.get(ResourceRequest, system_id).state == "provisioned"
    provisioned = live_rows(app, dept_id)

    # a change adds app-1 (its flavor disappears before provisioning) and a volume: it fails at app-1
    change_id = approve_change(app, user_id, seed.user_ids["bureau"], system_id, {
        **spec, "servers": spec["servers"] + [{"name": "app", "flavor": flavor_name, "image": "cirros-devcloud",
                                               "count": 1}],
        "volumes": spec["volumes"] + [{"name": "logs", "size_gb": 1, "attach_to": "app-1"}]})
    cloud.compute.delete_flavor(cloud.compute.find_flavor(flavor_name))
    assert worker.run_one() == "failed"
    with app.app_context():
        dept = db.session.get(Department, dept_id)
        # crash just after creating the change's volume: it exists by name only
        logs = worker_cloud.create_volume(project_id, resource_name(prefix, dept, f"volume:R{system_id}:logs"), 1, {})
        vendor = db.session.get(User, seed.user_ids["vendor"])
        provisioning_ops.rollback_request(db.session, RequestInfo(actor=vendor), change_id)
    assert worker.run_one() == "succeeded"
    with app.app_context():
        db.session.expire_all()
        assert db.session.get(ResourceRequest, change_id).state == "rolled_back"
        assert system_status(db.session, system_id) == "live"  # the system keeps its previous resources
        assert current_spec(db.session, system_id)["servers"][0]["name"] == "web"
    assert live_rows(app, dept_id) == provisioned
    volumes = {v.id: v for v in cloud.block_storage.volumes(all_projects=True, project_id=project_id)}
    servers = list(cloud.compute.servers(all_projects=True, project_id=project_id))
    assert logs not in volumes and len(volumes) == 1 and [s.name.endswith("web-1") for s in servers] == [True]

    # a clean system: the reconciler (the scheduler's job) finds nothing
    runtime.configure({**app.config, "CLOUD_NAME_PREFIX": prefix}, engine)
    assert reconcile_jobs.reconcile().failed is False
    with app.app_context():
        assert [(f.kind, f.problem, f.resource_kind, f.name, f.detail)
                for f in db.session.scalars(select(ReconcileFinding))] == []
        assert db.session.scalars(select(JobRun).where(JobRun.job_id == "reconcile")).one().outcome == "success"
    html = login_as("bureau").get("/provisioning/reconcile").get_data(as_text=True)
    assert "reconcile-last-run" in html and "no-findings" in html

    # by hand: a quota changed, an orphan volume with a govcloud-style name, the system's server deleted
    cloud.set_volume_quotas(project_id, volumes=3, gigabytes=5)
    project = cloud.connect_as_project({"id": project_id, "name": None, "domain_id": "default"})
    cleanup(project.close)
    orphan = project.block_storage.create_volume(name=f"{prefix}-{dept.code.lower()}-volume-R999999-stray", size=1)
    project.block_storage.wait_for_status(orphan, status="available", wait=120)
    server = servers[0]
    cloud.compute.delete_server(server)
    cloud.compute.wait_for_delete(server, wait=120)
    # and the system's volume (detached with its server) put into the error state by the admin
    data = next(iter(volumes.values()))
    cloud.block_storage.wait_for_status(data, status="available", wait=120)
    cloud.block_storage.reset_volume_status(data, status="error", attach_status="detached")
    cleanup(lambda: cloud.block_storage.reset_volume_status(data, status="available", attach_status="detached"))
    assert reconcile_jobs.reconcile().failed is False
    with app.app_context():
        found = sorted((f.kind, f.problem, f.suggestion, f.resource_kind, f.openstack_id, f.department_id)
                       for f in db.session.scalars(select(ReconcileFinding)))
    assert found == sorted([
        ("orphan", "no_owner", "delete_orphan", "volume", orphan.id, dept_id),
        ("drift", "missing", "reprovision", "server", server.id, dept_id),
        ("drift", "error", "repair", "volume", data.id, dept_id),
        ("quota", "quota", "fix_quota", "", "", dept_id)]), found
    with app.app_context():
        quota = db.session.scalars(select(ReconcileFinding).where(ReconcileFinding.kind == "quota")).one()
        assert quota.detail["differs"] == ["gigabytes", "volumes"] and quota.detail["actual"]["gigabytes"] == 5
        assert quota.detail["expected"]["gigabytes"] == 1 and quota.detail["expected"]["volumes"] == 1
    for who in ("vendor", "bureau", "auditor"):
        html = login_as(who).get("/provisioning/reconcile").get_data(as_text=True)
        assert "孤立资源" in html and "状态偏离" in html and "配额不一致" in html
        assert "处于错误（ERROR）状态" in html and "手工修复或重建该资源" in html
        assert "在云平台中删除该孤立资源" in html and "重新执行该系统的开通" in html
        assert "将项目配额设为批准的分配量" in html
    assert login_as("dept").get("/provisioning/reconcile").status_code == 403
    fams = metrics(app.test_client())
    assert {s.labels["kind"]: s.value for s in fams["govcloud_reconciler_findings"].samples} == {
        "orphan": 1, "drift": 2, "quota": 1}
    assert fams["govcloud_reconciler_last_run_timestamp_seconds"].samples[0].value > 0
    retries = {s.labels["kind"] for s in fams["govcloud_provisioning_retries"].samples}
    assert retries == {"requeue", "resume"}

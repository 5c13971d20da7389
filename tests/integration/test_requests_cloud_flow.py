"""The whole path through HTTP against the dev cloud: apply, return, resubmit, approve with an
adjustment, provision (the worker process), receipt; change (resize + extend); decommission.

Everything is checked in OpenStack with the admin connection. Runs on PostgreSQL (the worker's
production database); the pure web paths run on both backends in test_requests_web.py.
"""
import os
import subprocess
import sys
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import select

from tests.documents import upload_required
from tests.conftest import csrf_token_from, single_backend_app
from tests.integration.provisioning_support import worker_env

pytestmark = pytest.mark.devcloud
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKER_TIMEOUT = int(os.environ.get("GOVCLOUD_TEST_WORKER_TIMEOUT", "240"))  # a loaded machine may need more


@pytest.fixture(scope="module")
def migrated_app(tmp_path_factory):
    """This module's app: PostgreSQL only (the cloud flow is slow; SQLite is covered elsewhere)."""
    yield from single_backend_app("postgresql", tmp_path_factory)


def ssh_key():
    key = ed25519.Ed25519PrivateKey.generate()
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def pdf_text(data):
    """The text of a PDF (pdftotext, as the reports' tests read theirs)."""
    proc = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, check=True, capture_output=True)
    return proc.stdout.decode()


def api_resources(app, department_id, request_id):
    """The system's resources as the department's API client lists them."""
    from portal.extensions import db
    from portal.models.accounts import User
    from portal.services.api_tokens import create_token
    from portal.services.audit import RequestInfo
    with app.app_context():
        user = db.session.scalars(select(User).where(User.department_id == department_id)).first()
        _t, token = create_token(db.session, RequestInfo(correlation_id="flow"), user, "flow", scope="read", days=1)
        db.session.commit()
    response = app.test_client().get(f"/api/v1/requests/{request_id}/resources",
                                     headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    return response.get_json()


def post(client, url, data, page=None):
    """POST a form with a CSRF token taken from page (or from url itself)."""
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token_from(html), **data})


def run_worker(app, prefix):
    """Run `python -m provisioner.worker --once` against the test database; return its output."""
    env = worker_env(app, prefix)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "provisioner.worker", "--once"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=WORKER_TIMEOUT)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return time.monotonic() - started, proc.stderr


def purge_prefix(cloud, prefix):
    """Delete every project named prefix-* and whatever it holds (cleanup, registered before creating)."""
    for project in list(cloud.identity.projects()):
        if not project.name.startswith(prefix + "-"):
            continue
        pid = project.id
        for ip in cloud.network.ips(project_id=pid):
            cloud.network.delete_ip(ip)
        for server in cloud.compute.servers(all_projects=True, project_id=pid):
            cloud.compute.delete_server(server)
            cloud.compute.wait_for_delete(server, wait=120)
        for vol in cloud.block_storage.volumes(all_projects=True, project_id=pid):
            cloud.block_storage.wait_for_status(vol, status="available", failures=["error"], wait=120)
            cloud.block_storage.delete_volume(vol)
            cloud.block_storage.wait_for_delete(vol, wait=120)
        for router in cloud.network.routers(project_id=pid):
            for port in cloud.network.ports(device_id=router.id, device_owner="network:router_interface"):
                cloud.network.remove_interface_from_router(router, port_id=port.id)
            cloud.network.delete_router(router)
        for net in cloud.network.networks(project_id=pid):
            cloud.network.delete_network(net)
        for sg in [s for s in cloud.network.security_groups() if s.project_id == pid]:
            cloud.network.delete_security_group(sg)
        cloud.identity.delete_project(project)
    for kp in cloud.compute.keypairs():
        if kp.name.startswith(prefix + "-"):
            cloud.compute.delete_keypair(kp)


def project_view(cloud, project_id):
    servers = list(cloud.compute.servers(all_projects=True, project_id=project_id))
    volumes = list(cloud.block_storage.volumes(all_projects=True, project_id=project_id))
    return servers, volumes


def test_apply_review_provision_change_decommission(app, seed, login_as, cloud, run_id, cleanup):
    from portal.models.accounts import Department
    from portal.models.requests import DeliveryReceipt, ResourceRequest

    prefix = f"gc{run_id}"
    cleanup(lambda: purge_prefix(cloud, prefix))
    # a department of its own: the access walk's seeds put fake systems into departments A and B
    from tests.conftest import PASSWORD, login
    with app.app_context():
        from portal.extensions import db
        from portal.models.accounts import User
        flow_dept = Department(name=f"流程测试局{run_id}", code=f"FLOW{run_id[1:5]}".upper(), level="city")
        db.session.add(flow_dept)
        db.session.flush()
        hasher = app.extensions["govcloud_passwords"]
        db.session.add(User(username=f"flow-{run_id}", role="department", department_id=flow_dept.id,
                            password_hash=hasher.hash(PASSWORD)))
        db.session.commit()
        dept_id, code = flow_dept.id, flow_dept.code.lower()
    dept = app.test_client()
    assert login(dept, f"flow-{run_id}").status_code == 302
    bureau = login_as("bureau")
    key = ssh_key()

    # -- apply (附件1): web x1 and app x2 (the reviewer approves one app), two volumes, ports 22/443
    form = {"system_name": "不动产登记系统", "purpose": "不动产登记业务", "project_ref": "2026年信息化项目",
            "security_level": "3", "construction_plan": "分两期建设",
            "servers-1-name": "web", "servers-1-flavor": "m1.tiny", "servers-1-image": "cirros-devcloud",
            "servers-1-count": "1", "servers-2-name": "app", "servers-2-flavor": "m1.tiny",
            "servers-2-image": "cirros-devcloud", "servers-2-count": "2",
            "volumes-1-name": "data1", "volumes-1-size_gb": "1", "volumes-1-attach_to": "web-1",
            "volumes-2-name": "data2", "volumes-2-size_gb": "2", "volumes-2-attach_to": "app-1",
            "rules-1-port": "22", "rules-1-protocol": "tcp", "rules-1-source": "10.0.0.0/8",
            "rules-2-port": "443", "rules-2-protocol": "tcp", "rules-2-source": "0.0.0.0/0",
            "network_cidr": "192.168.50.0/24", "floating_ips": "1", "ssh_public_key": key, "then": "save"}
    response = post(dept, "/requests/new", form)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    request_id = int(response.headers["Location"].rstrip("/").split("/")[-2])
    upload_required(dept, request_id, csrf_token_from(dept.get(f"/requests/{request_id}/edit").get_data(as_text=True)))
    response = post(dept, f"/requests/{request_id}/submit", {}, page=f"/requests/{request_id}")
    assert response.status_code == 302
    with app.app_context():
        from portal.extensions import db
        req = db.session.get(ResourceRequest, request_id)
        assert req.state == "submitted", req.state

    # -- the bureau returns it with a comment; the department edits and resubmits (version 2)
    review_page = f"/reviews/{request_id}"
    html = bureau.get(review_page).get_data(as_text=True)
    assert "capacity" in html
    assert post(bureau, f"/reviews/{request_id}/return", {"comment": ""}, page=review_page).status_code == 302
    assert post(bureau, f"/reviews/{request_id}/return", {"comment": "请补充自测报告说明"},
                page=review_page).status_code == 302
    edit_page = dept.get(f"/requests/{request_id}/edit").get_data(as_text=True)
    assert "请补充自测报告说明" in edit_page
    form.update(purpose="不动产登记业务（已补充自测说明）", then="submit")
    response = post(dept, f"/requests/{request_id}/edit", form)
    assert response.status_code == 302

    # -- approve with an adjustment: app 2 -> 1
    assert post(bureau, f"/reviews/{request_id}/approve", {"count-app": "1", "count-web": "1", "size-data1": "1",
                                                           "size-data2": "2", "floating_ips": "1",
                                                           "comment": "app 先开通一台"},
                page=review_page).status_code == 302
    with app.app_context():
        from portal.extensions import db
        db.session.expire_all()
        req = db.session.get(ResourceRequest, request_id)
        assert req.state == "approved" and req.version == 2 and len(req.versions) == 2
        assert req.versions[0].review_comment == "请补充自测报告说明"
        assert req.adjustment == [{"item": "server app", "field": "count", "from": 2, "to": 1}]
    detail = dept.get(f"/requests/{request_id}").get_data(as_text=True)
    assert "app 先开通一台" in detail and 'id="adjustment"' in detail

    # -- the worker provisions it
    seconds, _log = run_worker(app, prefix)
    with app.app_context():
        from portal.extensions import db
        db.session.expire_all()
        req = db.session.get(ResourceRequest, request_id)
        assert req.state == "provisioned", (req.state, req.failure_message)
        department = db.session.get(Department, dept_id)
        project_id = department.openstack_project_id
        receipt = db.session.scalar(select(DeliveryReceipt).where(DeliveryReceipt.request_id == request_id))
        receipt_id, items, operator = receipt.id, receipt.items, receipt.operator
    assert project_id

    # -- in OpenStack, as admin
    project = cloud.identity.get_project(project_id)
    assert project.name == f"{prefix}-{code}"
    compute = cloud.get_compute_quotas(project_id)
    assert (compute.instances, compute.cores, compute.ram) == (2, 2, 1024)
    volume_quota = cloud.get_volume_quotas(project_id)
    assert (volume_quota.volumes, volume_quota.gigabytes) == (2, 3)
    assert cloud.get_network_quotas(project_id).floating_ips == 1
    servers, volumes = project_view(cloud, project_id)
    by_name = {s.name: s for s in servers}
    assert sorted(by_name) == [f"{prefix}-{code}-server-R{request_id}-app-1", f"{prefix}-{code}-server-R{request_id}-web-1"]
    net = cloud.network.find_network(f"{prefix}-{code}-network-R{request_id}", project_id=project_id)
    assert net is not None
    for server in servers:
        assert server.status == "ACTIVE"
        assert server.flavor["original_name"] == "m1.tiny"
        assert list(server.addresses) == [net.name]
        assert server.metadata["govcloud_request"] == req.number
    vol_by_name = {v.name: v for v in volumes}
    data1 = vol_by_name[f"{prefix}-{code}-volume-R{request_id}-data1"]
    data2 = vol_by_name[f"{prefix}-{code}-volume-R{request_id}-data2"]
    assert (data1.size, data2.size) == (1, 2)
    web = by_name[f"{prefix}-{code}-server-R{request_id}-web-1"]
    app1 = by_name[f"{prefix}-{code}-server-R{request_id}-app-1"]
    assert [a["server_id"] for a in data1.attachments] == [web.id]
    assert [a["server_id"] for a in data2.attachments] == [app1.id]
    sg = cloud.network.find_security_group(f"{prefix}-{code}-sg-R{request_id}", project_id=project_id)
    rules = {(r.protocol, r.port_range_min, r.remote_ip_prefix) for r in cloud.network.security_group_rules(
        security_group_id=sg.id) if r.direction == "ingress"}
    assert rules == {("tcp", 22, "10.0.0.0/8"), ("tcp", 443, "0.0.0.0/0")}
    fips = list(cloud.network.ips(project_id=project_id))
    assert len(fips) == 1 and fips[0].fixed_ip_address in [a["addr"] for a in web.addresses[net.name]]

    # -- the receipt lists exactly those ids; printable page, PDF; the department signs
    ids = {i["kind"]: set() for i in items}
    for i in items:
        ids[i["kind"]].add(i["openstack_id"])
    assert ids["server"] == {s.id for s in servers}
    assert ids["volume"] == {v.id for v in volumes}
    assert ids["security_group"] == {sg.id}
    assert net.id in ids["network"]
    assert ids["floating_ip"] == {fips[0].id}
    page = dept.get(f"/requests/receipts/{receipt_id}").get_data(as_text=True)
    assert all(s.id in page for s in servers) and all(v.id in page for v in volumes)
    # issue 17: the 经办人 is a person (the reviewer), a disk row names its server, the router is listed
    # on the receipt and in the request's resources alike
    assert "政务云资源交付回执单" in page and "交付时间" in page
    assert operator == "bureau1" and "vm:" not in page
    data1_row = next(row for row in page.split("<tr") if data1.id in row)
    assert web.name in data1_row and web.id not in data1_row
    router = next(i for i in items if i["kind"] == "router")
    resources_card = dept.get(f"/requests/{request_id}").get_data(as_text=True).split('id="cloud-resources"')[1]
    assert router["openstack_id"] in resources_card and "路由器" in resources_card
    assert router["openstack_id"] in str(api_resources(app, dept_id, request_id))
    pdf = dept.get(f"/requests/receipts/{receipt_id}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and b"FontFile2" in pdf.data
    assert post(dept, f"/requests/receipts/{receipt_id}/confirm", {},
                page=f"/requests/receipts/{receipt_id}").status_code == 302
    with app.app_context():
        from portal.extensions import db
        db.session.expire_all()
        assert db.session.get(ResourceRequest, request_id).state == "delivered"

    # -- change (附件2, asked first): web-1 alone to m1.medium (its own line; resize + confirm), data1 1 -> 2 GB
    assert 'id="confirm-change"' in dept.get(f"/requests/{request_id}/change").get_data(as_text=True)
    response = post(dept, f"/requests/{request_id}/change", {}, page=f"/requests/{request_id}/change")
    assert response.status_code == 302, response.headers
    change_id = int(response.headers["Location"].rstrip("/").split("/")[-2])
    assert "web-1" in dept.get(f"/requests/{change_id}/edit").get_data(as_text=True).split('id="per-server"')[1]
    form.update({"inst-web-1-flavor": "m1.medium", "servers-2-count": "1", "volumes-1-size_gb": "2",
                 "volumes-3-name": "data3", "volumes-3-size_gb": "1", "volumes-3-attach_to": "app-1",
                 "reason": "访问量增加", "then": "submit"})
    response = post(dept, f"/requests/{change_id}/edit", form)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/requests/{change_id}"), response.headers["Location"]
    assert post(bureau, f"/reviews/{change_id}/approve", {"comment": "同意"},
                page=f"/reviews/{change_id}").status_code == 302
    run_worker(app, prefix)
    with app.app_context():
        from portal.extensions import db
        db.session.expire_all()
        change = db.session.get(ResourceRequest, change_id)
        assert change.state == "provisioned", (change.state, change.failure_message)
    web = cloud.compute.get_server(web.id)
    assert web.status == "ACTIVE" and web.flavor["original_name"] == "m1.medium"
    assert cloud.compute.get_server(app1.id).flavor["original_name"] == "m1.tiny"
    data1 = cloud.block_storage.get_volume(data1.id)
    assert data1.size == 2 and [a["server_id"] for a in data1.attachments] == [web.id]
    compute = cloud.get_compute_quotas(project_id)
    assert (compute.instances, compute.cores, compute.ram) == (2, 3, 4608)
    volume_quota = cloud.get_volume_quotas(project_id)
    assert (volume_quota.volumes, volume_quota.gigabytes) == (3, 5)
    servers, volumes = project_view(cloud, project_id)
    assert len(servers) == 2 and len(volumes) == 3  # changed in place, one volume added, nothing duplicated
    data3 = {v.name: v for v in volumes}[f"{prefix}-{code}-volume-R{request_id}-data3"]
    assert data3.size == 1 and [a["server_id"] for a in data3.attachments] == [app1.id]
    # issue 17: the first request says it was changed, links the change, shows the current sizes; the
    # system's requests are its history
    original = dept.get(f"/requests/{request_id}").get_data(as_text=True)
    assert 'id="superseded"' in original and "已变更" in original and f"/requests/{change_id}" in original
    servers_card = original.split('id="spec-servers"')[1].split("</table>")[0]
    assert "m1.medium" in servers_card and "data3" in original.split('id="spec-volumes"')[1].split("</table>")[0]
    history = original.split('id="system-history"')[1].split("</table>")[0]
    assert f"/requests/{request_id}" in history and f"/requests/{change_id}" in history

    # the system's backup policy and its probes, to be switched off by the decommission
    with app.app_context():
        from backup import policies
        from portal.extensions import db
        from portal.services import probes
        from portal.services.audit import RequestInfo
        ctx = RequestInfo(correlation_id="flow")
        policy_id = policies.create_policy(db.session, ctx, dept_id, {
            "name": "每日备份", "system_id": request_id, "cron": "0 2 * * *", "keep_count": "3"}).id
        db.session.commit()
        assert probes.sync_delivered_targets(db.session)[0] >= 2

    # -- decommission: requires a final backup or the migration confirmed, then deletes everything and lowers the quota
    decom_page = f"/requests/{request_id}/decommission"
    html = post(dept, decom_page, {"reason": "系统下线"}).get_data(as_text=True)
    assert "invalid-feedback" in html  # neither a final backup nor a migration (第十条二)
    response = post(dept, decom_page, {"reason": "系统下线", "backup_confirmed": "y",
                                       "migration_note": "数据已迁移至市级共享平台"})
    assert response.status_code == 302
    decom_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    # issue 17: the bureau sees exactly what will be deleted and the data's clearance; no green channel
    review_html = bureau.get(f"/reviews/{decom_id}").get_data(as_text=True)
    plan = review_html.split('id="deletion-plan"')[1].split("</table>")[0]
    for name in (web.name, app1.name, data1.name, data2.name, data3.name, net.name):
        assert name in plan, name
    assert "m1.medium" in plan and "2 GB" in plan and "路由器" in plan and web.name in plan.split(data1.name)[1]
    assert "数据已迁移至市级共享平台" in review_html.split('id="final-backup"')[1]
    assert 'id="green-channel"' not in review_html and "自动分配" not in review_html and "VCPU" not in review_html
    assert post(bureau, f"/reviews/{decom_id}/approve", {"comment": "同意注销"},
                page=f"/reviews/{decom_id}").status_code == 302
    run_worker(app, prefix)
    with app.app_context():
        from portal.extensions import db
        from portal.models.backups import BackupPolicy
        from portal.models.operations import ProbeTarget
        from portal.services.metering import RETIRED, _attribution
        db.session.expire_all()
        decom = db.session.get(ResourceRequest, decom_id)
        assert decom.state == "provisioned", (decom.state, decom.failure_message)
        decom_receipt = db.session.scalar(select(DeliveryReceipt).where(DeliveryReceipt.request_id == decom_id))
        decom_receipt_id = decom_receipt.id
        assert {i["status"] for i in decom_receipt.items} == {"deleted"}
        # decommission turns off the system's backup policy, its probes and its metering
        policy = db.session.get(BackupPolicy, policy_id)
        assert not policy.enabled and policy.next_run_at is None
        targets = db.session.scalars(select(ProbeTarget).where(ProbeTarget.department_id == dept_id)).all()
        assert targets and not any(t.enabled for t in targets)
        assert _attribution(db.session)[web.id] is RETIRED
    # labelled 已注销, with a 注销回执 (not a 交付回执单 with a 交付时间), PDF like the receipt
    decom_html = dept.get(f"/requests/{decom_id}").get_data(as_text=True)
    assert '<span class="badge bg-secondary fs-6" id="request-state">已注销</span>' in decom_html
    assert "注销回执" in decom_html.split('id="receipt-link"')[1].split("</a>")[0]
    receipt_html = dept.get(f"/requests/receipts/{decom_receipt_id}").get_data(as_text=True)
    assert "政务云资源注销回执" in receipt_html and "注销时间" in receipt_html
    assert "交付回执单" not in receipt_html and "交付时间" not in receipt_html
    pdf = dept.get(f"/requests/receipts/{decom_receipt_id}/pdf")
    text = pdf_text(pdf.data)
    assert "政务云资源注销回执" in text and "注销时间" in text and "交付时间" not in text
    original = dept.get(f"/requests/{request_id}").get_data(as_text=True)
    assert "已注销" in original.split('id="superseded"')[1] and f"/requests/{decom_id}" in original
    assert "已签收" not in original.split('id="request-state">')[1].split("<")[0]
    servers, volumes = project_view(cloud, project_id)
    leftovers = {
        "servers": servers, "volumes": volumes,
        "networks": list(cloud.network.networks(project_id=project_id)),
        "routers": list(cloud.network.routers(project_id=project_id)),
        "ports": list(cloud.network.ports(project_id=project_id)),
        "floating_ips": list(cloud.network.ips(project_id=project_id)),
        "security_groups": [s for s in cloud.network.security_groups()
                            if s.project_id == project_id and s.name != "default"],
        "keypairs": [k for k in cloud.compute.keypairs() if k.name.startswith(prefix)],
    }
    assert {k: v for k, v in leftovers.items() if v} == {}
    compute = cloud.get_compute_quotas(project_id)
    assert (compute.instances, compute.cores, compute.ram) == (0, 0, 0)
    assert cloud.get_volume_quotas(project_id).gigabytes == 0
    assert cloud.identity.get_project(project_id) is not None  # the empty project stays
    print(f"approval to receipt (worker process): {seconds:.1f} s")

"""Cloud faults between the worker and the dev cloud (tests/integration/faultproxy.py): with 10 % of the
calls answered 503, dropped before or after the cloud did the work, or delayed, 10 requests all end
provisioned with each resource once in OpenStack; a permanent fault (the department's instance quota
is used up) fails the request with the Chinese message for the department and the cloud's detail for
the vendor, and the rollback leaves nothing of the request behind. Dev cloud, PostgreSQL."""
import html

import pytest
from sqlalchemy import select

from tests.conftest import login
from tests.integration.conftest import clouds_yaml
from tests.integration.faultproxy import FaultProxy, catalog_roots, write_clouds_yaml
from tests.integration.provisioning_support import (approve_new, assert_audited_once, assert_cloud_matches,
                                                    cloud_inventory, make_department, purge_fast, request_states,
                                                    run_workers_until_done, run_workers_until_settled, stray_servers,
                                                    worker_env)
from tests.integration.test_requests_cloud_flow import migrated_app  # noqa: F401

pytestmark = pytest.mark.devcloud
TIMEOUT = 600
QUOTA_ZH = "部门配额不足：已批准的资源额度已用完。"  # errors.QUOTA_EXCEEDED in the zh_CN catalog


@pytest.fixture
def fault_proxy(cloud, tmp_path):
    """The dev cloud behind a proxy that faults 10 % of the calls; yields (proxy, its clouds.yaml)."""
    proxy = FaultProxy(catalog_roots(cloud), rate=0.10, seed=5).start()
    yield proxy, write_clouds_yaml(tmp_path / "clouds.yaml", clouds_yaml(), proxy)
    proxy.stop()


def test_ten_requests_through_ten_percent_faults(app, seed, cloud, run_id, cleanup, fault_proxy, tmp_path):
    from portal.extensions import db
    from portal.models.requests import ProvisioningJob, ResourceRequest

    proxy, proxied_yaml = fault_proxy
    prefix = f"gc{run_id}"
    cleanup(lambda: purge_fast(cloud, prefix))
    departments, request_ids = [], []
    for d in range(5):
        dept_id, user_id = make_department(app, f"F{d}{run_id[1:6]}".upper(), f"故障演练局{d}{run_id}")
        departments.append(dept_id)
        for n in range(2):
            spec = {"servers": [{"name": "app", "flavor": "m1.tiny", "image": "cirros-devcloud", "count": 1}],
                    "volumes": [{"name": "data", "size_gb": 1, "attach_to": "app-1"}],
                    "rules": [{"port": "22", "protocol": "tcp", "source": "10.0.0.0/8"},
                              {"port": str(8000 + n), "protocol": "tcp", "source": "0.0.0.0/0"}],
                    "floating_ips": 1 if n == 0 else 0}
            request_ids.append(approve_new(app, user_id, seed.user_ids["bureau"], spec, f"故障系统{d}-{n}"))

    # besides the random faults: creates of a server, a volume and a security group the cloud carries
    # out but whose answer never arrives
    proxy.force("drop_after", "POST", r"/servers$", times=2)
    proxy.force("drop_after", "POST", r"/volumes$")
    proxy.force("drop_after", "POST", r"/security-groups$")
    run_workers_until_done(app, tmp_path, cleanup, worker_env(app, prefix, GOVCLOUD_CLOUDS_YAML=proxied_yaml),
                           TIMEOUT)

    states = request_states(app, request_ids)
    logs = "".join((tmp_path / f"worker{n}.log").read_text()[-3000:] for n in range(2))
    unfinished = {rid: sv for rid, sv in states.items() if sv[0] != "provisioned"}
    if unfinished:
        with app.app_context():
            jobs = [(j.request_id, j.state, j.attempts, j.error_message, (j.error_detail or "")[-1500:])
                    for j in db.session.scalars(select(ProvisioningJob).where(
                        ProvisioningJob.request_id.in_(list(unfinished))))]
        raise AssertionError(f"not provisioned: {unfinished}\njobs: {jobs}\nworker logs: {logs}")
    # the faults happened, of every kind, on creates too (a create whose answer was lost)
    assert proxy.requests > 300 and all(proxy.stats[f] > 0 for f in ("503", "drop_before", "drop_after", "delay"))
    assert proxy.stats["drop_after POST"] >= 4 and all(rule[3] == 0 for rule in proxy.forced), proxy.stats
    with app.app_context():
        numbers = {db.session.get(ResourceRequest, rid).number for rid in request_ids}
    owned = assert_cloud_matches(app, cloud, prefix, departments)
    assert len(owned["server"]) == len(owned["volume"]) == 10 and len(owned["floating_ip"]) == 5
    assert stray_servers(cloud, prefix, numbers) == []
    for _, volume_id in owned["volume"]:
        assert cloud.block_storage.get_volume(volume_id).status == "in-use"
    assert_audited_once(app, departments)


def test_quota_used_up_fails_with_message_and_rollback_leaves_nothing(app, seed, login_as, cloud, run_id, cleanup):
    from portal.extensions import db
    from portal.models.accounts import User
    from portal.models.requests import CloudResource, ProvisioningJob, ResourceRequest
    from portal.services.audit import RequestInfo
    from portal.services.provisioning_ops import rollback_request
    from provisioner import errors

    prefix = f"gc{run_id}"
    cleanup(lambda: purge_fast(cloud, prefix))
    code = f"Q{run_id[1:7]}".upper()
    dept_id, user_id = make_department(app, code, f"配额演练局{run_id}")
    # the department's project exists already (govcloud adopts it by name) and a server made by hand
    # outside govcloud uses the instance its quota will allow: Nova refuses govcloud's server
    project = cloud.identity.create_project(name=f"{prefix}-{code.lower()}", domain_id="default")
    cloud.identity.assign_project_role_to_user(project, cloud.current_user_id, cloud.identity.find_role("member"))
    conn = cloud.connect_as_project({"id": project.id, "name": None, "domain_id": "default"})
    cleanup(conn.close)
    squatter = conn.compute.create_server(name=f"squatter{run_id}", flavor_id=conn.compute.find_flavor("m1.tiny").id,
                                          image_id=conn.image.find_image("cirros-devcloud").id, networks="none")
    conn.compute.wait_for_server(squatter, status="ACTIVE", wait=120)

    spec = {"servers": [{"name": "app", "flavor": "m1.tiny", "image": "cirros-devcloud", "count": 1}],
            "volumes": [{"name": "data", "size_gb": 1, "attach_to": "app-1"}],
            "rules": [{"port": "22", "protocol": "tcp", "source": "10.0.0.0/8"}], "floating_ips": 1}
    rid = approve_new(app, user_id, seed.user_ids["bureau"], spec, "配额演练系统")
    run_workers_until_settled(app, prefix, [rid])
    with app.app_context():
        req = db.session.get(ResourceRequest, rid)
        job = db.session.scalars(select(ProvisioningJob).where(ProvisioningJob.request_id == rid)).one()
        assert req.state == "failed" and req.failure_message == errors.QUOTA_EXCEEDED, req.failure_message
        assert job.state == "failed" and job.attempts == 1 and job.current_step.startswith("server:")
        assert "quota" in job.error_detail.lower() and "instances" in job.error_detail, job.error_detail
        vendor_detail = job.error_detail.splitlines()[0]
        created = db.session.scalars(select(CloudResource).where(CloudResource.created_by_request_id == rid,
                                                                 CloudResource.deleted.is_(False))).all()
        assert {r.kind for r in created} >= {"network", "security_group"}
    # the department reads the message in Chinese; the vendor also reads the cloud's own words
    dept_client = app.test_client()
    assert login(dept_client, f"u-{code.lower()}").status_code == 302
    dept_page = dept_client.get(f"/requests/{rid}").get_data(as_text=True)
    assert QUOTA_ZH in dept_page and "Quota exceeded" not in dept_page
    vendor_page = login_as("vendor").get(f"/requests/{rid}").get_data(as_text=True)
    assert QUOTA_ZH in vendor_page
    assert html.escape(vendor_detail, quote=False) in vendor_page.replace("&#39;", "'").replace("&#34;", '"'), \
        vendor_detail

    with app.app_context():
        rollback_request(db.session, RequestInfo(actor=db.session.get(User, seed.user_ids["vendor"])), rid)
    run_workers_until_settled(app, prefix, [rid])
    states = request_states(app, [rid])
    assert states[rid][0] == "rolled_back", states
    with app.app_context():
        left = db.session.scalars(select(CloudResource).where(CloudResource.created_by_request_id == rid,
                                                              CloudResource.deleted.is_(False))).all()
        assert [(r.kind, r.name) for r in left if r.kind != "project"] == []
    found = cloud_inventory(cloud, prefix)  # the project's whole content, whatever the names
    assert [name for name, _ in found["project"]] == [f"{prefix}-{code.lower()}"]
    assert [name for name, _ in found["server"]] == [f"squatter{run_id}"]
    assert all(found[kind] == [] for kind in found if kind not in ("project", "server")), found


def gone(conn, server):
    conn.compute.delete_server(server.id, ignore_missing=True)
    conn.compute.wait_for_delete(server, wait=120)


def test_waiting_for_a_server_detects_error_and_times_out(cloud, run_id, cleanup):
    """BUILD -> ERROR ends the wait at once with Nova's fault message (no valid host: a flavor bigger
    than any host); a status that never comes ends it after the timeout, as a transient error."""
    from provisioner import errors
    from provisioner.cloud import Cloud

    project = cloud.identity.create_project(name=f"gcwait{run_id}", domain_id="default")
    cleanup(lambda: cloud.identity.delete_project(project.id, ignore_missing=True))
    cloud.identity.assign_project_role_to_user(project, cloud.current_user_id, cloud.identity.find_role("member"))
    cloud.set_compute_quotas(project.id, instances=-1, cores=-1, ram=-1)
    huge = cloud.compute.create_flavor(name=f"gchuge-{run_id}", vcpus=1, ram=64 * 1024 * 1024, disk=1)
    cleanup(lambda: cloud.compute.delete_flavor(huge.id, ignore_missing=True))
    conn = cloud.connect_as_project({"id": project.id, "name": None, "domain_id": "default"})
    cleanup(conn.close)
    image_id = conn.image.find_image("cirros-devcloud").id
    worker_cloud = Cloud(wait_seconds=2)
    cleanup(worker_cloud.close)

    doomed = conn.compute.create_server(name=f"gcwait{run_id}-huge", flavor_id=huge.id, image_id=image_id,
                                        networks="none")
    cleanup(lambda: gone(conn, doomed))
    worker_cloud.wait_seconds = 120
    with pytest.raises(errors.PermanentCloudError) as failed:
        worker_cloud.wait_for_server(project.id, doomed.id)
    assert failed.value.message == errors.NO_VALID_HOST and "valid host" in failed.value.detail.lower()

    tiny = conn.compute.create_server(name=f"gcwait{run_id}-tiny", flavor_id=conn.compute.find_flavor("m1.tiny").id,
                                      image_id=image_id, networks="none")
    cleanup(lambda: gone(conn, tiny))
    assert worker_cloud.wait_for_server(project.id, tiny.id)["status"] == "ACTIVE"
    worker_cloud.wait_seconds = 2
    with pytest.raises(errors.TransientCloudError) as late:
        worker_cloud.wait_for_server(project.id, tiny.id, status="SHUTOFF")
    assert late.value.message == errors.TIMEOUT and "still ACTIVE" in late.value.detail


def test_a_refused_role_grant_is_tried_again_not_taken_for_granted(cloud, run_id, cleanup, fault_proxy):
    """Keystone's 503 to the PUT of the member role (openstacksdk answers False, it does not raise)
    is tried again; when every try fails the grant fails, instead of a scoped login refused later."""
    from provisioner import errors
    from provisioner.cloud import Cloud

    proxy, proxied_yaml = fault_proxy
    proxy.rate = 0  # only the forced faults
    project = cloud.identity.create_project(name=f"gcgrant{run_id}", domain_id="default")
    cleanup(lambda: cloud.identity.delete_project(project.id, ignore_missing=True))
    worker_cloud = Cloud(clouds_yaml=proxied_yaml)
    cleanup(worker_cloud.close)
    roles = rf"/projects/{project.id}/users/.*/roles/"

    proxy.force("503", "PUT", roles, times=2)
    worker_cloud.grant_member(project.id)
    assert proxy.stats["503 PUT"] == 2
    assert worker_cloud.project(project.id).session.get_project_id() == project.id  # the login is let in

    other = cloud.identity.create_project(name=f"gcgrant{run_id}b", domain_id="default")
    cleanup(lambda: cloud.identity.delete_project(other.id, ignore_missing=True))
    proxy.force("503", "PUT", rf"/projects/{other.id}/users/.*/roles/", times=10)
    with pytest.raises(errors.TransientCloudError):
        worker_cloud.grant_member(other.id)
    assert list(cloud.identity.role_assignments(scope_project_id=other.id)) == []

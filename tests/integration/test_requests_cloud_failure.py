"""A provisioning failure a person must act on: the request ends `failed` with a Chinese message,
the job keeps the technical detail and the list of what was created; the vendor's retry resumes
without duplicating anything. Against the dev cloud, on PostgreSQL."""
import pytest
from sqlalchemy import select

from tests.documents import attach_required
from tests.integration.test_requests_cloud_flow import migrated_app, purge_prefix  # noqa: F401

pytestmark = pytest.mark.devcloud


def test_failure_is_explained_and_retry_resumes(app, seed, login_as, cloud, run_id, cleanup):
    from portal.extensions import db
    from portal.models.accounts import Department, User
    from portal.models.requests import ProvisioningJob, ResourceRequest
    from portal.services import provisioning_ops, resource_requests, reviews
    from portal.services.audit import RequestInfo
    from portal.services.cloud_catalog import cloud_for
    from provisioner.cloud import Cloud
    from provisioner.worker import Worker

    prefix = f"gc{run_id}"
    cleanup(lambda: purge_prefix(cloud, prefix))
    flavor_name = f"gcfail-{run_id}"
    flavor = cloud.compute.create_flavor(name=flavor_name, vcpus=1, ram=256, disk=1)
    cleanup(lambda: cloud.compute.delete_flavor(cloud.compute.find_flavor(flavor_name) or flavor.id,
                                                ignore_missing=True))
    worker_cloud = Cloud()
    cleanup(worker_cloud.close)
    with app.app_context():
        session = db.session
        dept_user = session.get(User, seed.user_ids["dept_b"])
        bureau = session.get(User, seed.user_ids["bureau"])
        vendor = session.get(User, seed.user_ids["vendor"])
        catalog = cloud_for(app.config).catalog(refresh=True)
        req = resource_requests.create_request(session, RequestInfo(actor=dept_user), {
            "system_name": "失败演练系统", "purpose": "演练"}, {
            "servers": [{"name": "web", "flavor": flavor_name, "image": "cirros-devcloud", "count": 1}],
            "volumes": [{"name": "data", "size_gb": 1, "attach_to": "web-1"}],
            "rules": [{"port": "443", "protocol": "tcp", "source": "0.0.0.0/0"}]})
        attach_required(session, RequestInfo(actor=dept_user), req.id, app.instance_path)
        resource_requests.submit_request(session, RequestInfo(actor=dept_user), req.id, catalog,
                                         gate=app.config["PROJECT_GATE"])
        reviews.approve_request(session, RequestInfo(actor=bureau), req.id, catalog)
        request_id = req.id

    cloud.compute.delete_flavor(flavor)  # the flavor disappears between approval and provisioning
    worker = Worker(app.extensions["govcloud_db"][0], worker_cloud, name_prefix=prefix)
    assert worker.run_one() == "failed"
    with app.app_context():
        session = db.session
        req = session.get(ResourceRequest, request_id)
        job = session.scalars(select(ProvisioningJob).where(ProvisioningJob.request_id == request_id)).one()
        assert req.state == "failed"
        assert req.failure_message == "The requested flavor does not exist in the cloud."
        assert job.state == "failed" and job.current_step.startswith("server:")
        assert flavor_name in job.error_detail and "created:" in job.error_detail
        assert "security_group" in job.error_detail and "network" in job.error_detail
        project_id = session.get(Department, seed.dept_b).openstack_project_id
    page = login_as("dept_b").get(f"/requests/{request_id}").get_data(as_text=True)
    assert "所申请的规格在云平台中不存在。" in page and "开通失败" in page
    assert "所申请的规格在云平台中不存在。" in login_as("vendor").get("/provisioning/?state=failed").get_data(as_text=True)

    # the vendor fixes the cause and retries: the steps resume, nothing is created twice
    cloud.compute.create_flavor(name=flavor_name, vcpus=1, ram=256, disk=1)
    with app.app_context():
        provisioning_ops.retry_job(db.session, RequestInfo(actor=db.session.get(User, seed.user_ids["vendor"])), request_id)
    assert worker.run_one() == "succeeded"
    with app.app_context():
        assert db.session.get(ResourceRequest, request_id).state == "provisioned"
    servers = list(cloud.compute.servers(all_projects=True, project_id=project_id))
    volumes = list(cloud.block_storage.volumes(all_projects=True, project_id=project_id))
    networks = [n for n in cloud.network.networks(project_id=project_id)]
    groups = [g for g in cloud.network.security_groups() if g.project_id == project_id and g.name != "default"]
    assert [s.status for s in servers] == ["ACTIVE"]
    assert len(volumes) == 1 and volumes[0].attachments[0]["server_id"] == servers[0].id
    assert len(networks) == 1 and len(groups) == 1
    del vendor

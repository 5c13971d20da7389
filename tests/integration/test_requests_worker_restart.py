"""The worker process is killed (SIGKILL) in the middle of a job; a new worker on the same host takes
the job over at once and finishes it without creating anything twice. Dev cloud, PostgreSQL."""
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from tests.documents import attach_required
from tests.integration.provisioning_support import worker_env
from tests.integration.test_requests_cloud_flow import REPO, migrated_app, purge_prefix, run_worker  # noqa: F401

pytestmark = pytest.mark.devcloud


def test_killed_worker_is_taken_over_without_duplicates(app, seed, cloud, run_id, cleanup):
    from portal.extensions import db
    from portal.models.accounts import Department, User
    from portal.models.requests import CloudResource, ProvisioningJob, ResourceRequest
    from portal.services import resource_requests, reviews
    from portal.services.audit import RequestInfo
    from portal.services.cloud_catalog import catalog

    prefix = f"gc{run_id}"
    cleanup(lambda: purge_prefix(cloud, prefix))
    with app.app_context():
        session = db.session
        user = session.get(User, seed.user_ids["dept_b"])
        bureau = session.get(User, seed.user_ids["bureau"])
        cat = catalog(app.config)
        req = resource_requests.create_request(session, RequestInfo(actor=user), {
            "system_name": "重启演练系统", "purpose": "演练"}, {
            "servers": [{"name": "web", "flavor": "m1.tiny", "image": "cirros-devcloud", "count": 2}],
            "volumes": [{"name": "data", "size_gb": 1, "attach_to": "web-2"}],
            "rules": [{"port": "22", "protocol": "tcp", "source": "10.0.0.0/8"}]})
        attach_required(session, RequestInfo(actor=user), req.id, app.instance_path)
        resource_requests.submit_request(session, RequestInfo(actor=user), req.id, cat,
                                         gate=app.config["PROJECT_GATE"])
        reviews.approve_request(session, RequestInfo(actor=bureau), req.id, cat)
        request_id = req.id

    env = worker_env(app, prefix)
    worker = subprocess.Popen([sys.executable, "-m", "provisioner.worker", "--poll", "0.2"], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cleanup(lambda: worker.poll() is None and worker.kill())
    deadline = time.monotonic() + 120
    step = ""
    while time.monotonic() < deadline:  # kill it while the first server is being built
        with app.app_context():
            db.session.expire_all()
            job = db.session.scalars(select(ProvisioningJob).where(ProvisioningJob.request_id == request_id)).one()
            step = job.current_step
        if step.endswith("web-1:wait") or step.endswith("web-2"):
            break
        time.sleep(0.1)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    with app.app_context():
        db.session.expire_all()
        job = db.session.scalars(select(ProvisioningJob).where(ProvisioningJob.request_id == request_id)).one()
        assert job.state == "running" and job.lease_expires_at is not None, (job.state, step)
        assert db.session.get(ResourceRequest, request_id).state == "provisioning"

    seconds, _log = run_worker(app, prefix)  # a new worker on this host takes the job over at once
    assert seconds < 120
    with app.app_context():
        db.session.expire_all()
        req = db.session.get(ResourceRequest, request_id)
        assert req.state == "provisioned", (req.state, req.failure_message)
        job = db.session.scalars(select(ProvisioningJob).where(ProvisioningJob.request_id == request_id)).one()
        assert job.attempts == 0 and job.lease_token == 2  # claimed twice (fencing token), no failure counted
        project_id = db.session.get(Department, seed.dept_b).openstack_project_id
        keys = [r.key for r in db.session.scalars(select(CloudResource).where(CloudResource.system_id == request_id))]
    servers = list(cloud.compute.servers(all_projects=True, project_id=project_id))
    volumes = list(cloud.block_storage.volumes(all_projects=True, project_id=project_id))
    assert sorted(s.name for s in servers) == [f"{prefix}-dept-b-server-R{request_id}-web-1",
                                               f"{prefix}-dept-b-server-R{request_id}-web-2"]
    assert all(s.status == "ACTIVE" for s in servers)
    assert len(volumes) == 1 and volumes[0].attachments[0]["server_id"] in {s.id for s in servers}
    assert len(keys) == len(set(keys))

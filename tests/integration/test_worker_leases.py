"""Leases of the provisioning worker against the dev cloud (PostgreSQL), with a short lease
(`--lease`) so that the cloud's own waits outlast it:

- a worker stopped with SIGSTOP while it waits for a server, past its lease, is taken over by
  another worker, which provisions the request; resumed, the first worker cannot commit (LeaseLost:
  the job row, the request and the audit log stay as the second worker left them);
- a resize that takes longer than the lease is not taken over by a second worker polling all the
  while: the lease is renewed during the wait, the job is claimed once (fencing token 1).
"""
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from tests.integration.provisioning_support import (REPO, approve_change, approve_new, make_department,
                                                    request_states, run_workers_until_settled, worker_env)
from tests.integration.test_requests_cloud_flow import migrated_app, purge_prefix  # noqa: F401

pytestmark = pytest.mark.devcloud
LEASE_SECONDS = 3


def start_worker(app, prefix, tmp_path, name, cleanup):
    log = open(tmp_path / f"{name}.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "provisioner.worker", "--poll", "0.2", "--lease", str(LEASE_SECONDS)],
                            cwd=REPO, env=worker_env(app, prefix), stdout=subprocess.DEVNULL, stderr=log)
    cleanup(lambda: log.close())
    cleanup(lambda: proc.poll() is None and (os.kill(proc.pid, signal.SIGCONT), proc.kill(), proc.wait(30)))
    return proc


def job_of(app, request_id):
    from portal.extensions import db
    from portal.models.requests import ProvisioningJob
    with app.app_context():
        db.session.expire_all()
        job = db.session.scalars(select(ProvisioningJob).where(ProvisioningJob.request_id == request_id)
                                 .order_by(ProvisioningJob.id.desc())).first()
        db.session.expunge(job)
        return job


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def audit_count(app, job_id):
    """Audit events written by the runs of job_id (correlation job-<id>)."""
    from portal.extensions import db
    from portal.models.audit import AuditEvent
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.request_id == f"job-{job_id}"))


def stop_terminate(proc):
    proc.terminate()
    return proc.wait(60)


def test_a_stalled_worker_past_its_lease_cannot_commit(app, seed, cloud, run_id, cleanup, tmp_path):
    prefix = f"gc{run_id}"
    cleanup(lambda: purge_prefix(cloud, prefix))
    dept_id, user_id = make_department(app, f"L{run_id[1:7]}".upper(), f"租约演练局{run_id}")
    request_id = approve_new(app, user_id, seed.user_ids["bureau"],
                             {"servers": [{"name": "web", "flavor": "m1.tiny", "image": "cirros-devcloud"}],
                              "rules": [{"port": "22", "protocol": "tcp", "source": "10.0.0.0/8"}]}, "租约系统")
    first = start_worker(app, prefix, tmp_path, "first", cleanup)
    wait_for(lambda: job_of(app, request_id).current_step.endswith(":wait"), 240, "the server wait")
    os.kill(first.pid, signal.SIGSTOP)
    stalled_token = job_of(app, request_id).lease_token
    second = start_worker(app, prefix, tmp_path, "second", cleanup)
    done = wait_for(lambda: (j := job_of(app, request_id)).state == "succeeded" and j, 240, "the takeover")
    assert done.lease_token == stalled_token + 1 and done.attempts == 0
    assert stop_terminate(second) == 0
    events = audit_count(app, done.id)

    os.kill(first.pid, signal.SIGCONT)  # back after the takeover: its wait ends, its commit is refused
    log = tmp_path / "first.log"
    wait_for(lambda: "not settled by this worker" in log.read_text(), 120, "the refused commit")
    assert stop_terminate(first) == 0
    text = log.read_text()
    assert re.search(rf"job={done.id} not settled by this worker: job {done.id}: (lease ran out|taken over)", text), text
    after = job_of(app, request_id)
    assert (after.state, after.lease_token, after.finished_at, after.current_step, after.lease_owner) == \
        (done.state, done.lease_token, done.finished_at, done.current_step, done.lease_owner)
    assert request_states(app, [request_id])[request_id][0] == "provisioned"
    assert audit_count(app, done.id) == events  # nothing of the stalled worker's reached the log


def test_a_resize_longer_than_the_lease_is_not_taken_over(app, seed, cloud, run_id, cleanup, tmp_path):
    from portal.extensions import db
    from portal.models.reconcile import ProvisioningStep

    prefix = f"gc{run_id}"
    cleanup(lambda: purge_prefix(cloud, prefix))
    dept_id, user_id = make_department(app, f"Z{run_id[1:7]}".upper(), f"扩容演练局{run_id}")
    servers = [{"name": "web", "flavor": "m1.tiny", "image": "cirros-devcloud"}]
    rules = [{"port": "22", "protocol": "tcp", "source": "10.0.0.0/8"}]
    system_id = approve_new(app, user_id, seed.user_ids["bureau"], {"servers": servers, "rules": rules}, "扩容系统")
    run_workers_until_settled(app, prefix, [system_id], timeout=900)
    change_id = approve_change(app, user_id, seed.user_ids["bureau"], system_id,
                               {"servers": [{**servers[0], "flavor": "m1.small"}], "rules": rules})
    workers = [start_worker(app, prefix, tmp_path, f"worker{n}", cleanup) for n in range(2)]
    job = wait_for(lambda: (j := job_of(app, change_id)).state in ("succeeded", "failed", "errored") and j, 900,
                   "the resize")  # a slow dev cloud takes minutes
    assert [stop_terminate(w) for w in workers] == [0, 0]
    assert job.state == "succeeded", (job.error_message, job.error_detail)
    assert request_states(app, [change_id])[change_id][0] == "provisioned"
    with app.app_context():
        resize = db.session.scalars(select(ProvisioningStep.seconds).where(ProvisioningStep.job_id == job.id,
                                                                          ProvisioningStep.kind == "server_resize")).all()
    print(f"resize took {resize} s with a lease of {LEASE_SECONDS} s")
    assert resize and resize[0] > LEASE_SECONDS, resize  # the wait outlasted the lease: renewed, not taken over
    assert job.lease_token == 1 and job.attempts == 0  # claimed once, never taken over
    claims = [len(re.findall(rf"claimed job={job.id} ", (tmp_path / f"worker{n}.log").read_text())) for n in range(2)]
    assert sorted(claims) == [0, 1], claims
    assert cloud.compute.get_server(_server_id(app, system_id)).flavor["original_name"] == "m1.small"


def _server_id(app, system_id):
    from portal.extensions import db
    from portal.models.requests import CloudResource
    with app.app_context():
        return db.session.scalar(select(CloudResource.openstack_id).where(CloudResource.system_id == system_id,
                                                                         CloudResource.kind == "server"))

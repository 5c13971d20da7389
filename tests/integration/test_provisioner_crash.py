"""The worker is killed with SIGKILL at every step boundary of a request, and right after every create
call returned but before the new id was stored (the resource exists in OpenStack, govcloud does not
know its id); each time a new worker takes the job over. At the end every request is provisioned and,
counted in OpenStack as admin over all projects, each resource exists exactly once with the stored id,
nothing named by the test is left that no request owns, and the audit log has exactly one
`cloud.create` or `cloud.adopt` per resource. Dev cloud, PostgreSQL.

Requests: a new system (2 servers, a volume attached, a floating IP, a security group with rules, a
key pair; the department's project, router and network come with it), a change of it (drop the
floating IP and the volume, add a server) and the decommission of a second system with a network of
its own. The kill points are in tests/integration/crash_worker.py.
"""
import subprocess
import sys

import pytest
from sqlalchemy import select

from tests.integration.provisioning_support import (REPO, approve_change, approve_new, assert_audited_once,
                                                    assert_cloud_matches, make_department, request_states,
                                                    run_workers_until_settled, stray_servers, worker_env)
from tests.integration.test_requests_cloud_flow import migrated_app, purge_prefix, ssh_key  # noqa: F401

pytestmark = pytest.mark.devcloud
KILLED = -9


def crash_through(app, prefix, request_id, points):
    """Start one worker per point, each killed there; return the points in the order they were hit."""
    from portal.extensions import db
    from portal.models.requests import ProvisioningJob
    hit = []
    for point in points:
        proc = subprocess.run([sys.executable, "tests/integration/crash_worker.py", "--kill-at", point], cwd=REPO,
                              env=worker_env(app, prefix), capture_output=True, text=True, timeout=240)
        assert proc.returncode == KILLED, f"{point} not reached (exit {proc.returncode}): {proc.stderr[-3000:]}"
        with app.app_context():
            db.session.expire_all()
            job = db.session.scalars(select(ProvisioningJob).where(ProvisioningJob.request_id == request_id)).one()
            # the dead worker still holds the lease: the next worker on this host takes it over at once
            assert job.state == "running", (point, job.state, job.error_message, job.error_detail)
        hit.append(point)
    return hit


def test_sigkill_at_every_step_and_mid_call(app, seed, cloud, run_id, cleanup):
    from portal.extensions import db
    from portal.models.requests import ProvisioningJob, ResourceRequest

    prefix = f"gc{run_id}"
    cleanup(lambda: purge_prefix(cloud, prefix))
    code = f"K{run_id[1:7]}".upper()
    dept_id, user_id = make_department(app, code, f"崩溃演练局{run_id}")
    bureau = seed.user_ids["bureau"]
    c = code.lower()
    key = ssh_key()

    # -- 1. a new system: every step boundary, every create interrupted before its id is stored
    spec_a = {"servers": [{"name": "web", "flavor": "m1.tiny", "image": "cirros-devcloud", "count": 2}],
              "volumes": [{"name": "data", "size_gb": 1, "attach_to": "web-2"}],
              "rules": [{"port": "22", "protocol": "tcp", "source": "10.0.0.0/8"},
                        {"port": "443", "protocol": "tcp", "source": "0.0.0.0/0"}],
              "floating_ips": 1, "ssh_public_key": key}
    a = approve_new(app, user_id, bureau, spec_a, "崩溃演练系统")
    r = f"R{a}"
    points_a = [
        "step:project", f"created:{prefix}-{c}", "step:quotas:raise",
        "step:router", "created:-router", "step:network:default", "created:-network-default",
        "step:subnet:default", "created:-subnet-default", "step:router_interface:default",
        f"step:sg:{r}", f"created:-sg-{r}", f"step:sg:{r}:rules", "created:rule",
        f"step:keypair:{r}", f"created:-keypair-{r}",
        f"step:server:{r}:web-1", f"created:-server-{r}-web-1", f"step:server:{r}:web-2", f"created:-server-{r}-web-2",
        f"step:volume:{r}:data", f"created:-volume-{r}-data",
        f"step:server:{r}:web-1:wait", f"step:server:{r}:web-2:wait",
        f"step:volume:{r}:data:extend", f"step:volume:{r}:data:attach",
        f"step:fip:{r}:1", f"created:-fip-{r}-1", "step:receipt",
    ]
    hit = crash_through(app, prefix, a, points_a)
    run_workers_until_settled(app, prefix, [a])

    # -- 2. a second system with its own network, provisioned without incident
    spec_b = {"servers": [{"name": "app", "flavor": "m1.tiny", "image": "cirros-devcloud", "count": 1}],
              "rules": [{"port": "8080", "protocol": "tcp", "source": "10.0.0.0/8"}],
              "network": {"cidr": "192.168.177.0/24"}}
    b = approve_new(app, user_id, bureau, spec_b, "注销演练系统")
    run_workers_until_settled(app, prefix, [b])

    # -- 3. a change of the first: the floating IP and the volume go, a third server comes
    change = approve_change(app, user_id, bureau, a, {**spec_a, "volumes": [], "floating_ips": 0,
                            "servers": [{"name": "web", "flavor": "m1.tiny", "image": "cirros-devcloud",
                                         "count": 3}]})
    hit += crash_through(app, prefix, change, [
        f"step:delete:fip:{r}:1", f"step:delete:volume:{r}:data", f"step:server:{r}:web-3",
        f"created:-server-{r}-web-3", f"step:server:{r}:web-3:wait", "step:receipt"])
    run_workers_until_settled(app, prefix, [change])

    # -- 4. the decommission of the second system
    decommission = approve_change(app, user_id, bureau, b)
    rb = f"R{b}"
    hit += crash_through(app, prefix, decommission, [
        f"step:delete:server:{rb}:app-1", f"step:delete:sg:{rb}", f"step:delete:subnet:{rb}",
        f"step:delete:network:{rb}", "step:quotas:final"])
    run_workers_until_settled(app, prefix, [decommission])

    assert len(set(hit)) >= 20
    requests = [a, b, change, decommission]
    states = request_states(app, requests)
    assert all(state == "provisioned" for state, _ in states.values()), states
    with app.app_context():
        job = db.session.scalars(select(ProvisioningJob).where(ProvisioningJob.request_id == a)).one()
        # each kill interrupted the job (a claim each, the fencing token raised), the last worker finished it;
        # a takeover is no failure
        assert job.lease_token == len(points_a) + 1 and job.attempts == 0
        numbers = {db.session.get(ResourceRequest, rid).number for rid in requests}

    owned = assert_cloud_matches(app, cloud, prefix, [dept_id])
    assert [name for name, _ in owned["server"]] == [f"{prefix}-{c}-server-{r}-web-{n}" for n in (1, 2, 3)]
    assert owned["volume"] == [] and owned["floating_ip"] == []
    assert [name for name, _ in owned["network"]] == [f"{prefix}-{c}-network-default"]
    assert len(owned["project"]) == len(owned["router"]) == len(owned["keypair"]) == 1
    assert stray_servers(cloud, prefix, numbers) == []
    for _, server_id in owned["server"]:
        assert cloud.compute.get_server(server_id).status == "ACTIVE"
        assert len(list(cloud.network.ports(device_id=server_id))) == 1
    assert_audited_once(app, [dept_id])

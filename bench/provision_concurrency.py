"""Throughput of 20 requests approved at once: govcloud's workers vs the best plain openstacksdk script.

20 departments each get one approved request (project with quotas, network + subnet + router, a
security group with a rule, 1 server m1.tiny ACTIVE, 1 volume attached). govcloud: --workers worker
processes (`python -m provisioner.worker --concurrency N`, N jobs at a time each) on a PostgreSQL
schema of their own, already polling, timed from the first
approval to the moment every request is provisioned (receipts issued). Plain: the same resources for
20 projects with openstacksdk in a thread pool, at a few concurrency levels; the best one counts.
Same cloud, same run; everything is deleted afterwards.
Usage: .venv/bin/python bench/provision_concurrency.py [--workers 4] [--concurrency 3] [--requests 20]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "bench"))

import openstack  # noqa: E402
from _common import pg_schema  # noqa: E402
from sqlalchemy import select  # noqa: E402

CLOUDS = os.environ.get("GOVCLOUD_CLOUDS_YAML", os.path.join(REPO, ".devcloud", "clouds.yaml"))
RUN = "c" + uuid.uuid4().hex[:6]
WAIT = 600
LEVELS = (5, 10, 20)
SPEC = {"servers": [{"name": "app", "flavor": "m1.tiny", "image": "cirros-devcloud", "count": 1}],
        "volumes": [{"name": "data", "size_gb": 1, "attach_to": "app-1"}],
        "rules": [{"port": "443", "protocol": "tcp", "source": "0.0.0.0/0"}]}


def admin_connection():
    config = openstack.config.OpenStackConfig(config_files=[CLOUDS], load_envvars=False)
    return openstack.connection.Connection(config=config.get_one(cloud="devcloud"))


def govcloud_run(n_requests, n_workers, concurrency):
    """Return seconds from the first approval to the last provisioned request."""
    with pg_schema(f"bench_{RUN}") as (url, _schema):
        return _govcloud_run(url, n_requests, n_workers, concurrency)


def _govcloud_run(url, n_requests, n_workers, concurrency):
    from sqlalchemy.orm import Session

    from portal import create_app, migrate
    from portal.models.accounts import Department, User
    from portal.models.requests import ResourceRequest
    from portal.services import resource_requests, reviews
    from portal.services.audit import RequestInfo
    from tests.documents import attach_required
    from provisioner.cloud import Cloud

    tmp = tempfile.mkdtemp(prefix="govcloud-bench-")
    os.environ["GOVCLOUD_INSTANCE_PATH"] = tmp
    workers = []
    try:
        app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "bench"})
        migrate.upgrade(url)
        engine = app.extensions["govcloud_db"][0]
        cloud = Cloud(CLOUDS, "devcloud")
        catalog = cloud.catalog()
        cloud.close()
        ids = []
        with Session(engine, expire_on_commit=False) as s:
            reviewer = User(username=f"bureau-{RUN}", role="bureau", password_hash="x")
            s.add(reviewer)
            for n in range(n_requests):
                dept = Department(name=f"并发基准局{n}", code=f"B{n:02d}{RUN}".upper(), level="city")
                s.add(dept)
                s.flush()
                user = User(username=f"bench{n}-{RUN}", role="department", department_id=dept.id, password_hash="x")
                s.add(user)
                s.commit()
                req = resource_requests.create_request(s, RequestInfo(actor=user), {
                    "system_name": f"并发基准系统{n}", "purpose": "性能基准", "security_level": 2}, SPEC)
                attach_required(s, RequestInfo(actor=user), req.id, tmp)
                resource_requests.submit_request(s, RequestInfo(actor=user), req.id, catalog, gate=False)  # no projects here
                ids.append(req.id)
        env = dict(os.environ, GOVCLOUD_DATABASE_URL=url, GOVCLOUD_SECRET_KEY="bench",
                   GOVCLOUD_CLOUD_NAME_PREFIX=f"gc{RUN}", GOVCLOUD_INSTANCE_PATH=tmp, GOVCLOUD_CLOUDS_YAML=CLOUDS)
        for _ in range(n_workers):
            workers.append(subprocess.Popen([sys.executable, "-m", "provisioner.worker", "--poll", "0.2",
                                             "--concurrency", str(concurrency)], cwd=REPO,
                                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(10)  # started and polling, as long-running workers are
        with Session(engine, expire_on_commit=False) as s:
            started = time.monotonic()
            for rid in ids:
                reviews.approve_request(s, RequestInfo(actor=s.get(User, reviewer.id)), rid, catalog)
            while True:
                s.expire_all()
                states = s.scalars(select(ResourceRequest.state).where(ResourceRequest.id.in_(ids))).all()
                if all(state in ("provisioned", "failed") for state in states):
                    break
                if time.monotonic() - started > WAIT:
                    raise SystemExit(f"not provisioned after {WAIT} s: {states}")
                time.sleep(0.2)
            elapsed = time.monotonic() - started
            failed = [r.failure_message for r in s.scalars(select(ResourceRequest).where(
                ResourceRequest.id.in_(ids), ResourceRequest.state == "failed"))]
            assert not failed, failed
        engine.dispose()
        return elapsed
    finally:
        for proc in workers:
            proc.terminate()
        for proc in workers:
            proc.wait(timeout=120)


def plain_unit(conn, n, flavor_id, image_id, public_id):
    """Create one department's resources with plain openstacksdk calls; return the project id."""
    name = f"plain{RUN}-{n}"
    project = conn.identity.create_project(name=name, domain_id="default")
    conn.identity.assign_project_role_to_user(project, conn.current_user_id, conn.identity.find_role("member"))
    conn.set_compute_quotas(project.id, instances=1, cores=1, ram=512)
    conn.set_volume_quotas(project.id, volumes=1, gigabytes=1)
    p = conn.connect_as_project({"id": project.id, "name": None, "domain_id": "default"})
    try:
        net = p.network.create_network(name=f"{name}-net")
        subnet = p.network.create_subnet(network_id=net.id, ip_version=4, cidr=f"10.{n}.0.0/24", name=f"{name}-sub")
        router = p.network.create_router(name=f"{name}-router", external_gateway_info={"network_id": public_id})
        p.network.add_interface_to_router(router, subnet=subnet.id)
        sg = p.network.create_security_group(name=f"{name}-sg")
        p.network.create_security_group_rule(security_group_id=sg.id, direction="ingress", ethertype="IPv4",
                                             protocol="tcp", port_range_min=443, port_range_max=443,
                                             remote_ip_prefix="0.0.0.0/0")
        server = p.compute.create_server(name=f"{name}-app", flavor_id=flavor_id, image_id=image_id,
                                         networks=[{"uuid": net.id}], security_groups=[{"name": sg.id}])
        volume = p.block_storage.create_volume(size=1, name=f"{name}-data")
        server = p.compute.wait_for_server(server, status="ACTIVE", wait=WAIT)
        p.block_storage.wait_for_status(volume, status="available", wait=WAIT)
        p.compute.create_volume_attachment(server, volume_id=volume.id)
        p.block_storage.wait_for_status(volume, status="in-use", wait=WAIT)
    finally:
        p.close()
    return project.id


def plain_run(conn, n_requests, threads):
    """Return seconds for n_requests plain units with a pool of threads (each with its own connection)."""
    flavor_id = conn.compute.find_flavor("m1.tiny").id
    image_id = conn.image.find_image("cirros-devcloud").id
    public_id = conn.network.find_network("public").id
    conns = [admin_connection() for _ in range(threads)]
    for c in conns:
        c.authorize()
    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(plain_unit, conns[n % threads], n, flavor_id, image_id, public_id)
                   for n in range(n_requests)]
        for f in futures:
            f.result()
    elapsed = time.monotonic() - started
    for c in conns:
        c.close()
    return elapsed


def purge(conn, marker):
    """Delete every project whose name carries marker, with what it holds."""
    def purge_project(project):
        pid = project.id
        for server in conn.compute.servers(all_projects=True, project_id=pid):
            conn.compute.delete_server(server)
            conn.compute.wait_for_delete(server, wait=WAIT)
        for vol in conn.block_storage.volumes(all_projects=True, project_id=pid):
            conn.block_storage.wait_for_status(vol, status="available", failures=["error"], wait=WAIT)
            conn.block_storage.delete_volume(vol)
            conn.block_storage.wait_for_delete(vol, wait=WAIT)
        for router in conn.network.routers(project_id=pid):
            for port in conn.network.ports(device_id=router.id, device_owner="network:router_interface"):
                conn.network.remove_interface_from_router(router, port_id=port.id)
            conn.network.delete_router(router)
        for net in conn.network.networks(project_id=pid):
            conn.network.delete_network(net)
        for sg in list(conn.network.security_groups(project_id=pid)):
            conn.network.delete_security_group(sg)
        conn.identity.delete_project(project)
    projects = [p for p in conn.identity.projects() if marker in p.name]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(purge_project, projects))
    for kp in conn.compute.keypairs():
        if marker in kp.name:
            conn.compute.delete_keypair(kp)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4, help="worker processes")
    parser.add_argument("--concurrency", type=int, default=3, help="jobs at a time per worker process")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)),
                        help="thread counts of the plain runs (the best one counts), e.g. 10")
    args = parser.parse_args()
    conn = admin_connection()
    plain = {}
    try:
        for threads in [int(x) for x in args.levels.split(",")]:
            plain[threads] = plain_run(conn, args.requests, threads)
            print(f"  (plain, {threads} threads: {plain[threads]:.1f} s)", file=sys.stderr, flush=True)
            purge(conn, RUN)
        portal = govcloud_run(args.requests, args.workers, args.concurrency)
    finally:
        purge(conn, RUN)
        conn.close()
    best_threads = min(plain, key=plain.get)
    best = plain[best_threads]
    for threads, seconds in plain.items():
        print(f"plain openstacksdk, {threads:2d} threads:     {seconds:6.1f} s  "
              f"{args.requests / seconds * 60:6.1f} requests/min")
    print(f"govcloud, {args.workers} workers x {args.concurrency} jobs:    {portal:6.1f} s  "
          f"{args.requests / portal * 60:6.1f} requests/min")
    print(f"ratio govcloud / best plain ({best_threads} threads): {best / portal:5.2f}  (throughput; goal >= 0.9)")


if __name__ == "__main__":
    main()

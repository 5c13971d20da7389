"""Time from approval to delivery receipt through govcloud vs a plain openstacksdk script, same run.

Both create the same resources on the dev cloud: a project with quotas, network + subnet + router,
a security group with rules 22 and 443, a key pair, 2 servers (m1.tiny) ACTIVE, 2 volumes attached,
1 floating IP. govcloud: a department request approved through the service layer, then the
provisioning worker (in process, as a long-running worker would be) until the receipt is issued.
Plain: the shortest sensible openstacksdk script (servers and volumes created in parallel, then
waited for). Everything is deleted afterwards. Usage: .venv/bin/python bench/provision_overhead.py
"""
import os
import sys
import tempfile
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import openstack  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ed25519  # noqa: E402

CLOUDS = os.environ.get("GOVCLOUD_CLOUDS_YAML", os.path.join(REPO, ".devcloud", "clouds.yaml"))
RUN = "b" + uuid.uuid4().hex[:6]
WAIT = 300


def ssh_key():
    key = ed25519.Ed25519PrivateKey.generate()
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def admin_connection():
    config = openstack.config.OpenStackConfig(config_files=[CLOUDS], load_envvars=False)
    return openstack.connection.Connection(config=config.get_one(cloud="devcloud"))


SPEC = {"servers": [{"name": "web", "flavor": "m1.tiny", "image": "cirros-devcloud", "count": 1},
                    {"name": "app", "flavor": "m1.tiny", "image": "cirros-devcloud", "count": 1}],
        "volumes": [{"name": "data1", "size_gb": 1, "attach_to": "web-1"},
                    {"name": "data2", "size_gb": 2, "attach_to": "app-1"}],
        "rules": [{"port": "22", "protocol": "tcp", "source": "10.0.0.0/8"},
                  {"port": "443", "protocol": "tcp", "source": "0.0.0.0/0"}],
        "network": {"cidr": "192.168.60.0/24"}, "floating_ips": 1}


def govcloud_run(key):
    """Return seconds from the approval call to the issued receipt, and the department's project id."""
    from sqlalchemy.orm import Session

    from portal import create_app, migrate
    from portal.models.accounts import Department, User
    from portal.services import resource_requests, reviews
    from portal.services.audit import RequestInfo
    from tests.documents import attach_required
    from provisioner.cloud import Cloud
    from provisioner.worker import Worker

    tmp = tempfile.mkdtemp(prefix="govcloud-bench-")
    url = f"sqlite:///{tmp}/bench.db"
    os.environ["GOVCLOUD_INSTANCE_PATH"] = tmp
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "bench"})
    migrate.upgrade(url)
    engine = app.extensions["govcloud_db"][0]
    cloud = Cloud(CLOUDS, "devcloud")
    with Session(engine, expire_on_commit=False) as s:
        dept = Department(name="基准测试局", code=f"BENCH-{RUN}".upper(), level="city")
        s.add(dept)
        s.flush()
        user = User(username=f"bench-{RUN}", role="department", department_id=dept.id, password_hash="x")
        reviewer = User(username=f"bureau-{RUN}", role="bureau", password_hash="x")
        s.add_all([user, reviewer])
        s.commit()
        catalog = cloud.catalog()
        req = resource_requests.create_request(s, RequestInfo(actor=user), {
            "system_name": "基准系统", "purpose": "性能基准", "security_level": 2},
            {**SPEC, "ssh_public_key": key})
        attach_required(s, RequestInfo(actor=user), req.id, tmp)
        resource_requests.submit_request(s, RequestInfo(actor=user), req.id, catalog, gate=False)  # no projects here
        started = time.monotonic()
        reviews.approve_request(s, RequestInfo(actor=reviewer), req.id, catalog)
        state = Worker(engine, cloud, name_prefix=f"gc{RUN}").run_one()
        elapsed = time.monotonic() - started
        s.expire_all()
        project_id = s.get(Department, dept.id).openstack_project_id
        assert state == "succeeded", f"job ended {state}: {s.get(type(req), req.id).failure_message}"
    cloud.close()
    return elapsed, project_id


def plain_run(conn, key):
    """Create the same resources with plain openstacksdk calls; return (seconds, project id)."""
    started = time.monotonic()
    project = conn.identity.create_project(name=f"plain{RUN}", domain_id="default")
    conn.identity.assign_project_role_to_user(project, conn.current_user_id, conn.identity.find_role("member"))
    conn.set_compute_quotas(project.id, instances=2, cores=2, ram=1024)
    conn.set_volume_quotas(project.id, volumes=2, gigabytes=3)
    conn.set_network_quotas(project.id, floatingip=1)
    p = conn.connect_as_project({"id": project.id, "name": None, "domain_id": "default"})
    public = p.network.find_network("public")
    net = p.network.create_network(name=f"plain{RUN}-net")
    subnet = p.network.create_subnet(network_id=net.id, ip_version=4, cidr="192.168.61.0/24", name=f"plain{RUN}-sub")
    router = p.network.create_router(name=f"plain{RUN}-router", external_gateway_info={"network_id": public.id})
    p.network.add_interface_to_router(router, subnet=subnet.id)
    sg = p.network.create_security_group(name=f"plain{RUN}-sg")
    for port, source in ((22, "10.0.0.0/8"), (443, "0.0.0.0/0")):
        p.network.create_security_group_rule(security_group_id=sg.id, direction="ingress", ethertype="IPv4",
                                             protocol="tcp", port_range_min=port, port_range_max=port,
                                             remote_ip_prefix=source)
    p.compute.create_keypair(name=f"plain{RUN}-key", public_key=key)
    flavor = p.compute.find_flavor("m1.tiny")
    image = p.image.find_image("cirros-devcloud")
    servers = [p.compute.create_server(name=f"plain{RUN}-{n}", flavor_id=flavor.id, image_id=image.id,
                                       networks=[{"uuid": net.id}], security_groups=[{"name": sg.id}],
                                       key_name=f"plain{RUN}-key") for n in ("web", "app")]
    volumes = [p.block_storage.create_volume(size=size, name=f"plain{RUN}-v{size}") for size in (1, 2)]
    servers = [p.compute.wait_for_server(s, status="ACTIVE", wait=WAIT) for s in servers]
    for server, volume in zip(servers, volumes):
        p.block_storage.wait_for_status(volume, status="available", wait=WAIT)
        p.compute.create_volume_attachment(server, volume_id=volume.id)
    for volume in volumes:
        p.block_storage.wait_for_status(volume, status="in-use", wait=WAIT)
    port = next(iter(p.network.ports(device_id=servers[0].id)))
    p.network.create_ip(floating_network_id=public.id, port_id=port.id)
    elapsed = time.monotonic() - started
    p.close()
    return elapsed, project.id


def purge(conn, project_id):
    """Delete everything in project_id, then the project, and the run's key pairs."""
    for ip in conn.network.ips(project_id=project_id):
        conn.network.delete_ip(ip)
    for server in conn.compute.servers(all_projects=True, project_id=project_id):
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=WAIT)
    for vol in conn.block_storage.volumes(all_projects=True, project_id=project_id):
        conn.block_storage.wait_for_status(vol, status="available", failures=["error"], wait=WAIT)
        conn.block_storage.delete_volume(vol)
        conn.block_storage.wait_for_delete(vol, wait=WAIT)
    for router in conn.network.routers(project_id=project_id):
        for port in conn.network.ports(device_id=router.id, device_owner="network:router_interface"):
            conn.network.remove_interface_from_router(router, port_id=port.id)
        conn.network.delete_router(router)
    for net in conn.network.networks(project_id=project_id):
        conn.network.delete_network(net)
    for sg in [s for s in conn.network.security_groups() if s.project_id == project_id]:
        conn.network.delete_security_group(sg)
    conn.identity.delete_project(project_id)
    for kp in conn.compute.keypairs():
        if RUN in kp.name:
            conn.compute.delete_keypair(kp)


def main():
    conn = admin_connection()
    key = ssh_key()
    projects = []
    try:
        plain, plain_project = plain_run(conn, key)
        projects.append(plain_project)
        portal, portal_project = govcloud_run(key)
        projects.append(portal_project)
    finally:
        for project_id in projects:
            purge(conn, project_id)
        for project in conn.identity.projects():
            if RUN in project.name and project.id not in projects:
                purge(conn, project.id)
        conn.close()
    print(f"plain openstacksdk script:            {plain:6.1f} s")
    print(f"govcloud approval -> delivery receipt: {portal:6.1f} s")
    print(f"ratio govcloud / plain:                {portal / plain:6.2f}")


if __name__ == "__main__":
    main()

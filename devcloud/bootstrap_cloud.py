"""Cloud-side set-up of the dev cloud through openstacksdk; every step finds before it creates.

Runs inside the dev cloud's virtualenv, called by devcloud.py:
  identity   service project, service users, catalog (Keystone must answer)
  resources  waits for compute and volume services, then flavors, image, external network,
             admin quotas, and writes clouds.yaml (every API must answer)
"""
import os
import subprocess
import sys
import time
from pathlib import Path

import openstack

HOME = Path(os.environ["DEVCLOUD_HOME"])
AUTH_URL = os.environ["DEVCLOUD_AUTH_URL"]
ADMIN_PASSWORD = os.environ["DEVCLOUD_ADMIN_PASSWORD"]
SERVICE_PASSWORD = os.environ["DEVCLOUD_SERVICE_PASSWORD"]
HOST = "127.0.0.1"
REGION = "RegionOne"

CATALOG = [  # name, type, url
    ("nova", "compute", f"http://{HOST}:8774/v2.1"),
    ("placement", "placement", f"http://{HOST}:8778"),
    ("glance", "image", f"http://{HOST}:9292"),
    ("neutron", "network", f"http://{HOST}:9696"),
    ("cinderv3", "volumev3", f"http://{HOST}:8776/v3/%(project_id)s"),
    ("cinder", "block-storage", f"http://{HOST}:8776/v3/%(project_id)s"),
]
SERVICE_USERS = ["nova", "placement", "glance", "cinder", "neutron"]
FLAVORS = [  # name, vcpus, ram MiB, disk GiB
    ("m1.tiny", 1, 512, 1),
    ("m1.small", 1, 2048, 20),
    ("m1.medium", 2, 4096, 40),
    ("m1.large", 4, 8192, 80),
]
IMAGE_NAME = "cirros-devcloud"
IMAGE_BYTES = 16 * 1024


def connect():
    return openstack.connect(
        auth_url=AUTH_URL, username="admin", password=ADMIN_PASSWORD, project_name="admin",
        user_domain_name="Default", project_domain_name="Default", region_name=REGION,
        identity_api_version="3", load_yaml_config=False, load_envvars=False)


def identity(conn):
    idn = conn.identity
    project = idn.find_project("service", domain_id="default") or idn.create_project(
        name="service", domain_id="default", description="OpenStack service users")
    roles = {}
    for name in ("admin", "service", "member", "reader"):
        roles[name] = idn.find_role(name) or idn.create_role(name=name)
    for name in SERVICE_USERS:
        user = idn.find_user(name, domain_id="default")
        if user is None:
            user = idn.create_user(name=name, password=SERVICE_PASSWORD, domain_id="default",
                                   default_project_id=project.id)
        else:
            idn.update_user(user, password=SERVICE_PASSWORD)
        for role in ("admin", "service"):
            idn.assign_project_role_to_user(project, user, roles[role])
    services = {s.type: s for s in idn.services()}
    endpoints = list(idn.endpoints())
    for name, type_, url in CATALOG:
        svc = services.get(type_) or idn.create_service(name=name, type=type_, enabled=True)
        have = {(e.interface, e.url) for e in endpoints if e.service_id == svc.id}
        for interface in ("public", "internal", "admin"):
            if (interface, url) not in have:
                idn.create_endpoint(service_id=svc.id, interface=interface, url=url,
                                    region_id=REGION)
    print("devcloud: identity ready (service users and catalog)")


def wait_services(conn, seconds=180):
    deadline = time.monotonic() + seconds
    need = {"nova-compute", "nova-conductor", "nova-scheduler",
            "cinder-volume", "cinder-scheduler", "cinder-backup"}
    up = set()
    while time.monotonic() < deadline:
        up = {s.binary for s in conn.compute.services() if s.state == "up"}
        up |= {s.binary for s in conn.block_storage.services() if s.state == "up"}
        hypervisors = list(conn.compute.hypervisors())
        # the volume scheduler knows a backend only once cinder-volume has reported to it
        pools = list(conn.block_storage.backend_pools()) if "cinder-volume" in up else []
        if need <= up and hypervisors and pools:
            return
        if "nova-compute" in up and not hypervisors:  # map the new compute host to cell1
            subprocess.run([str(Path(sys.executable).parent / "nova-manage"), "--config-file",
                            str(HOME / "etc" / "nova" / "nova.conf"),
                            "cell_v2", "discover_hosts"], check=True, capture_output=True)
        time.sleep(2)
    raise SystemExit(f"devcloud: services not up within {seconds} s: {sorted(need - up)}"
                     " (or no hypervisor discovered / no volume pool reported; see .devcloud/logs)")


def resources(conn):
    wait_services(conn)
    for name, vcpus, ram, disk in FLAVORS:
        if conn.compute.find_flavor(name) is None:
            conn.compute.create_flavor(name=name, vcpus=vcpus, ram=ram, disk=disk,
                                       is_public=True)
    if conn.image.find_image(IMAGE_NAME) is None:
        image = conn.image.create_image(
            name=IMAGE_NAME, data=b"\0" * IMAGE_BYTES, disk_format="raw",
            container_format="bare", visibility="public", wait=True)
        conn.image.wait_for_status(image, status="active", wait=60)
    net = conn.network.find_network("public")
    if net is None:
        net = conn.network.create_network(
            name="public", is_router_external=True, provider_network_type="flat",
            provider_physical_network="public", is_shared=False)
    if conn.network.find_subnet("public-subnet") is None:
        conn.network.create_subnet(
            name="public-subnet", network_id=net.id, ip_version=4, cidr="172.24.4.0/24",
            gateway_ip="172.24.4.1", is_dhcp_enabled=False,
            allocation_pools=[{"start": "172.24.4.10", "end": "172.24.4.250"}])
    admin = conn.identity.find_project("admin", domain_id="default")
    conn.set_compute_quotas(admin.id, instances=200, cores=800, ram=1638400)
    conn.set_volume_quotas(admin.id, volumes=200, gigabytes=5000, snapshots=200,
                           backups=200, backup_gigabytes=5000)
    conn.set_network_quotas(admin.id, port=1000, floatingip=200, network=100, subnet=100,
                            router=50, security_group=100, security_group_rule=1000)
    write_clouds_yaml()
    print("devcloud: resources ready (flavors m1.tiny..m1.large, image "
          f"{IMAGE_NAME}, external network 'public' 172.24.4.0/24)")


def write_clouds_yaml():
    (HOME / "clouds.yaml").write_text(f"""\
# Written by devcloud/up. The dev cloud's admin; for govcloud's tests and for people.
clouds:
  devcloud:
    auth:
      auth_url: {AUTH_URL}
      username: admin
      password: {ADMIN_PASSWORD}
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: {REGION}
    identity_api_version: 3
    interface: public
""")


def main(phase):
    conn = connect()
    {"identity": identity, "resources": resources}[phase](conn)


if __name__ == "__main__":
    main(sys.argv[1])

"""The dev cloud is a real OpenStack: a tenant's whole life through openstacksdk.

Everything is created in a fresh project by a member user, then deleted, and the admin
connection checks that nothing of the project is left.
"""
import datetime
import ipaddress
import time

import openstack
import pytest

pytestmark = pytest.mark.devcloud

WAIT = 180  # seconds: generous bounds for a loaded 2-core machine; never infinite
EXPECTED_SERVICES = {"nova-compute", "nova-conductor", "nova-scheduler",
                     "cinder-volume", "cinder-scheduler", "cinder-backup"}


def test_every_service_is_up(cloud):
    up = {s.binary for s in cloud.compute.services() if s.state == "up"}
    up |= {s.binary for s in cloud.block_storage.services() if s.state == "up"}
    assert EXPECTED_SERVICES <= up, f"down: {sorted(EXPECTED_SERVICES - up)}"
    assert list(cloud.compute.hypervisors()), "no hypervisor mapped to a cell"
    assert list(cloud.block_storage.backend_pools()), "the volume scheduler knows no backend"
    for service_type in ("identity", "compute", "network", "image", "block-storage",
                         "placement"):
        endpoint = cloud.session.get_endpoint(service_type=service_type, interface="public")
        assert endpoint.startswith("http://127.0.0.1:"), (service_type, endpoint)


def test_bootstrap_catalog(cloud):
    flavors = {f.name for f in cloud.compute.flavors()}
    assert {"m1.tiny", "m1.small", "m1.medium", "m1.large"} <= flavors
    image = cloud.image.find_image("cirros-devcloud")
    assert image is not None and image.status == "active"
    public = cloud.network.find_network("public")
    assert public is not None and public.is_router_external


def test_tenant_lifecycle(cloud, run_id, cleanup):
    admin = cloud
    # -- as admin: a project, a member user and the project's quotas
    project = admin.identity.create_project(name=f"govcloud-{run_id}", domain_id="default",
                                            description="govcloud devcloud test")
    cleanup(lambda: admin.identity.delete_project(project))
    password = f"pw-{run_id}-Aa1!"
    user = admin.identity.create_user(name=f"user-{run_id}", password=password,
                                      domain_id="default", default_project_id=project.id)
    cleanup(lambda: admin.identity.delete_user(user))
    member = admin.identity.find_role("member")
    admin.identity.assign_project_role_to_user(project, user, member)

    admin.set_compute_quotas(project.id, instances=4, cores=8, ram=8192)
    admin.set_network_quotas(project.id, network=2, subnet=2, router=1, floatingip=2,
                             port=20, security_group=4, security_group_rule=40)
    admin.set_volume_quotas(project.id, volumes=4, gigabytes=20, backups=4,
                            backup_gigabytes=20, snapshots=4)
    assert admin.get_compute_quotas(project.id).instances == 4
    assert admin.get_network_quotas(project.id).floating_ips == 2
    assert admin.get_volume_quotas(project.id).gigabytes == 20

    auth = admin.config.get_auth_args()
    conn = openstack.connect(
        auth_url=auth["auth_url"], username=user.name, password=password,
        project_id=project.id, user_domain_name="Default", region_name="RegionOne",
        identity_api_version="3", load_yaml_config=False, load_envvars=False)

    # -- as the member: network, subnet, router to the external network, security group
    public = conn.network.find_network("public")
    net = conn.network.create_network(name=f"net-{run_id}")
    cleanup(lambda: conn.network.delete_network(net))
    subnet = conn.network.create_subnet(network_id=net.id, name=f"subnet-{run_id}",
                                        ip_version=4, cidr="10.20.0.0/24")
    cleanup(lambda: conn.network.delete_subnet(subnet))
    router = conn.network.create_router(name=f"router-{run_id}",
                                        external_gateway_info={"network_id": public.id})
    cleanup(lambda: conn.network.delete_router(router))
    conn.network.add_interface_to_router(router, subnet=subnet.id)
    cleanup(lambda: conn.network.remove_interface_from_router(router, subnet=subnet.id))
    assert conn.network.get_router(router).external_gateway_info["network_id"] == public.id

    sg = conn.network.create_security_group(name=f"sg-{run_id}")
    cleanup(lambda: conn.network.delete_security_group(sg))
    rule = conn.network.create_security_group_rule(
        security_group_id=sg.id, direction="ingress", ethertype="IPv4", protocol="tcp",
        port_range_min=22, port_range_max=22, remote_ip_prefix="10.0.0.0/8")
    assert rule.port_range_min == 22

    # -- a server on the tenant network, its port bound and an address assigned
    flavor = conn.compute.find_flavor("m1.tiny")
    image = conn.image.find_image("cirros-devcloud")
    server = conn.compute.create_server(
        name=f"vm-{run_id}", flavor_id=flavor.id, image_id=image.id,
        networks=[{"uuid": net.id}], security_groups=[{"name": sg.name}])
    cleanup(lambda: _delete_server(conn, server))
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=WAIT)
    ports = list(conn.network.ports(device_id=server.id))
    assert len(ports) == 1
    port = ports[0]
    assert port.status == "ACTIVE"
    bound = admin.network.get_port(port.id)  # binding details are admin-only
    assert (bound.binding_vif_type, bound.binding_host_id) == ("ovs", "devcloud-compute1")
    ip = ipaddress.ip_address(port.fixed_ips[0]["ip_address"])
    assert ip in ipaddress.ip_network("10.20.0.0/24")
    assert str(ip) in [a["addr"] for a in server.addresses[net.name]]

    # -- a 1 GiB volume, attached, then extended while attached
    volume = conn.block_storage.create_volume(size=1, name=f"vol-{run_id}")
    cleanup(lambda: _delete_volume(conn, volume))
    conn.block_storage.wait_for_status(volume, status="available", wait=WAIT)
    conn.compute.create_volume_attachment(server, volume_id=volume.id)
    volume = conn.block_storage.wait_for_status(volume, status="in-use", wait=WAIT)
    assert volume.attachments[0]["server_id"] == server.id
    conn.block_storage.extend_volume(volume, 2)
    _wait_until(lambda: conn.block_storage.get_volume(volume).size == 2, "volume extended")
    volume = conn.block_storage.wait_for_status(volume, status="in-use", wait=WAIT)

    # -- a snapshot of the server to an image
    snapshot = conn.compute.create_server_image(server, name=f"snap-{run_id}")
    cleanup(lambda: conn.image.delete_image(snapshot, ignore_missing=True))
    snapshot = conn.image.wait_for_status(snapshot, status="active", wait=WAIT)
    assert snapshot.owner_id == project.id

    # -- a backup of the (attached) volume
    backup = conn.block_storage.create_backup(volume_id=volume.id, name=f"bak-{run_id}",
                                              force=True)
    cleanup(lambda: _delete_backup(conn, backup))
    backup = conn.block_storage.wait_for_status(backup, status="available", wait=WAIT)
    assert backup.size == 2

    # -- a floating IP on the server's port
    fip = conn.network.create_ip(floating_network_id=public.id, port_id=port.id)
    cleanup(lambda: conn.network.delete_ip(fip))
    fip = conn.network.get_ip(fip)
    assert fip.port_id == port.id and fip.fixed_ip_address == str(ip)
    assert ipaddress.ip_address(fip.floating_ip_address) in ipaddress.ip_network(
        "172.24.4.0/24")

    # -- the project's usage, as Nova accounts it (os-simple-tenant-usage)
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    usage = conn.compute.get_usage(project.id, start=now - datetime.timedelta(hours=1),
                                   end=now + datetime.timedelta(minutes=1))
    assert usage.total_vcpus_usage > 0
    assert [s["name"] for s in usage.server_usages] == [server.name]

    # -- delete everything, in the order a person would, then look for leftovers as admin
    conn.network.delete_ip(fip)
    _delete_backup(conn, backup)
    conn.image.delete_image(snapshot)
    _delete_server(conn, server)
    _delete_volume(conn, volume)
    conn.network.remove_interface_from_router(router, subnet=subnet.id)
    conn.network.delete_router(router)
    conn.network.delete_security_group(sg)
    conn.network.delete_subnet(subnet)
    conn.network.delete_network(net)
    # Neutron creates a project's 'default' group whenever a list is filtered by that
    # project, so groups are listed unfiltered and picked here. Members may not delete it.
    for default_sg in _project_security_groups(admin, project):
        admin.network.delete_security_group(default_sg)

    leftovers = {
        "servers": list(admin.compute.servers(all_projects=True, project_id=project.id)),
        "volumes": list(admin.block_storage.volumes(all_projects=True, project_id=project.id)),
        "backups": list(admin.block_storage.backups(all_projects=True, project_id=project.id)),
        "images": [i for i in admin.image.images() if i.owner_id == project.id],
        "networks": list(admin.network.networks(project_id=project.id)),
        "subnets": list(admin.network.subnets(project_id=project.id)),
        "ports": list(admin.network.ports(project_id=project.id)),
        "routers": list(admin.network.routers(project_id=project.id)),
        "floating_ips": list(admin.network.ips(project_id=project.id)),
        "security_groups": _project_security_groups(admin, project),
    }
    assert {k: v for k, v in leftovers.items() if v} == {}
    conn.close()


def _project_security_groups(admin, project):
    return [sg for sg in admin.network.security_groups() if sg.project_id == project.id]


def _wait_until(predicate, what, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout} s waiting for: {what}")


def _delete_server(conn, server):
    conn.compute.delete_server(server, ignore_missing=True)
    conn.compute.wait_for_delete(server, wait=WAIT)


def _delete_volume(conn, volume):
    vol = conn.block_storage.find_volume(volume.id)
    if vol is None:
        return
    if vol.status not in ("available", "error"):
        conn.block_storage.wait_for_status(vol, status="available", failures=["error"],
                                           wait=WAIT)
    conn.block_storage.delete_volume(vol)
    conn.block_storage.wait_for_delete(vol, wait=WAIT)


def _delete_backup(conn, backup):
    if conn.block_storage.find_backup(backup.id) is None:
        return
    conn.block_storage.delete_backup(backup)
    conn.block_storage.wait_for_delete(backup, wait=WAIT)

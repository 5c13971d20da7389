"""A department project in the dev cloud with one server and one attached volume, made through
provisioner.cloud (as the provisioner would), and the portal rows that describe it.

Module-scoped: the SQLite and PostgreSQL runs of a test module share one project; each test adds
its own department, system and cloud_resource rows pointing at it.
"""
import uuid

import pytest

from portal.database import utcnow
from portal.models.accounts import Department
from portal.models.requests import CloudResource, ResourceRequest
from provisioner.cloud import Cloud


@pytest.fixture(scope="module")
def gc_cloud():
    """The engine's handle on the dev cloud (provisioner.cloud.Cloud), short waits."""
    cloud = Cloud(wait_seconds=300)
    yield cloud
    cloud.close()


def purge_backups(cloud, project_id):
    """Delete the project's images (snapshots, exports) and Cinder backups, then wait for them."""
    conn = cloud.project(project_id)
    for image in list(conn.image.images(owner=project_id)):
        conn.image.delete_image(image, ignore_missing=True)
    for backup in list(conn.block_storage.backups(details=True)):
        if backup.status == "creating":
            conn.block_storage.wait_for_status(backup, status="available", failures=["error"], wait=300)
        if backup.status != "deleting":
            cloud.admin.block_storage.delete_backup(backup.id, ignore_missing=True, force=True)
    for backup in list(conn.block_storage.backups(details=True)):
        conn.block_storage.wait_for_delete(backup, wait=300)


@pytest.fixture(scope="module")
def bk_project(gc_cloud):
    """A project holding a server `web-1` (m1.tiny, cirros) with a 1 GB volume attached."""
    prefix = "gcbk" + uuid.uuid4().hex[:6]
    cloud = gc_cloud
    project_id = cloud.create_project(f"{prefix}-dept", "govcloud backup tests")
    conn = None
    try:
        cloud.grant_member(project_id)
        conn = cloud.project(project_id)
        net = cloud.create_network(project_id, f"{prefix}-net")
        cloud.create_subnet(project_id, f"{prefix}-subnet", net, "10.88.0.0/24")
        server_id = cloud.create_server(project_id, f"{prefix}-web-1", "m1.tiny", "cirros-devcloud", net,
                                        "default", None, {"govcloud_system": "test"})
        volume_id = cloud.create_volume(project_id, f"{prefix}-web-1-data", 1, {"govcloud_system": "test"})
        cloud.wait_for_server(project_id, server_id)
        cloud.wait_for_volume(project_id, volume_id)
        cloud.attach_volume(project_id, server_id, volume_id)
        yield {"prefix": prefix, "project_id": project_id, "server_id": server_id, "volume_id": volume_id,
               "network_id": net}
    finally:
        errors = []
        for step in (lambda: purge_backups(cloud, project_id),
                     lambda: [cloud.delete_server(project_id, s.id)
                              for s in list(conn.compute.servers())] if conn else None,
                     lambda: [cloud.delete_volume(project_id, v.id)
                              for v in list(conn.block_storage.volumes())] if conn else None,
                     lambda: [conn.network.delete_port(p) for p in list(conn.network.ports(project_id=project_id))
                              if p.device_owner != "network:router_interface"] if conn else None,
                     lambda: [conn.network.delete_network(n) for n in list(conn.network.networks(
                         project_id=project_id))] if conn else None,
                     lambda: cloud.admin.identity.delete_project(project_id),
                     # Neutron keeps a project's default group until the project is gone
                     lambda: [cloud.admin.network.delete_security_group(sg) for sg in list(
                         cloud.admin.network.security_groups(project_id=project_id))]):
            try:
                step()
            except Exception as exc:  # report every failed deletion, not just the first
                errors.append(repr(exc))
        assert not errors, f"cleanup failed: {errors}"


def make_system(session, project, code, *, address="127.0.0.1", system_name="不动产登记系统"):
    """Add a department owning the project, a delivered system and its server/volume rows; return
    (department, system, server row, volume row)."""
    dept = Department(name=f"备份测试局{code}", code=code, level="city",
                      openstack_project_id=project["project_id"])
    session.add(dept)
    session.flush()
    system = ResourceRequest(number=f"ZWY-BK-{code}", department_id=dept.id, system_name=system_name,
                             state="delivered", spec={}, approved_spec={}, approved_at=utcnow())
    session.add(system)
    session.flush()
    server = CloudResource(department_id=dept.id, system_id=system.id, kind="server",
                           key=f"server:R{system.id}:web-1", name=f"{project['prefix']}-web-1",
                           openstack_id=project["server_id"],
                           attributes={"flavor": "m1.tiny", "addresses": [
                               {"network": "net", "addr": "10.88.0.5", "type": "fixed"},
                               {"network": "net", "addr": address, "type": "floating"}]})
    volume = CloudResource(department_id=dept.id, system_id=system.id, kind="volume",
                           key=f"volume:R{system.id}:web-1:data", name=f"{project['prefix']}-web-1-data",
                           openstack_id=project["volume_id"],
                           attributes={"size_gb": 1, "attached_to": project["server_id"]})
    session.add_all([server, volume])
    session.commit()
    return dept, system, server, volume


def backup_metrics(app):
    """Return the govcloud_backup_* samples of /metrics as {"name{labels}": value}."""
    body = app.test_client().get("/metrics").get_data(as_text=True)
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in body.splitlines()
            if line.startswith("govcloud_backup_")}

"""The live inventory against the dev cloud (issue 18): a department stops, starts and reboots its
own server from the page and Nova shows it; another department gets 404; the auditor cannot act;
the vendor acts only during a live grant; a server stopped behind the portal's back opens an
incident after the next cycle; one deleted behind its back leaves the inventory as drift."""
import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.database import utcnow
from portal.models.audit import AuditEvent
from portal.models.grants import VendorGrant
from portal.models.inventory import InventoryItem, InventorySync
from portal.models.operations import Incident
from portal.models.requests import CloudResource, ResourceRequest
from tests.conftest import csrf_token_from

pytestmark = pytest.mark.devcloud


@pytest.fixture
def real_server(cloud, run_id, cleanup):
    """A server booted in the dev cloud (admin project) on a network of its own."""
    net = cloud.network.create_network(name=f"inv-{run_id}")
    cleanup(lambda: cloud.network.delete_network(net))
    subnet = cloud.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.78.0.0/24",
                                         name=f"inv-{run_id}")
    cleanup(lambda: cloud.network.delete_subnet(subnet))
    server = cloud.compute.create_server(
        name=f"gc-inv-{run_id}", flavor_id=cloud.compute.find_flavor("m1.tiny").id,
        image_id=cloud.image.find_image("cirros-devcloud").id, networks=[{"uuid": net.id}])
    cleanup(lambda: (cloud.compute.delete_server(server, ignore_missing=True),
                     cloud.compute.wait_for_delete(server, wait=180)))
    return cloud.compute.wait_for_server(server, status="ACTIVE", wait=180)


@pytest.fixture
def system(app, seed, real_server, run_id):
    """A provisioned system of department A whose one server is the real one."""
    from portal.extensions import db
    with app.app_context():
        req = ResourceRequest(number=f"ZWY-I-{run_id}", department_id=seed.dept_a,
                              system_name="网格化管理系统", state="provisioned", spec={},
                              approved_spec={}, approved_at=utcnow())
        db.session.add(req)
        db.session.flush()
        db.session.add(CloudResource(department_id=seed.dept_a, system_id=req.id, kind="server",
                                     key=f"server:{run_id}", name=real_server.name, openstack_id=real_server.id))
        db.session.commit()
        return {"id": req.id, "server": real_server, "run_id": run_id}


def _sync(app, full=None):
    from monitoring.inventory_sync import sync
    from portal.extensions import db
    from provisioner.cloud import Cloud
    with app.app_context():
        cloud = Cloud.from_config(app.config)
        try:
            return sync(db.session, app.config, cloud, full=full)
        finally:
            cloud.close()


def _changed_since(app, since):
    """The ids an incremental listing from `since` brings back."""
    from portal.extensions import db
    from portal.services.inventory_store import known_revisions
    from provisioner.cloud import Cloud
    with app.app_context():
        cloud = Cloud.from_config(app.config)
        try:
            listing = cloud.live_listing(since=since, known_revisions=known_revisions(db.session))
        finally:
            cloud.close()
    return {i["id"] for i in listing["items"]}


def _item(db_session, openstack_id):
    db_session.expire_all()
    return db_session.scalars(select(InventoryItem).where(InventoryItem.openstack_id == openstack_id)).one()


def _incidents(db_session, server):
    db_session.expire_all()
    return db_session.scalars(select(Incident).where(Incident.title.like(f"{server.name}:%"))).all()


def _act(client, item_id, action):
    token = csrf_token_from(client.get(f"/inventory/items/{item_id}").get_data(as_text=True))
    return client.post(f"/inventory/items/{item_id}/action", data={"action": action, "csrf_token": token})


def _wait_status(cloud, server_id, status, seconds=120):
    deadline = time.monotonic() + seconds
    while True:
        current = cloud.compute.get_server(server_id).status
        if current == status:
            return current
        assert time.monotonic() < deadline, f"server still {current}, expected {status}"
        time.sleep(1)


def test_a_department_acts_on_its_own_server_and_nobody_else_does(app, seed, login_as, system, cloud, db_session):
    server = system["server"]
    first = _sync(app, full=True)
    assert first.mode == "full"
    item = _item(db_session, server.id)
    assert (item.department_id, item.system_id, item.status) == (seed.dept_a, system["id"], "ACTIVE")
    assert item.attributes["vcpus"] == 1 and item.attributes["fixed_ips"][0]["addr"].startswith("10.78.0.")

    dept, other, auditor, vendor = login_as("dept"), login_as("dept_b"), login_as("auditor"), login_as("vendor")
    page = dept.get("/inventory/?q=10.78.0").get_data(as_text=True)
    assert server.name in page and "更新于" in page
    assert other.get(f"/inventory/items/{item.id}").status_code == 404
    assert server.name not in other.get("/inventory/").get_data(as_text=True)
    assert auditor.get(f"/inventory/items/{item.id}").status_code == 200
    token = csrf_token_from(auditor.get("/").get_data(as_text=True))
    assert auditor.post(f"/inventory/items/{item.id}/action",
                        data={"action": "stop", "csrf_token": token}).status_code == 403
    assert _act(other, item.id, "stop").status_code == 404  # another department: not found
    assert _act(vendor, item.id, "stop").status_code == 403  # no grant
    assert cloud.compute.get_server(server.id).status == "ACTIVE"

    # the department stops, starts and reboots its server; Nova shows each
    before_stop = utcnow() - timedelta(seconds=1)
    assert _act(dept, item.id, "stop").status_code == 302
    _wait_status(cloud, server.id, "SHUTOFF")
    assert _act(dept, item.id, "stop").status_code == 303  # already stopped: refused, Nova untouched
    assert "不能" in dept.get(f"/inventory/items/{item.id}").get_data(as_text=True)
    steady = _sync(app, full=False)
    assert steady.mode == "incremental"
    # only what changed comes back: asked from just before the stop, the stopped server is there and
    # its untouched network and subnet are not (the cycle itself asks with an overlap of two minutes,
    # so its count depends on what the other tests changed meanwhile)
    changed = _changed_since(app, before_stop)
    network = cloud.network.find_network(f"inv-{system['run_id']}")
    assert server.id in changed and network.id not in changed and not set(network.subnet_ids) & changed
    assert _item(db_session, server.id).status == "SHUTOFF"
    assert _incidents(db_session, server) == []  # the department asked for it
    assert _act(dept, item.id, "start").status_code == 302
    _wait_status(cloud, server.id, "ACTIVE")
    _sync(app, full=False)
    assert _act(dept, item.id, "reboot_soft").status_code == 302
    _wait_status(cloud, server.id, "ACTIVE")
    console = dept.get(f"/inventory/items/{item.id}/console")
    assert console.status_code == 200 and "FAKE CONSOLE OUTPUT" in console.get_data(as_text=True)

    # the vendor acts during a live grant of the department, and only then
    with app.app_context():
        from portal.extensions import db
        grant = VendorGrant(department_id=seed.dept_a, system_id=system["id"], vendor_id=seed.user_ids["vendor"],
                            reason="巡检", state="approved", starts_at=utcnow() - timedelta(minutes=5),
                            ends_at=utcnow() + timedelta(hours=1))
        db.session.add(grant)
        db.session.commit()
        grant_id = grant.id
    assert _act(vendor, item.id, "stop").status_code == 302
    _wait_status(cloud, server.id, "SHUTOFF")
    with app.app_context():
        from portal.extensions import db
        db.session.get(VendorGrant, grant_id).ends_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    _sync(app, full=False)
    assert _act(vendor, item.id, "start").status_code == 403
    assert cloud.compute.get_server(server.id).status == "SHUTOFF"

    events = [(e.action, e.outcome, e.actor_username) for e in db_session.scalars(
        select(AuditEvent).where(AuditEvent.object_id == server.id).order_by(AuditEvent.seq))]
    assert [e for e in events if e[1] == "success"] == [
        ("server.stop", "success", "a-user"), ("server.start", "success", "a-user"),
        ("server.reboot_soft", "success", "a-user"), ("server.console", "success", "a-user"),
        ("server.stop", "success", "vendor1")]
    stop = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "server.stop",
                                                       AuditEvent.actor_username == "vendor1")).one()
    assert stop.after["grant"] == grant_id and stop.after["cloud_status"]
    denied = [e for e in events if e[1] == "denied"]
    assert ("access.server.stop", "denied", "vendor1") in denied and ("access.server.start", "denied", "vendor1") in denied


def test_changes_behind_the_portals_back_open_incidents_and_show_as_drift(app, seed, login_as, system, cloud,
                                                                         db_session):
    server = system["server"]
    _sync(app, full=True)
    cloud.compute.stop_server(server)
    _wait_status(cloud, server.id, "SHUTOFF")
    assert _sync(app, full=False).incidents >= 1
    incident, = _incidents(db_session, server)
    assert incident.state == "open" and incident.system_name == "网格化管理系统" and server.name in incident.title
    _sync(app, full=False)
    assert len(_incidents(db_session, server)) == 1  # still stopped: the same incident, not a second one

    cloud.compute.start_server(server)
    _wait_status(cloud, server.id, "ACTIVE")
    _sync(app, full=False)
    db_session.expire_all()
    assert db_session.get(Incident, incident.id).state == "resolved"

    # deleted behind the portal's back: gone from the list, shown as drift, an incident
    item_id = _item(db_session, server.id).id
    cloud.compute.delete_server(server)
    cloud.compute.wait_for_delete(server, wait=180)
    result = _sync(app, full=False)
    assert result.gone >= 1
    assert _item(db_session, server.id).gone_at is not None
    assert [i.state for i in _incidents(db_session, server)] == ["resolved", "open"]
    dept = login_as("dept")
    assert server.name not in dept.get("/inventory/").get_data(as_text=True)
    drift = dept.get("/inventory/?gone=1").get_data(as_text=True)
    assert server.name in drift and "已在门户外删除" in drift
    assert dept.get(f"/inventory/items/{item_id}").status_code == 200
    state = db_session.get(InventorySync, "incremental")
    assert state.gone >= 1 and state.api_calls > 0

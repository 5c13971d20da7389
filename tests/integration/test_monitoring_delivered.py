"""Delivered servers (issue 4's cloud_resource rows) get probe targets; deleted ones are switched off."""
from sqlalchemy import select

from portal.models.operations import ProbeTarget
from portal.models.requests import CloudResource, ResourceRequest
from portal.services.probes import sync_delivered_targets


def test_delivered_servers_get_status_and_port_probes(db_session, seed):
    sync_delivered_targets(db_session)  # whatever the other seeds delivered
    system = ResourceRequest(number="ZWY-MON-1", department_id=seed.dept_a, system_name="不动产登记",
                             state="delivered", spec={}, approved_spec={"rules": [
                                 {"port": "443", "protocol": "tcp", "source": "0.0.0.0/0"},
                                 {"port": "8000-8080", "protocol": "tcp", "source": "10.0.0.0/8"},
                                 {"port": "53", "protocol": "udp", "source": "10.0.0.0/8"}]})
    db_session.add(system)
    db_session.flush()
    server = CloudResource(department_id=seed.dept_a, system_id=system.id, kind="server",
                           key=f"server:R{system.id}:web-1", name="gc-web-1", openstack_id="a" * 32)
    fip = CloudResource(department_id=seed.dept_a, system_id=system.id, kind="floating_ip",
                        key=f"fip:R{system.id}:1", name="fip", openstack_id="b" * 32,
                        attributes={"address": "203.0.113.7", "fixed": "10.0.0.5", "server": "a" * 32})
    db_session.add_all([server, fip])
    db_session.commit()

    assert sync_delivered_targets(db_session) == (2, 0)
    assert sync_delivered_targets(db_session) == (0, 0)  # idempotent
    mine = ProbeTarget.server_ref.like(f"server:R{system.id}:%")
    targets = {t.kind: t for t in db_session.scalars(select(ProbeTarget).where(mine))}
    assert targets["server_status"].settings == {"server_id": "a" * 32}
    assert targets["server_status"].system_name == "不动产登记"
    assert targets["tcp"].settings == {"host": "203.0.113.7", "port": 443}  # single TCP ports only

    server.deleted = True
    db_session.commit()
    assert sync_delivered_targets(db_session) == (0, 2)
    assert not any(t.enabled for t in db_session.scalars(select(ProbeTarget).where(mine)))

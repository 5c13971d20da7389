"""Metering against the real dev cloud: a department's vCPU-hours match Nova's os-simple-tenant-usage.

A server (and a volume) is created in a fresh department project; the collector samples the
cloud three times through provisioner.cloud; the metered vCPU-hours of the window are compared with
os-simple-tenant-usage for the same window. Nothing is mocked.
"""
import time
from decimal import Decimal

import pytest

from portal.models.accounts import Department
from portal.services import metering
from portal.services.rating import UNASSIGNED
from provisioner.cloud import Cloud

pytestmark = pytest.mark.devcloud
WAIT = 180
SAMPLE_PAUSE = 8  # seconds between samples (a short window; the comparison is relative)


def _delete_server(conn, server):
    conn.compute.delete_server(server, ignore_missing=True)
    conn.compute.wait_for_delete(server, wait=WAIT)


def test_vcpu_hours_match_simple_tenant_usage(app, cloud, run_id, cleanup, db_session, seed):
    from tests.integration.conftest import clouds_yaml
    from portal.models.requests import CloudResource, ResourceRequest

    project = cloud.identity.create_project(name=f"govcloud-bill-{run_id}", domain_id="default")
    cleanup(lambda: cloud.identity.delete_project(project))
    cloud.identity.assign_project_role_to_user(project, cloud.current_user_id, cloud.identity.find_role("member"))
    conn = cloud.connect_as_project({"id": project.id, "name": None, "domain_id": "default"})
    cleanup(conn.close)
    net = conn.network.create_network(name=f"net-{run_id}")
    cleanup(lambda: conn.network.delete_network(net))
    subnet = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.31.0.0/24", name=f"sn-{run_id}")
    cleanup(lambda: conn.network.delete_subnet(subnet))
    flavor = conn.compute.find_flavor("m1.small")
    image = conn.image.find_image("cirros-devcloud")
    server = conn.compute.create_server(name=f"vm-{run_id}", flavor_id=flavor.id, image_id=image.id,
                                        networks=[{"uuid": net.id}])
    cleanup(lambda: _delete_server(conn, server))
    volume = conn.block_storage.create_volume(size=1, name=f"vol-{run_id}")
    cleanup(lambda: conn.block_storage.delete_volume(volume, ignore_missing=True))
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=WAIT)
    conn.block_storage.wait_for_status(volume, status="available", wait=WAIT)

    # the department owns the project; the server belongs to one of its systems
    dept = db_session.get(Department, seed.dept_a)
    dept.openstack_project_id = project.id
    system = ResourceRequest(number=f"BILL-{run_id}", department_id=dept.id, system_name="计费核对系统",
                             state="provisioned")
    db_session.add(system)
    db_session.flush()
    db_session.add(CloudResource(department_id=dept.id, system_id=system.id, kind="server",
                                 key=f"server:{run_id}", name=server.name, openstack_id=server.id))
    db_session.commit()

    gc_cloud = Cloud(str(clouds_yaml()), "devcloud")
    cleanup(gc_cloud.close)
    runs = []
    for i in range(3):
        if i:
            time.sleep(SAMPLE_PAUSE)
        runs.append(metering.collect(db_session, gc_cloud, metering_now()))
        db_session.commit()
    assert [r.state for r in runs] == ["baseline", "ok", "ok"]
    start, end = runs[0].interval_end, runs[-1].interval_end

    records = metering.usage_between(db_session, dept.id, start, end)
    by_type = {}
    for rec in records:
        seconds = int((rec.interval_end - rec.interval_start).total_seconds())
        by_type.setdefault((rec.system_name, rec.resource_type), 0)
        by_type[(rec.system_name, rec.resource_type)] += rec.quantity * seconds
    metered_vcpu_hours = Decimal(by_type[("计费核对系统", "vcpu")]) / 3600
    assert by_type[("计费核对系统", "ram")] == flavor.ram * int((end - start).total_seconds())
    assert by_type[(UNASSIGNED, "volume:" + (conn.block_storage.get_volume(volume).volume_type or "default"))] \
        == 1 * int((end - start).total_seconds())

    nova = gc_cloud.simple_tenant_usage(project.id, start, end)
    assert nova["servers"] == 1
    nova_vcpu_hours = Decimal(str(nova["vcpu_hours"]))
    difference = abs(metered_vcpu_hours - nova_vcpu_hours) / nova_vcpu_hours
    print(f"\nmetered vCPU-hours {metered_vcpu_hours:.6f}, os-simple-tenant-usage {nova_vcpu_hours:.6f}, "
          f"difference {difference * 100:.3f} %")
    assert difference < Decimal("0.01")

    # the scheduler's job does the same sampling and records its run
    from sqlalchemy import select

    from scheduler import runtime
    from scheduler.billing_jobs import collect_usage
    from portal.models.billing import MeteringRun
    from portal.models.operations import JobRun
    runtime.configure({**app.config, "CLOUDS_YAML": str(clouds_yaml()), "CLOUD": "devcloud"},
                      app.extensions["govcloud_db"][0])
    time.sleep(1)  # samples are whole seconds: the job's must fall after the last one
    result = collect_usage()
    assert not result.failed, result.summary
    db_session.expire_all()
    job_run = db_session.scalars(select(JobRun).where(JobRun.job_id == "collect_usage")).one()
    assert job_run.outcome == "success"
    newest = db_session.scalars(select(MeteringRun).order_by(MeteringRun.interval_end.desc())).first()
    assert newest.state == "ok" and newest.interval_start == end


def metering_now():
    from portal.database import utcnow
    return utcnow()

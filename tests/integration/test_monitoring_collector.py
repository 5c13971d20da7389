"""The collector against the real dev cloud: all-projects listings, calls independent of projects."""
import pytest
from sqlalchemy import select

from monitoring.collector import collect_and_store
from portal.models.accounts import Department
from portal.models.operations import InventorySnapshot
from provisioner.cloud import Cloud

pytestmark = pytest.mark.devcloud


def test_collection_cycle_calls_do_not_grow_with_projects(cloud, run_id, cleanup, db_session, seed):
    ours = Cloud.from_config({})
    try:
        ours.monitoring_inventory()  # first cycle: token and endpoint discovery
        before = ours.monitoring_inventory()["api_calls"]
        projects = []
        for i in range(6):
            project = cloud.identity.create_project(name=f"govcloud-mon-{run_id}-{i}", domain_id="default")
            cleanup(lambda p=project: cloud.identity.delete_project(p))
            network = cloud.network.create_network(name=f"mon-{run_id}-{i}", project_id=project.id)
            cleanup(lambda n=network: cloud.network.delete_network(n))
            projects.append(project)
        inventory = ours.monitoring_inventory()
        # a listing that turns from empty to not empty may cost one more page (other tests run on
        # the same cloud); a per-project design would cost at least 6 more calls here
        assert inventory["api_calls"] - before <= 3, "a collection cycle must not call per project"
        assert {n["project_id"] for n in inventory["networks"]} >= {p.id for p in projects}
        assert inventory["services"]["compute"] == 1 and inventory["capacity"]["vcpus"]["total"] > 0

        dept = db_session.get(Department, seed.dept_a)
        dept.openstack_project_id = projects[0].id
        db_session.commit()
        snapshot = collect_and_store(db_session, {}, cloud=ours)
    finally:
        ours.close()
    stored = db_session.scalars(select(InventorySnapshot).order_by(InventorySnapshot.id.desc())).first()
    assert stored.id == snapshot.id and stored.api_calls - before <= 3
    assert stored.departments["DEPT-A"]["networks"] == 1
    assert stored.services["network"] == 1


def test_each_openstack_endpoint_gets_a_probe_that_passes(db_session, settings_for_probes):
    from monitoring.jobs import probe_cycle
    from portal.models.operations import ProbeTarget
    from portal.services.probes import sync_platform_targets

    for target in db_session.scalars(select(ProbeTarget)):
        target.enabled = False
    db_session.commit()
    ours = Cloud.from_config({})
    try:
        endpoints = ours.public_endpoints()
    finally:
        ours.close()
    assert any("compute" in types for types in endpoints.values())
    assert all(url.count("/") == 3 for url in endpoints)  # roots: no project ids in the URL
    added, _ = sync_platform_targets(db_session, endpoints)
    assert added == len(endpoints)
    assert sync_platform_targets(db_session, endpoints) == (0, 0)
    checked, failing = probe_cycle(db_session, settings_for_probes)
    assert checked == len(endpoints) and failing == 0
    targets = db_session.scalars(select(ProbeTarget).where(ProbeTarget.kind == "openstack_api")).all()
    assert all(t.state == "up" and t.department_id is None for t in targets)


@pytest.fixture
def settings_for_probes():
    return {"PROBE_TIMEOUT_SECONDS": 5}

"""The collector against the real dev cloud: all-projects listings, calls independent of projects."""
import pytest
from sqlalchemy import select

from monitoring.collector import collect_and_store
from portal.models import Department
from portal.ops_models import InventorySnapshot
from provisioner.cloud import Cloud, monitoring_inventory

pytestmark = pytest.mark.devcloud


def test_collection_cycle_calls_do_not_grow_with_projects(cloud, run_id, cleanup, db_session, seed):
    ours = Cloud.from_config({})
    try:
        monitoring_inventory(ours)  # first cycle: token and endpoint discovery
        before = monitoring_inventory(ours)["api_calls"]
        projects = []
        for i in range(3):
            project = cloud.identity.create_project(name=f"govcloud-mon-{run_id}-{i}", domain_id="default")
            cleanup(lambda p=project: cloud.identity.delete_project(p))
            network = cloud.network.create_network(name=f"mon-{run_id}-{i}", project_id=project.id)
            cleanup(lambda n=network: cloud.network.delete_network(n))
            projects.append(project)
        inventory = monitoring_inventory(ours)
        assert inventory["api_calls"] == before, "a collection cycle must not call per project"
        assert {n["project_id"] for n in inventory["networks"]} >= {p.id for p in projects}
        assert inventory["services"]["compute"] == 1 and inventory["capacity"]["vcpus"]["total"] > 0

        dept = db_session.get(Department, seed.dept_a)
        dept.openstack_project_id = projects[0].id
        db_session.commit()
        snapshot = collect_and_store(db_session, {}, cloud=ours)
    finally:
        ours.close()
    stored = db_session.scalars(select(InventorySnapshot).order_by(InventorySnapshot.id.desc())).first()
    assert stored.id == snapshot.id and stored.api_calls == before
    assert stored.departments["DEPT-A"]["networks"] == 1
    assert stored.services["network"] == 1

"""Metering aggregation as pure logic: attribution to systems, 未归属, projects of no department."""
from portal.services.metering import aggregate
from portal.services.rating import UNASSIGNED


def test_aggregate_attributes_to_systems_and_unassigned():
    inventory = {
        "servers": [{"id": "s1", "project_id": "p1", "status": "ACTIVE", "vcpus": 2, "ram_mib": 4096},
                    {"id": "s2", "project_id": "p1", "status": "SHUTOFF", "vcpus": 1, "ram_mib": 512},
                    {"id": "s3", "project_id": "p1", "status": "ERROR", "vcpus": 8, "ram_mib": 512},
                    {"id": "s4", "project_id": "px", "status": "ACTIVE", "vcpus": 8, "ram_mib": 512}],
        "volumes": [{"id": "v1", "project_id": "p1", "size_gib": 20, "volume_type": "ssd"},
                    {"id": "v2", "project_id": "p1", "size_gib": 5, "volume_type": ""}],
        "snapshots": [{"id": "sn1", "project_id": "p1", "size_gib": 20, "volume_id": "v1"}],
        "backups": [{"id": "b1", "project_id": "p1", "size_gib": 20, "volume_id": "v9"}],
        "floating_ips": [{"id": "f1", "project_id": "p1", "port_id": None}],
    }
    totals, counted, unknown = aggregate(inventory, {"p1": 7}, {"s1": (3, "办公系统"), "v1": (3, "办公系统")})
    assert totals == {
        (7, 3, "办公系统", "vcpu"): 2, (7, 3, "办公系统", "ram"): 4096,
        (7, None, UNASSIGNED, "vcpu"): 1, (7, None, UNASSIGNED, "ram"): 512,
        (7, 3, "办公系统", "volume:ssd"): 20, (7, None, UNASSIGNED, "volume:default"): 5,
        (7, 3, "办公系统", "snapshot"): 20,  # follows its volume
        (7, None, UNASSIGNED, "backup"): 20, (7, None, UNASSIGNED, "floating_ip"): 1,
    }
    assert unknown == 1 and counted == 9

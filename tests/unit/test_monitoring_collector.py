"""The collector's aggregation: per department and status, unassigned projects kept apart."""
from monitoring.collector import UNASSIGNED, aggregate


def test_aggregate_by_department_and_status():
    inventory = {
        "servers": [{"id": "s1", "project_id": "pa", "status": "ACTIVE", "vcpus": 2, "ram_mib": 4096},
                    {"id": "s2", "project_id": "pa", "status": "SHUTOFF", "vcpus": 4, "ram_mib": 8192},
                    {"id": "s3", "project_id": "px", "status": "ACTIVE", "vcpus": 1, "ram_mib": 1024}],
        "volumes": [{"project_id": "pa", "status": "in-use", "size_gib": 10}],
        "floating_ips": [{"project_id": "pa", "status": "ACTIVE"}],
        "backups": [{"project_id": "pa", "status": "available", "created_at": 100.0},
                    {"project_id": "pa", "status": "error", "created_at": 200.0}],
    }
    departments, statuses = aggregate(inventory, {"pa": "DEPT-A"})
    a = departments["DEPT-A"]
    assert a["servers"] == {"ACTIVE": 1, "SHUTOFF": 1}
    assert a["vcpus"] == 6 and a["ram_bytes"] == 12 * 1024 ** 3
    assert a["volume_bytes"] == 10 * 1024 ** 3 and a["floating_ips"] == 1
    assert a["backups"] == 2 and a["last_backup_at"] == 100.0  # only available backups count
    assert departments[UNASSIGNED]["servers"] == {"ACTIVE": 1}
    assert statuses == {"s1": "ACTIVE", "s2": "SHUTOFF", "s3": "ACTIVE"}

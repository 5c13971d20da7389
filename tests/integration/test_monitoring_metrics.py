"""/metrics: served from the database and the inventory snapshot; small label sets."""
from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from portal.database import utcnow
from portal.models.operations import InventorySnapshot, JobRun, ProbeTarget


def _families(text):
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_metrics_from_snapshot_and_database(app, client, db_session, seed):
    now = utcnow()
    db_session.add(InventorySnapshot(
        taken_at=now, api_calls=9, duration_seconds=0.4,
        departments={"DEPT-A": {"servers": {"ACTIVE": 3, "SHUTOFF": 1}, "vcpus": 8, "ram_bytes": 16 << 30,
                                "volumes": {"in-use": 2}, "volume_bytes": 100 << 30, "floating_ips": 1,
                                "last_backup_at": (now - timedelta(hours=3)).timestamp()}},
        services={"compute": 1, "volumev3": 0}, capacity={"vcpus": {"used": 8, "total": 64}},
        server_statuses={"x": "ACTIVE"}))
    target = db_session.get(ProbeTarget, seed.extra["target_id"][0])
    target.last_ok, target.last_latency_ms, target.last_checked_at = False, 12, now
    db_session.add(JobRun(job_id="run_probes", started_at=now, duration_seconds=0.1, outcome="success"))
    db_session.commit()

    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    fams = _families(response.get_data(as_text=True))
    servers = {(s.labels["department"], s.labels["status"]): s.value for s in fams["govcloud_servers"].samples}
    assert servers == {("DEPT-A", "ACTIVE"): 3, ("DEPT-A", "SHUTOFF"): 1}
    assert {s.labels["service"]: s.value for s in fams["govcloud_cloud_service_up"].samples} == {
        "compute": 1, "volumev3": 0}
    assert fams["govcloud_inventory_snapshot_api_calls"].samples[0].value == 9
    probe = [s for s in fams["govcloud_probe_success"].samples if s.labels["department"] == "DEPT-A"]
    assert probe[0].value == 0 and probe[0].labels["system"] == "办公系统"
    open_incidents = {s.labels["department"]: s.value for s in fams["govcloud_incidents_open"].samples}
    assert open_incidents == {"DEPT-A": 1, "DEPT-B": 1}
    runs = {s.labels["scheduler_job"]: s.value for s in fams["govcloud_job_runs"].samples
            if s.name == "govcloud_job_runs_total"}
    assert runs["run_probes"] == 1
    sla = {(s.labels["department"], s.labels["system"]) for s in fams["govcloud_sla_availability_ratio"].samples}
    assert ("DEPT-A", "办公系统") in sla
    # labels are small sets: never a server, request, incident or target id
    for family in fams.values():
        for sample in family.samples:
            assert set(sample.labels) <= {"department", "status", "service", "resource", "state", "system",
                                          "kind", "scheduler_job", "outcome", "le", "reason"}, sample
    assert "govcloud_request_review_duration_seconds" in fams and "govcloud_requests" in fams


def test_usage_page_shows_each_department_its_own_slice(app, db_session, seed, login_as):
    db_session.add(InventorySnapshot(
        taken_at=utcnow(), api_calls=9, departments={
            "DEPT-A": {"servers": {"ACTIVE": 2}, "vcpus": 4, "ram_bytes": 8 << 30},
            "DEPT-B": {"servers": {"ACTIVE": 7}, "vcpus": 28, "ram_bytes": 56 << 30}},
        services={"compute": 1}, capacity={"vcpus": {"used": 32, "total": 64}}, server_statuses={}))
    db_session.commit()
    own = login_as("dept").get("/usage").get_data(as_text=True)
    assert "甲局" in own and "乙局" not in own and "capacity-table" not in own
    vendor = login_as("vendor").get("/usage").get_data(as_text=True)
    assert "甲局" in vendor and "乙局" in vendor and "capacity-table" in vendor and "usage-chart" in vendor

"""The vendor's operations pages: add a probe target, acknowledge an incident, record its root cause."""
from sqlalchemy import select

from portal.models.operations import Incident, ProbeTarget
from tests.conftest import csrf_token_from


def test_vendor_adds_a_probe_target_through_the_form(seed, login_as, db_session):
    vendor = login_as("vendor")
    token = csrf_token_from(vendor.get("/probes/new").get_data(as_text=True))
    response = vendor.post("/probes/new", data={
        "csrf_token": token, "department_id": seed.dept_a, "system_name": "政务服务网", "name": "https",
        "kind": "tcp", "host": "10.0.0.8", "port": "443", "failure_threshold": "3"})
    assert response.status_code == 302, response.get_data(as_text=True)
    target = db_session.scalars(select(ProbeTarget).where(ProbeTarget.system_name == "政务服务网")).one()
    assert target.settings == {"host": "10.0.0.8", "port": 443}
    # an SSH probe without a pinned host key is refused
    token = csrf_token_from(vendor.get("/probes/new").get_data(as_text=True))
    page = vendor.post("/probes/new", data={
        "csrf_token": token, "department_id": seed.dept_a, "system_name": "x", "name": "ssh", "kind": "ssh",
        "host": "10.0.0.8", "port": "22", "username": "ops", "key_path": "/etc/govcloud/id", "command": "true",
        "failure_threshold": "3"}).get_data(as_text=True)
    assert "host_key" in page
    assert db_session.scalars(select(ProbeTarget).where(ProbeTarget.system_name == "x")).first() is None
    detail = login_as("dept").get(f"/probes/{target.id}").get_data(as_text=True)
    assert "政务服务网" in detail
    assert login_as("dept_b").get(f"/probes/{target.id}").status_code == 404


def test_vendor_acknowledges_and_explains_an_incident(seed, login_as, db_session):
    incident_id = seed.extra["incident_id"][0]
    vendor = login_as("vendor")
    page = vendor.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert "ack-form" in page and "root-cause-form" in page
    vendor.post(f"/incidents/{incident_id}/acknowledge", data={"csrf_token": csrf_token_from(page), "note": "处理中"})
    page = vendor.get(f"/incidents/{incident_id}").get_data(as_text=True)
    vendor.post(f"/incidents/{incident_id}/root-cause",
                data={"csrf_token": csrf_token_from(page), "root_cause": "交换机端口故障"})
    incident = db_session.get(Incident, incident_id)
    db_session.refresh(incident)
    assert incident.state == "acknowledged" and incident.acknowledged_at is not None
    assert incident.root_cause == "交换机端口故障"
    assert [e.kind for e in incident.events][-2:] == ["acknowledged", "root_cause"]
    # the department reads the timeline but has no buttons
    own = login_as("dept").get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert "交换机端口故障" in own and "ack-form" not in own

"""The API of issue 17: the vendor opens, classifies and resolves incidents by hand; a department
answers a maintenance window that affects it. The same rules as the pages: 403 for a role the page
refuses, 404 outside the department, 422 for bad input (nothing changes), 409 for a second resolve."""
from datetime import datetime, timedelta, timezone

from portal.models.operations import Incident, MaintenanceResponse
from tests.integration.test_api_domains_operations import Api, api  # noqa: F401


def _incident(seed, **changes):
    return {"kind": "outage", "department_id": seed.dept_a, "system_name": "办公系统", "title": "办公系统不可用",
            "detail": "交换机故障", **changes}


def test_incidents_by_hand_through_the_api(api, seed):
    before = api.count(Incident)
    for role in ("dept", "bureau", "auditor", "admin"):
        assert api.post(role, "/incidents", _incident(seed)).status_code == 403, role
    future = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    for bad in (_incident(seed, kind="flood"), _incident(seed, title=""), _incident(seed, department_id=0),
                _incident(seed, department_id=999999), _incident(seed, started_at=future),
                _incident(seed, colour="red"), _incident(seed, system_name="x" * 121)):
        assert api.post("vendor", "/incidents", bad).status_code == 422, bad
    assert api.count(Incident) == before

    made = api.post("vendor", "/incidents", _incident(seed, kind="security"))
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert (body["kind"], body["state"], body["department_id"]) == ("security", "open", seed.dept_a)
    incident_id = body["id"]
    assert api.get("dept_b", f"/incidents/{incident_id}").status_code == 404
    assert api.get("dept", f"/incidents/{incident_id}").get_json()["kind"] == "security"

    assert api.post("vendor", f"/incidents/{incident_id}/kind", {"kind": "outage"}).get_json()["kind"] == "outage"
    assert api.post("dept", f"/incidents/{incident_id}/kind", {"kind": "backup"}).status_code == 403
    assert api.post("vendor", f"/incidents/{incident_id}/resolve", {"note": ""}).status_code == 422
    done = api.post("vendor", f"/incidents/{incident_id}/resolve", {"note": "更换交换机"})
    assert done.status_code == 200 and done.get_json()["state"] == "resolved"
    again = api.post("vendor", f"/incidents/{incident_id}/resolve", {"note": "再次"})
    assert again.status_code == 409, again.get_json()


def test_a_department_answers_a_window_through_the_api(api, seed):
    mine, theirs = seed.extra["window_id"]
    for role in ("bureau", "vendor", "auditor"):
        assert api.post(role, f"/maintenance-windows/{mine}/answer", {"answer": "agree"}).status_code == 403
    assert api.post("dept", f"/maintenance-windows/{theirs}/answer", {"answer": "agree"}).status_code == 404
    assert api.post("dept", f"/maintenance-windows/{mine}/answer", {"answer": "object"}).status_code == 422
    assert api.post("dept", f"/maintenance-windows/{mine}/answer", {"answer": "maybe"}).status_code == 422
    assert api.count(MaintenanceResponse) == 0
    answered = api.post("dept", f"/maintenance-windows/{mine}/answer", {"answer": "object", "reason": "结账期"})
    assert answered.status_code == 200 and answered.get_json()["id"] == mine
    assert api.count(MaintenanceResponse, MaintenanceResponse.answer == "object") == 1

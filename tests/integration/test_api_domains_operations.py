"""The API of the running cloud (portal/api/domains_operations.py): cloud resources, usage, SLA,
statements and reports, incidents, maintenance windows. Each domain: a department sees only its
own objects (another's answer 404), the bureau and the auditor see all, a role the page refuses
gets 403, a write writes one audit event, a refused write changes nothing, and the pages of a
list are bounded (400 outside)."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models.accounts import User
from portal.models.audit import AuditEvent
from portal.models.billing import MeteringRun, Statement, UsageRecord
from portal.models.operations import Incident, InventorySnapshot, MaintenanceWindow
from portal.models.requests import CloudResource
from portal.services.api_tokens import create_token
from portal.services.audit import RequestInfo

BAD_PAGES = ("per_page=0", "per_page=101", "page=0", "per_page=-1", "page=abc")


class Api:
    """A test client calling /api/v1 as a seeded user (by key)."""

    def __init__(self, app, seed):
        self.app, self.seed, self.client, self.tokens = app, seed, app.test_client(), {}

    def _headers(self, key):
        if key not in self.tokens:
            with self.app.app_context():
                user = db.session.get(User, self.seed.user_ids[key])
                self.tokens[key] = create_token(db.session, RequestInfo(actor=user), user, "test", scope="write", days=1)[1]
        return {"Authorization": f"Bearer {self.tokens[key]}"}

    def get(self, key, path):
        return self.client.get("/api/v1" + path, headers=self._headers(key))

    def post(self, key, path, body=None, **kwargs):
        return self.client.post("/api/v1" + path, json=body, headers={**self._headers(key), **kwargs.pop("headers", {})},
                                **kwargs)

    def count(self, model, *where):
        with self.app.app_context():
            return db.session.scalar(select(func.count()).select_from(model).where(*where))

    def events(self, object_type):
        return self.count(AuditEvent, AuditEvent.object_type == object_type)

    def add(self, *rows):
        with self.app.app_context():
            db.session.add_all(rows)
            db.session.commit()
            return [r.id for r in rows]


@pytest.fixture
def api(app, seed):
    return Api(app, seed)


def ids(response):
    assert response.status_code == 200, response.get_json()
    return sorted(item["id"] for item in response.get_json()["items"])


def assert_pages_bounded(api, path):
    for query in BAD_PAGES:
        response = api.get("dept", f"{path}?{query}")
        assert response.status_code == 400, (path, query)
        assert response.get_json()["code"] == "invalid"
    assert api.get("dept", f"{path}?per_page=100").status_code == 200


# -- cloud resources

def test_resources_are_scoped_filtered_and_paginated(api, seed):
    system_a = seed.extra["request_id"][0]
    seeded_a, seeded_b = seed.extra["resource_id"]  # a server of each department (tests/grants_seed.py)
    a_server, a_volume, a_gone, b_server = api.add(
        CloudResource(department_id=seed.dept_a, system_id=system_a, kind="server", key="server:R1:web-1",
                      name="gc-web-1", openstack_id="a" * 32, attributes={"flavor": "m1.tiny"}),
        CloudResource(department_id=seed.dept_a, system_id=system_a, kind="volume", key="volume:R1:web-1:d1",
                      name="gc-web-1-d1", openstack_id="b" * 32),
        CloudResource(department_id=seed.dept_a, kind="server", key="server:R0:old-1", name="gc-old-1",
                      deleted=True),
        CloudResource(department_id=seed.dept_b, kind="server", key="server:R2:db-1", name="gc-db-1"))

    assert ids(api.get("dept", "/resources")) == [seeded_a, a_server, a_volume]
    assert ids(api.get("dept", "/resources?deleted=true")) == [a_gone]
    assert ids(api.get("dept", "/resources?kind=volume")) == [a_volume]
    assert ids(api.get("dept", f"/resources?system_id={system_a}&q=web-1-d")) == [a_volume]
    page = api.get("dept", "/resources?per_page=1&page=3").get_json()
    assert (page["page"], page["pages"], page["total"], [i["id"] for i in page["items"]]) == (3, 3, 3, [a_volume])
    one = api.get("dept", f"/resources/{a_server}").get_json()
    assert (one["name"], one["kind"], one["system_id"], one["attributes"]) == ("gc-web-1", "server", system_a,
                                                                               {"flavor": "m1.tiny"})
    assert api.get("dept", f"/resources/{b_server}").status_code == 404
    assert api.get("dept_b", f"/resources/{a_server}").status_code == 404
    assert ids(api.get("dept_b", "/resources")) == [seeded_b, b_server]
    for role in ("bureau", "auditor", "vendor", "admin"):
        assert ids(api.get(role, "/resources")) == sorted([seeded_a, seeded_b, a_server, a_volume, b_server])
        assert api.get(role, f"/resources/{b_server}").get_json()["department_id"] == seed.dept_b
    for query in ("kind=vm", "system_id=0", "deleted=maybe", "q=" + "x" * 101, "colour=red"):
        assert api.get("dept", f"/resources?{query}").status_code == 400, query
    assert_pages_bounded(api, "/resources")


# -- usage and SLA

def test_usage_of_a_month_per_system_and_the_current_snapshot(api, seed):
    start = datetime(2026, 1, 10, tzinfo=timezone.utc)
    (run,) = api.add(MeteringRun(interval_start=start, interval_end=start + timedelta(hours=1)))
    system_a = seed.extra["request_id"][0]
    api.add(UsageRecord(run_id=run, department_id=seed.dept_a, system_id=system_a, system_key=str(system_a),
                        system_name="办公系统", resource_type="vcpu", quantity=2, interval_start=start,
                        interval_end=start + timedelta(hours=1)),
            UsageRecord(run_id=run, department_id=seed.dept_b, system_id=None, system_key="",
                        system_name="未归属", resource_type="ram", quantity=4096, interval_start=start,
                        interval_end=start + timedelta(hours=1)),
            InventorySnapshot(departments={"DEPT-A": {"vcpus": 6, "ram_bytes": 8 * 1024 ** 3, "floating_ips": 1},
                                           "DEPT-B": {"vcpus": 3}},
                              capacity={"vcpu": {"used": 9, "total": 100}}, services={"compute": 1}))

    a = api.get("dept", "/usage?year=2026&month=1").get_json()
    assert (a["year"], a["month"]) == (2026, 1)
    assert a["items"] == [{"department_id": seed.dept_a, "system_id": system_a, "system_name": "办公系统",
                           "resource_type": "vcpu", "unit_hours": "2.0000"}]
    every = api.get("auditor", "/usage?year=2026&month=1").get_json()["items"]
    assert [(i["department_id"], i["resource_type"], i["unit_hours"]) for i in every] == [
        (seed.dept_a, "vcpu", "2.0000"), (seed.dept_b, "ram", "4.0000")]
    assert api.get("bureau", "/usage?year=2026&month=2").get_json()["items"] == []
    for query in ("month=13", "year=1999", "year=2026.5", "month=1&month=2"):
        assert api.get("dept", f"/usage?{query}").status_code == 400, query

    now = api.get("dept", "/usage/current").get_json()
    assert [(d["code"], d["vcpus"], d["ram_gib"]) for d in now["departments"]] == [("DEPT-A", 6, 8.0)]
    assert now["capacity"] == {} and now["services"] == {}
    platform = api.get("bureau", "/usage/current").get_json()
    assert [d["code"] for d in platform["departments"]] == ["DEPT-A", "DEPT-B"]
    assert platform["capacity"] == {"vcpu": {"used": 9, "total": 100}}


def test_sla_of_a_month_is_scoped(api, seed):
    mine = api.get("dept", "/sla").get_json()
    assert [(f["department_id"], f["system_name"], f["incidents"]) for f in mine["items"]] == [
        (seed.dept_a, "办公系统", 1)]
    assert mine["target"] == 0.999 and 0 < mine["items"][0]["ratio"] < 1
    for role in ("bureau", "auditor"):
        assert sorted(f["department_id"] for f in api.get(role, "/sla").get_json()["items"]) == sorted(
            [seed.dept_a, seed.dept_b])
    old = api.get("dept", "/sla?year=2000&month=1").get_json()
    assert (old["year"], old["month"], old["items"][0]["incidents"], old["items"][0]["ratio"]) == (2000, 1, 0, 1.0)
    assert api.get("dept", "/sla?month=0").status_code == 400


# -- statements and reports

def test_statements_scoped_and_transitions_bureau_only(api, seed):
    mine, theirs = seed.extra["statement_id"]
    assert ids(api.get("dept", "/statements")) == [mine]
    assert ids(api.get("dept_b", "/statements?year=2026&month=1")) == [theirs]
    assert api.get("dept", f"/statements/{theirs}").status_code == 404
    assert ids(api.get("dept", f"/statements?department_id={seed.dept_b}")) == []
    for role in ("bureau", "auditor"):
        assert ids(api.get(role, "/statements")) == sorted([mine, theirs])
        assert ids(api.get(role, f"/statements?department_id={seed.dept_b}")) == [theirs]
    one = api.get("dept", f"/statements/{mine}").get_json()
    assert (one["state"], one["total"], one["lines"], one["intact"]) == ("draft", "0.00", [], None)
    assert_pages_bounded(api, "/statements")
    assert api.get("dept", "/statements?state=paid").status_code == 400

    before = api.events("statement")
    for role in ("dept", "dept_admin", "vendor", "admin", "auditor"):
        assert api.post(role, f"/statements/{mine}/transition", {"action": "review"}).status_code == 403, role
    assert api.post("dept", f"/statements/{theirs}/transition", {"action": "review"}).status_code == 403
    for bad in ({"action": "approve"}, {"action": 1}, {"action": "review", "force": True}, {}, [],
                {"action": "review" * 1000}):
        assert api.post("bureau", f"/statements/{mine}/transition", bad).status_code == 422, bad
    assert api.post("bureau", f"/statements/{mine}/transition", data="action=review",
                    headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 415
    assert api.post("bureau", "/statements/999999/transition", {"action": "review"}).status_code == 404
    assert api.events("statement") == before
    assert api.count(Statement, Statement.state == "draft") == 2

    reviewed = api.post("bureau", f"/statements/{mine}/transition", {"action": "review"})
    assert reviewed.status_code == 200 and reviewed.get_json()["state"] == "reviewed"
    assert reviewed.get_json()["reviewed_by"] == "bureau1"
    assert api.events("statement") == before + 1
    frozen = api.post("bureau", f"/statements/{mine}/transition", {"action": "freeze"}).get_json()
    assert (frozen["state"], frozen["intact"], len(frozen["content_hash"])) == ("frozen", True, 64)
    refused = api.post("bureau", f"/statements/{mine}/transition", {"action": "reopen"})
    assert refused.status_code == 409 and refused.get_json()["code"] == "conflict"
    wrong = api.post("bureau", f"/statements/{theirs}/transition", {"action": "freeze"})  # a draft
    assert wrong.status_code == 409
    assert api.events("statement") == before + 2
    assert api.get("dept", f"/statements/{mine}").get_json()["state"] == "frozen"


def test_reports_list_read_and_download(api, seed):
    report_id = seed.extra["report_id"][0]
    for role in ("dept", "dept_b", "bureau", "auditor"):
        assert ids(api.get(role, "/reports")) == [report_id]
    assert ids(api.get("dept", "/reports?year=2025")) == []
    mine = api.get("dept", f"/reports/{report_id}").get_json()
    assert (mine["year"], mine["month"], [e["department_id"] for e in mine["entries"]]) == (2026, 1, [seed.dept_a])
    assert mine["totals"]["department"] == "合计"
    every = api.get("auditor", f"/reports/{report_id}").get_json()
    assert [e["department_id"] for e in every["entries"]] == [seed.dept_a, seed.dept_b]
    assert api.get("dept", "/reports/999999").status_code == 404
    assert_pages_bounded(api, "/reports")

    csv = api.get("dept", f"/reports/{report_id}/export.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "monthly-report-2026-01.csv" in csv.headers["Content-Disposition"]
    text = csv.get_data().decode("utf-8")
    assert text.startswith("\ufeff使用部门(单位),") and text.count("\n") == 3  # headings, 甲局's row, 合计
    xlsx = api.get("bureau", f"/reports/{report_id}/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"
    assert xlsx.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert api.get("dept", "/reports/999999/export.csv").status_code == 404


# -- incidents

def test_incidents_scoped_and_handled_by_the_vendor(api, seed):
    mine, theirs = seed.extra["incident_id"]
    assert ids(api.get("dept", "/incidents")) == [mine]
    assert ids(api.get("dept", "/incidents?state=active")) == [mine]
    assert ids(api.get("dept", "/incidents?state=resolved")) == []
    assert api.get("dept", f"/incidents/{theirs}").status_code == 404
    for role in ("bureau", "auditor", "vendor"):
        assert ids(api.get(role, "/incidents")) == sorted([mine, theirs])
    assert api.get("dept_b", f"/incidents/{theirs}").get_json()["title"] == "办公系统 · web"
    assert_pages_bounded(api, "/incidents")
    assert api.get("dept", "/incidents?state=closed").status_code == 400

    before = api.events("incident")
    for role in ("dept", "bureau", "admin", "auditor"):
        assert api.post(role, f"/incidents/{mine}/acknowledge", {}).status_code == 403, role
        assert api.post(role, f"/incidents/{mine}/root-cause", {"root_cause": "x"}).status_code == 403, role
    for bad in ({"note": 5}, {"note": "x" * 2001}, {"note": "ok", "state": "resolved"}, {"note": "a\x00b"}):
        assert api.post("vendor", f"/incidents/{mine}/acknowledge", bad).status_code == 422, bad
    for bad in ({}, {"root_cause": ""}, {"root_cause": "   "}, {"root_cause": 10 ** 30},
                {"root_cause": "x" * 4001}, {"root_cause": "x", "extra": 1}):
        assert api.post("vendor", f"/incidents/{mine}/root-cause", bad).status_code == 422, bad
    assert api.post("vendor", "/incidents/999999/acknowledge", {}).status_code == 404
    assert api.events("incident") == before
    assert api.count(Incident, Incident.state == "open") == 2

    acked = api.post("vendor", f"/incidents/{mine}/acknowledge", {"note": "在处理"})
    assert acked.status_code == 200
    body = acked.get_json()
    assert body["state"] == "acknowledged" and body["acknowledged_at"] is not None
    assert [(e["kind"], e["note"], e["actor_username"]) for e in body["events"]][-1] == (
        "acknowledged", "在处理", "vendor1")
    assert api.events("incident") == before + 1
    assert api.post("vendor", f"/incidents/{mine}/acknowledge", {}).status_code == 409
    assert api.events("incident") == before + 1

    cause = api.post("vendor", f"/incidents/{mine}/root-cause", {"root_cause": "交换机端口故障"})
    assert cause.status_code == 200 and cause.get_json()["root_cause"] == "交换机端口故障"
    assert api.events("incident") == before + 2
    assert api.get("dept", f"/incidents/{mine}").get_json()["root_cause"] == "交换机端口故障"


# -- maintenance windows

def _window(seed, **changes):
    start = datetime.now(timezone.utc) + timedelta(hours=1)
    return {"kind": "emergency", "title": "核心交换机更换", "department_ids": [seed.dept_a], "systems": ["办公系统"],
            "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat(),
            "reason": "硬件告警", "impact": "网络中断约10分钟", **changes}


def test_maintenance_windows_scoped_applied_by_the_vendor_decided_by_the_bureau(api, seed):
    mine, theirs = seed.extra["window_id"]
    assert ids(api.get("dept", "/maintenance-windows")) == [mine]
    assert api.get("dept", f"/maintenance-windows/{theirs}").status_code == 404
    for role in ("bureau", "auditor", "vendor"):
        assert ids(api.get(role, "/maintenance-windows")) == sorted([mine, theirs])
    one = api.get("dept", f"/maintenance-windows/{mine}").get_json()
    assert (one["title"], one["state"], one["department_ids"]) == ("存储扩容", "approved", [seed.dept_a])
    assert ids(api.get("bureau", "/maintenance-windows?state=submitted")) == []
    assert_pages_bounded(api, "/maintenance-windows")
    assert api.get("dept", "/maintenance-windows?state=open").status_code == 400

    windows, events = api.count(MaintenanceWindow), api.events("maintenance_window")
    for role in ("dept", "bureau", "admin", "auditor"):
        assert api.post(role, "/maintenance-windows", _window(seed)).status_code == 403, role
    naive = (datetime.now() + timedelta(hours=1)).replace(microsecond=0).isoformat()
    for bad in (_window(seed, department_ids=[10 ** 12]), _window(seed, department_ids=["1"]),
                _window(seed, department_ids=[999999]), _window(seed, department_ids=[]),
                _window(seed, starts_at=1_000_000_000), _window(seed, starts_at=naive),
                _window(seed, starts_at="9999-01-01T00:00:00+00:00"), _window(seed, title=""),
                _window(seed, kind="urgent"), _window(seed, colour="red"),
                _window(seed, ends_at=datetime.now(timezone.utc).isoformat()),
                _window(seed, ends_at=(datetime.now(timezone.utc) + timedelta(days=30)).isoformat()),
                _window(seed, kind="planned"), _window(seed, systems=["x" * 121]),
                _window(seed, department_ids=[seed.dept_a] * 201)):
        response = api.post("vendor", "/maintenance-windows", bad)
        assert response.status_code == 422, (bad, response.get_json())
    assert (api.count(MaintenanceWindow), api.events("maintenance_window")) == (windows, events)
    problem = api.post("vendor", "/maintenance-windows", _window(seed, starts_at=naive)).get_json()["problems"][0]
    assert problem == {"field": "starts_at", "message": "请写明时间及其时区，例如 2026-12-31T08:00:00+08:00。"}

    body = _window(seed)
    created = api.post("vendor", "/maintenance-windows", body, headers={"Idempotency-Key": "mw-1"})
    assert created.status_code == 201
    window = created.get_json()
    assert (window["state"], window["department_ids"], window["systems"]) == ("submitted", [seed.dept_a], ["办公系统"])
    replay = api.post("vendor", "/maintenance-windows", body, headers={"Idempotency-Key": "mw-1"})
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json()["id"] == window["id"]
    assert (api.count(MaintenanceWindow), api.events("maintenance_window")) == (windows + 1, events + 1)
    assert api.get("dept_b", f"/maintenance-windows/{window['id']}").status_code == 404
    assert api.get("dept", f"/maintenance-windows/{window['id']}").status_code == 200

    path = f"/maintenance-windows/{window['id']}/decision"
    for role in ("dept", "admin", "auditor"):
        assert api.post(role, path, {"decision": "approve"}).status_code == 403, role
    assert api.post("vendor", path, {"decision": "approve"}).status_code == 403  # the bureau approves
    for bad in ({"decision": "reject"}, {"decision": "postpone"}, {"decision": "approve", "note": 1},
                {"decision": "approve", "when": "now"}):
        assert api.post("bureau", path, bad).status_code == 422, bad
    assert api.events("maintenance_window") == events + 1
    approved = api.post("bureau", path, {"decision": "approve", "note": "同意"})
    assert approved.status_code == 200
    assert (approved.get_json()["state"], approved.get_json()["decision_note"]) == ("approved", "同意")
    assert api.events("maintenance_window") == events + 2
    assert api.post("bureau", path, {"decision": "reject", "note": "晚了"}).status_code == 409
    cancelled = api.post("vendor", path, {"decision": "cancel", "note": "设备未到"})
    assert cancelled.status_code == 200 and cancelled.get_json()["state"] == "cancelled"
    assert api.events("maintenance_window") == events + 3


def test_the_statement_page_freezes_a_statement_read_afresh(app, seed, login_as, api):
    """The page's freeze: loading the lines for the hash must not flush the frozen state first (was 409)."""
    from tests.conftest import csrf_token_from
    mine = seed.extra["statement_id"][0]
    client = login_as("bureau")
    for action in ("review", "freeze"):
        page = client.get(f"/billing/statements/{mine}").get_data(as_text=True)
        response = client.post(f"/billing/statements/{mine}/transition",
                               data={"csrf_token": csrf_token_from(page), "action": action})
        assert response.status_code == 302, action
    assert api.get("auditor", f"/statements/{mine}").get_json()["state"] == "frozen"


# -- the live inventory (issue 18)

def test_inventory_is_scoped_and_only_the_department_acts(api, seed):
    own, other = seed.extra["item_id"]
    listed = api.get("dept", "/inventory?kind=server").get_json()
    assert [i["id"] for i in listed["items"]] == [own] and listed["items"][0]["host"] is None
    assert api.get("dept", f"/inventory/{other}").status_code == 404
    vendor = api.get("vendor", "/inventory?kind=server&q=10.0.0.11").get_json()
    assert [i["id"] for i in vendor["items"]] == [other] and vendor["items"][0]["host"] == "devcloud"
    assert api.get("auditor", f"/inventory/{own}").status_code == 200
    for query in ("kind=vm", "per_page=101", "sort=id", "department_id=0", "q=" + "x" * 101):
        assert api.get("bureau", f"/inventory?{query}").status_code == 400, query
    assert api.post("auditor", f"/inventory/{own}/actions", {"action": "stop"}).status_code == 403
    assert api.post("bureau", f"/inventory/{own}/actions", {"action": "stop"}).status_code == 403
    assert api.post("dept", f"/inventory/{own}/actions", {"action": "explode"}).status_code == 422
    assert api.post("dept", f"/inventory/{own}/actions", {"action": "stop", "x": 1}).status_code == 422
    assert api.post("dept", f"/inventory/{other}/actions", {"action": "stop"}).status_code == 404
    assert api.post("vendor", f"/inventory/{own}/actions", {"action": "stop"}).status_code == 403  # no live grant
    assert api.count(AuditEvent, AuditEvent.action.like("server.%")) == 0  # nothing was done

"""Issue 15: the API's edge holds, on both database backends. Absurd numbers in every numeric field
of a create, a change and a review, oversized bodies and strings, control characters, malformed
JSON, bad pagination: each is refused with a 4xx that stores nothing and writes no audit event.
The error shape, WWW-Authenticate, Accept-Language, If-Match and Idempotency-Key.
(Concurrent decisions on PostgreSQL: test_api_edge_pg.py; a real gunicorn: test_api_edge_gunicorn.py.)"""
import time

import pytest
from sqlalchemy import func, select

from portal.models.accounts import User
from portal.models.audit import AuditEvent
from portal.models.requests import ResourceRequest
from portal.services.api_tokens import create_token
from portal.services.audit import RequestInfo
from tests.documents import API_DOCUMENTS

SPEC = {"servers": [{"name": "web", "flavor": "m1.tiny", "image": "cirros-devcloud", "count": 1,
                     "data_volumes": [1]}],
        "volumes": [{"name": "data", "size_gb": 1}],
        "rules": [{"port": "22", "protocol": "tcp", "source": "10.0.0.0/8"}], "floating_ips": 0}
BODY = {"system_name": "边界系统", "purpose": "测试", "security_level": 2, "spec": SPEC, "documents": API_DOCUMENTS}
ABSURD = [10 ** 9, 2 ** 64, 10 ** 400, -1, -2 ** 63, 1.5, 1e308, "2", "1e9", True, None, [], {}]
# where a number goes in a create/change body (a path into the body) and in a review
SPEC_NUMBERS = [("spec", "servers", 0, "count"), ("spec", "servers", 0, "data_volumes", 0),
                ("spec", "volumes", 0, "size_gb"), ("spec", "floating_ips")]
REVIEW_NUMBERS = [("counts", "web"), ("volume_sizes", "data"), ("floating_ips",)]


def with_value(body, path, value):
    """A deep copy of body with value put at path."""
    import copy
    out = copy.deepcopy(body)
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


@pytest.fixture
def tokens(app, seed):
    from portal.extensions import db
    out = {}
    with app.app_context():
        for key in ("dept", "dept_b", "bureau", "vendor"):
            user = db.session.get(User, seed.user_ids[key])
            out[key] = {"Authorization": f"Bearer {create_token(db.session, RequestInfo(actor=user), user, 'edge', scope='write', days=1)[1]}"}
    return out


def counts(app):
    from portal.extensions import db
    with app.app_context():
        db.session.expire_all()
        return (db.session.scalar(select(func.count()).select_from(ResourceRequest)),
                db.session.scalar(select(func.count()).select_from(AuditEvent).where(  # not the tokens' use,
                    AuditEvent.action.not_like("api_token.%"), AuditEvent.action != "access.denied",
                    AuditEvent.action.not_like("%.failed"))))  # nor the records of refusals and failures


def refused(response):
    return 400 <= response.status_code < 500 and response.get_json()["code"]


def submitted_request(api, tokens):
    created = api.post("/api/v1/requests", json={**BODY, "submit": True}, headers=tokens["dept"])
    assert created.status_code == 201, created.get_json()
    return created.get_json()["id"]


def test_absurd_numbers_in_every_numeric_field_are_refused_at_once_and_change_nothing(app, tokens):
    api = app.test_client()
    request_id = submitted_request(api, tokens)
    before = counts(app)
    slowest = 0.0
    calls = []
    for path in SPEC_NUMBERS + [("security_level",)]:
        for value in ABSURD:
            calls.append(("/api/v1/requests", with_value({**BODY, "submit": True}, path, value), tokens["dept"]))
    for path in REVIEW_NUMBERS:
        for value in ABSURD:
            if value is None and path == ("floating_ips",):
                continue  # null: the approval keeps the requested floating IPs
            calls.append((f"/api/v1/requests/{request_id}/review",
                          with_value({"decision": "approve", "counts": {}, "volume_sizes": {}}, path, value),
                          tokens["bureau"]))
    for url, body, headers in calls:
        started = time.perf_counter()
        response = api.post(url, json=body, headers=headers)
        slowest = max(slowest, time.perf_counter() - started)
        assert refused(response) == "invalid", (url, body, response.status_code, response.get_data()[:300])
        assert response.status_code == 422
        assert response.get_json()["problems"], body
    assert counts(app) == before  # no request, no audit event
    print(f"{len(calls)} absurd calls refused; slowest {slowest * 1000:.0f} ms")


def test_limits_come_from_the_settings_and_are_said_in_chinese(app, tokens):
    api = app.test_client()
    many = {**BODY, "spec": {**SPEC, "servers": [{"name": f"s{i}", "count": 20} for i in range(3)]}}
    response = api.post("/api/v1/requests", json=many, headers=tokens["dept"])
    assert response.status_code == 422
    assert response.get_json()["problems"] == [{"field": "spec", "message": "一个申请最多 50 台云主机。"}]
    app.config["REQUEST_MAX_SERVERS"] = 60
    try:
        assert api.post("/api/v1/requests", json=many, headers=tokens["dept"]).status_code == 201
    finally:
        app.config["REQUEST_MAX_SERVERS"] = 50
    english = api.post("/api/v1/requests", json=with_value(BODY, ("spec", "servers", 0, "count"), 21),
                       headers={**tokens["dept"], "Accept-Language": "en-US,en;q=0.9"})
    assert english.get_json()["problems"][0]["message"] == "A server group has at most 20 servers."


def test_strings_bodies_and_control_characters(app, tokens):
    api = app.test_client()
    before = counts(app)
    cases = [("system_name", "长" * 121), ("system_name", "a\x00b"), ("system_name", "两行\n名称"),
             ("purpose", "退格\x08"), ("purpose", "\x1b[31m红"), ("project_ref", "x" * 201),
             ("spec", "a string"), ("spec", [1, 2]), ("submit", "yes"), ("security_level", "high"),
             ("unknown_field", 1)]
    for field, value in cases:
        response = api.post("/api/v1/requests", json={**BODY, field: value}, headers=tokens["dept"])
        assert response.status_code == 422, (field, value)
        assert response.get_json()["problems"][0]["field"].startswith(field), response.get_json()
    big = api.post("/api/v1/requests", json={**BODY, "purpose": "长" * 200_000}, headers=tokens["dept"])
    assert big.status_code == 413 and big.get_json()["code"] == "payload_too_large"
    assert api.post("/api/v1/requests", data="{", content_type="application/json",
                    headers=tokens["dept"]).get_json()["code"] == "malformed"
    assert api.post("/api/v1/requests", data='{"system_name": NaN}', content_type="application/json",
                    headers=tokens["dept"]).status_code == 400
    assert api.post("/api/v1/requests", data="[" * 100_000, content_type="application/json",
                    headers=tokens["dept"]).status_code == 400
    form = api.post("/api/v1/requests", data={"system_name": "x"}, headers=tokens["dept"])
    assert form.status_code == 415 and form.get_json()["code"] == "unsupported_media_type"
    assert api.post("/api/v1/requests", json=[BODY], headers=tokens["dept"]).status_code == 422
    assert counts(app) == before


def test_the_web_form_refuses_a_huge_field_at_once(app, login_as):
    from tests.conftest import csrf_token_from
    dept = login_as("dept")
    before = counts(app)
    html = dept.get("/requests/new").get_data(as_text=True)
    started = time.perf_counter()
    response = dept.post("/requests/new", data={"csrf_token": csrf_token_from(html), "system_name": "长" * 5_000_000,
                                                "purpose": "x", "security_level": "2"})
    elapsed = time.perf_counter() - started
    assert response.status_code == 413 and "超过门户可接受的大小，未保存任何内容" in response.get_data(as_text=True)
    assert "长长长" not in response.get_data(as_text=True)  # the value is not sent back
    assert counts(app) == before
    print(f"a 15 MB form field refused in {elapsed * 1000:.0f} ms")


@pytest.mark.parametrize("query", ["per_page=0", "per_page=-1", "per_page=101", "page=0", "page=-3",
                                   "per_page=abc", "page=1.5", "kind=other", "q=" + "x" * 101,
                                   "page=1&page=2"])
def test_pagination_out_of_bounds_is_400(app, tokens, query):
    response = app.test_client().get(f"/api/v1/requests?{query}", headers=tokens["dept"])
    assert response.status_code == 400 and response.get_json()["code"] == "invalid"
    assert response.get_json()["problems"]


def test_error_shape_language_and_authentication(app, tokens, seed):
    api = app.test_client()
    anonymous = api.get("/api/v1/requests")
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert anonymous.get_json() == {"code": "unauthorized",
                                    "message": "需要有效的 API 令牌（Authorization: Bearer <令牌>）。"}
    english = api.get("/api/v1/requests", headers={"Accept-Language": "en"})
    assert english.get_json()["message"].startswith("A valid API token is required")
    other = seed.extra["request_id"][1]  # department B's draft
    for method in ("get", "patch"):
        response = getattr(api, method)(f"/api/v1/requests/{other}", json={}, headers=tokens["dept"])
        assert response.status_code == 404 and response.get_json()["code"] == "not_found"
    mine = seed.extra["request_id"][0]
    assert api.post(f"/api/v1/requests/{mine}/review", json={"decision": "approve"},
                    headers=tokens["dept"]).status_code == 403
    wrong_state = api.post(f"/api/v1/requests/{mine}/review", json={"decision": "reject", "comment": "否"},
                           headers=tokens["bureau"])
    assert wrong_state.status_code == 409 and wrong_state.get_json()["code"] == "conflict"
    assert api.put("/api/v1/requests", headers=tokens["dept"]).status_code == 405


def test_if_match_refuses_a_stale_version_with_the_current_one(app, tokens):
    api = app.test_client()
    created = api.post("/api/v1/requests", json=BODY, headers=tokens["dept"])
    rid, seen = created.get_json()["id"], created.headers["ETag"]
    assert api.get(f"/api/v1/requests/{rid}", headers=tokens["dept"]).headers["ETag"] == seen
    first = api.patch(f"/api/v1/requests/{rid}", json={"purpose": "甲改"}, headers={**tokens["dept"], "If-Match": seen})
    assert first.status_code == 200 and first.headers["ETag"] != seen
    before = counts(app)
    stale = api.patch(f"/api/v1/requests/{rid}", json={"purpose": "乙改"}, headers={**tokens["dept"], "If-Match": seen})
    assert stale.status_code == 409 and stale.get_json()["code"] == "stale"
    assert stale.get_json()["current"]["purpose"] == "甲改" and stale.headers["ETag"] == first.headers["ETag"]
    assert api.post(f"/api/v1/requests/{rid}/submit", headers={**tokens["dept"], "If-Match": seen}).status_code == 409
    assert counts(app) == before


def test_idempotency_key_replays_the_first_answer_and_creates_nothing(app, tokens):
    api = app.test_client()
    headers = {**tokens["dept"], "Idempotency-Key": "create-edge-0001"}
    before = counts(app)
    first = api.post("/api/v1/requests", json=BODY, headers=headers)
    after_first = counts(app)
    # the create and its two documents (附件1)
    assert first.status_code == 201 and after_first == (before[0] + 1, before[1] + 1 + len(BODY["documents"]))
    replay = api.post("/api/v1/requests", json=BODY, headers=headers)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json()["id"] == first.get_json()["id"]
    assert counts(app) == after_first
    other_body = api.post("/api/v1/requests", json={**BODY, "purpose": "别的"}, headers=headers)
    assert other_body.status_code == 422 and other_body.get_json()["code"] == "idempotency_key_reused"
    # a refused call does not keep the key: the corrected call with the same key then runs once
    key = {**tokens["dept"], "Idempotency-Key": "create-edge-0002"}
    bad = api.post("/api/v1/requests", json={**BODY, "submit": True, "spec": {}}, headers=key)
    assert bad.status_code == 422
    assert api.post("/api/v1/requests", json={**BODY, "submit": True, "spec": {}}, headers=key).status_code == 422
    assert counts(app) == after_first
    assert api.post("/api/v1/requests", json=BODY, headers={**tokens["dept"], "Idempotency-Key": "x" * 129}
                    ).status_code == 400
    # another user's identical key is theirs alone
    mine_b = api.post("/api/v1/requests", json=BODY, headers={**tokens["dept_b"], "Idempotency-Key": "create-edge-0001"})
    assert mine_b.status_code == 201 and mine_b.get_json()["id"] != first.get_json()["id"]

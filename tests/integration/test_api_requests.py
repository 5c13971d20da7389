"""The JSON API /api/v1: personal tokens (UI and CLI), the same permission checks as the pages,
OpenAPI document, JSON errors."""
import re
from datetime import date, timedelta

from tests.conftest import PASSWORD, csrf_token_from
from tests.documents import API_DOCUMENTS

SPEC = {"servers": [{"name": "web", "flavor": "m1.tiny", "image": "cirros-devcloud", "count": 1}],
        "rules": [{"port": "22", "protocol": "tcp", "source": "10.0.0.0/8"}]}


def post_token_form(client, name="ci", scope="write", days=30, password=PASSWORD):
    """Submit the token form (expiry `days` after today); return the response."""
    html = client.get("/requests/tokens").get_data(as_text=True)
    expires_on = (date.today() + timedelta(days=days)).isoformat()
    return client.post("/requests/tokens", data={"csrf_token": csrf_token_from(html), "name": name, "scope": scope,
                                                 "expires_on": expires_on, "password": password})


def ui_token(client, name="ci", scope="write", days=30):
    response = post_token_form(client, name, scope, days)
    match = re.search(r'id="new-token">(gct_[^<]+)<', response.get_data(as_text=True))
    assert match, "the new token is shown once"
    return match.group(1)


def test_whole_review_path_through_the_api(app, login_as):
    api = app.test_client()
    dept = {"Authorization": f"Bearer {ui_token(login_as('dept'))}"}
    bureau = {"Authorization": f"Bearer {ui_token(login_as('bureau'))}"}

    bad = api.post("/api/v1/requests", json={"system_name": "接口系统", "purpose": "测试", "spec": {}, "submit": True},
                   headers=dept)
    assert bad.status_code == 422 and bad.get_json()["code"] == "invalid"
    assert "servers" in [p["field"] for p in bad.get_json()["problems"]]

    created = api.post("/api/v1/requests", json={"system_name": "接口系统", "purpose": "测试", "spec": SPEC},
                       headers=dept)
    assert created.status_code == 201
    rid = created.get_json()["id"]
    assert api.post(f"/api/v1/requests/{rid}/review", json={"decision": "approve"}, headers=dept).status_code == 403
    assert api.post(f"/api/v1/requests/{rid}/review", json={"decision": "approve"},
                    headers=bureau).status_code == 409  # still a draft
    for document in API_DOCUMENTS:
        uploaded = api.post(f"/api/v1/requests/{rid}/documents", json=document, headers=dept)
        assert uploaded.status_code == 201, uploaded.get_json()
    assert sorted(d["purpose"] for d in uploaded.get_json()["documents"]) == ["construction_plan", "self_test"]
    submitted = api.post(f"/api/v1/requests/{rid}/submit", headers=dept)
    assert submitted.status_code == 200 and submitted.get_json()["state"] == "submitted"
    returned = api.post(f"/api/v1/requests/{rid}/review", json={"decision": "return", "comment": "补充材料"},
                        headers=bureau)
    assert returned.get_json()["state"] == "returned"
    patched = api.patch(f"/api/v1/requests/{rid}", json={"purpose": "测试（已补充）"}, headers=dept)
    assert patched.status_code == 200 and patched.get_json()["purpose"] == "测试（已补充）"
    api.post(f"/api/v1/requests/{rid}/submit", headers=dept)
    approved = api.post(f"/api/v1/requests/{rid}/review", json={"decision": "approve", "counts": {"web": 1}},
                        headers=bureau)
    body = approved.get_json()
    assert body["state"] == "approved" and body["version"] == 2
    assert [v["review_comment"] for v in body["versions"]] == ["补充材料", ""]
    assert api.get(f"/api/v1/requests/{rid}/receipt", headers=dept).status_code == 404
    assert api.get("/api/v1/requests?state=approved", headers=dept).get_json()["total"] == 1


def test_tokens_auditor_revocation_cli_and_openapi(app, seed, login_as):
    api = app.test_client()
    assert api.get("/api/v1/requests").status_code == 401
    assert api.get("/api/v1/requests", headers={"Authorization": "Bearer gct_nope"}).get_json()["code"] == "unauthorized"
    auditor = {"Authorization": f"Bearer {ui_token(login_as('admin'))}"}
    assert api.get("/api/v1/requests", headers=auditor).status_code == 200

    runner = app.test_cli_runner()
    result = runner.invoke(args=["api-token", "create", "--username", "auditor1", "--name", "report"])
    assert result.exit_code == 0, result.output
    auditor = {"Authorization": f"Bearer {result.output.strip()}"}
    assert api.get("/api/v1/requests", headers=auditor).status_code == 200
    assert api.post("/api/v1/requests", json={"system_name": "x"}, headers=auditor).status_code == 403

    client = login_as("dept")
    token = ui_token(client, "temp")
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/requests", headers=headers).status_code == 200
    html = client.get("/requests/tokens").get_data(as_text=True)
    token_id = re.findall(r"/requests/tokens/(\d+)/revoke", html)[0]
    client.post(f"/requests/tokens/{token_id}/revoke", data={"csrf_token": csrf_token_from(html)})
    assert api.get("/api/v1/requests", headers=headers).status_code == 401

    from portal.extensions import db
    from portal.models.requests import ApiToken
    with app.app_context():
        stored = {t.token_hash for t in db.session.query(ApiToken)}
    assert token not in stored and all(len(h) == 64 for h in stored)

    doc = api.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    rules = {r.rule.replace("<int:", "{").replace(">", "}")[len("/api/v1"):]
             for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1") and not r.rule.endswith("openapi.json")}
    assert rules == set(doc["paths"])

"""What used to leave no trace is in the audit log (issue 16): denied requests (bounded when they
flood), operations that failed and were rolled back, documents downloaded."""
import pytest
from sqlalchemy import select

from portal import audit_chain
from portal.audit_hooks import DenialLimiter
from portal.errors import WrongState
from portal.models.accounts import User
from portal.models.audit import AuditEvent
from portal.services import resource_requests
from portal.services.api_tokens import create_token
from portal.services.audit import RequestInfo

BODY = {"system_name": "审计测试系统", "purpose": "测试", "security_level": 2,
        "spec": {"servers": [{"name": "web", "flavor": "m1.small", "image": "cirros", "count": 1,
                              "data_volumes": []}], "volumes": [], "rules": [], "floating_ips": 0}}


def events(db_session, action):
    db_session.expire_all()
    return db_session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)).all()


def bearer(app, seed, key):
    from portal.extensions import db
    with app.app_context():
        user = db.session.get(User, seed.user_ids[key])
        token = create_token(db.session, RequestInfo(actor=user), user, "audit", scope="write", days=1)[1]
    return {"Authorization": f"Bearer {token}"}


def test_a_denied_page_is_recorded_and_a_flood_is_bounded(app, seed, login_as, db_session):
    client = login_as("dept")
    for _ in range(25):
        response = client.get("/reviews/")
        assert response.status_code == 403
    denied = events(db_session, "access.denied")
    assert len(denied) == 1
    ev = denied[0]
    assert (ev.actor_username, ev.outcome, ev.object_type, ev.object_id) == (
        seed.users["dept"], "denied", "endpoint", "reviews.index")
    assert ev.after == {"endpoint": "reviews.index", "method": "GET", "path": "/reviews/", "count": 1}
    # another endpoint is another key; the same one again after the interval carries the count
    assert client.get("/jobs").status_code == 403
    limiter = app.extensions["govcloud_audit_denials"]
    for key, (last, unrecorded) in list(limiter._seen.items()):
        limiter._seen[key] = (last - app.config["AUDIT_DENIAL_INTERVAL_SECONDS"] - 1, unrecorded)
    assert client.get("/reviews/").status_code == 403
    denied = events(db_session, "access.denied")
    assert [(e.object_id, e.after["count"]) for e in denied] == [
        ("reviews.index", 1), ("operations.job_list", 1), ("reviews.index", 25)]
    assert audit_chain.verify(db_session).ok


def test_a_denied_api_call_is_recorded(app, seed, db_session):
    api = app.test_client()
    headers = bearer(app, seed, "auditor")
    response = api.post("/api/v1/requests", json=BODY, headers=headers)
    assert response.status_code == 403
    response.close()
    [ev] = events(db_session, "access.denied")
    assert ev.actor_username == seed.users["auditor"] and ev.after["method"] == "POST"
    assert ev.object_id == "api.createRequest"


def test_the_limiter_bounds_its_memory():
    limiter = DenialLimiter(60, max_keys=3)
    assert [limiter.hit(k, now=0) for k in "abc"] == [1, 1, 1]
    assert limiter.hit("a", now=1) is None
    assert limiter.hit("d", now=2) == 1  # full: entries still in their interval are kept, else cleared
    assert len(limiter._seen) <= 3
    assert limiter.hit("d", now=70) == 1


def test_a_failed_api_operation_leaves_a_failed_event(app, seed, db_session, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise WrongState("提交被拒绝（测试）")
    monkeypatch.setattr(resource_requests, "submit_request", refuse)
    response = app.test_client().post("/api/v1/requests", json={**BODY, "submit": True},
                                      headers=bearer(app, seed, "dept"))
    assert response.status_code == 409, response.get_json()
    response.close()
    assert events(db_session, "request.create") == []  # rolled back with the request
    [failed] = events(db_session, "request.create.failed")
    assert failed.outcome == "failure" and failed.actor_username == seed.users["dept"]
    assert failed.department_id == seed.dept_a and failed.object_type == "resource_request"
    assert "WrongState" in failed.detail and "提交被拒绝" in failed.detail and "HTTP 409" in failed.detail
    assert failed.after is None
    assert audit_chain.verify(db_session).ok


def test_a_failed_page_operation_leaves_a_failed_event(app, seed, login_as, db_session, monkeypatch):
    from portal.services import departments
    from portal.services.audit import record_event
    from tests.conftest import csrf_token_from

    def fail_after_writing(session, ctx, department_id, data, on_change=None):  # fails after it audited
        record_event(session, ctx, "department.contacts_update", object_type="department",
                     object_id=department_id, department_id=department_id, after=data)
        session.flush()
        raise WrongState("保存失败（测试）")
    monkeypatch.setattr(departments, "update_contacts", fail_after_writing)
    client = login_as("bureau")
    page = client.get(f"/departments/{seed.dept_a}/contacts")
    assert page.status_code == 200
    response = client.post(f"/departments/{seed.dept_a}/contacts", data={
        "csrf_token": csrf_token_from(page.get_data(as_text=True)), "security_officer_name": "王安全",
        "security_officer_phone": "0571-2", "it_lead_name": "李信息", "it_lead_phone": "138",
        "emergency_contact_name": "赵应急", "emergency_contact_phone": "139"})
    assert response.status_code == 409
    assert events(db_session, "department.contacts_update") == []
    [failed] = events(db_session, "department.contacts_update.failed")
    assert failed.actor_username == seed.users["bureau"] and failed.department_id == seed.dept_a
    assert "保存失败" in failed.detail and failed.after is None  # the contacts are not copied


@pytest.mark.parametrize("what", ["attachment", "receipt"])
def test_a_download_is_recorded(app, seed, login_as, db_session, what):
    request_id, attachment_id, receipt_id = (seed.extra[k][0] for k in ("request_id", "attachment_id", "receipt_id"))
    url, object_type, object_id = {
        "attachment": (f"/requests/{request_id}/documents/{attachment_id}", "request_attachment", attachment_id),
        "receipt": (f"/requests/receipts/{receipt_id}/pdf", "delivery_receipt", receipt_id)}[what]
    response = login_as("dept").get(url)
    assert response.status_code == 200
    response.close()
    [ev] = events(db_session, "document.downloaded")
    assert (ev.object_type, ev.object_id, ev.department_id) == (object_type, str(object_id), seed.dept_a)
    assert ev.actor_username == seed.users["dept"] and ev.after["path"] == url
    # a document out of scope is not served and not recorded as downloaded
    other = login_as("dept_b").get(url)
    assert other.status_code == 404
    other.close()
    assert len(events(db_session, "document.downloaded")) == 1


def test_the_portals_own_assets_are_no_downloads(app, seed, login_as, db_session):
    """Flask answers a static file "inline; filename=..."; a page's scripts and styles are no documents."""
    client = login_as("dept")
    for path in ("/static/js/charts.js", "/static/vendor/uplot/uPlot.iife.min.js", "/static/css/portal.css"):
        response = client.get(path)
        assert response.status_code == 200 and "Content-Disposition" in response.headers
        response.close()
    assert events(db_session, "document.downloaded") == []

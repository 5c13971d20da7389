"""Issue 17, wrong result: a request was submitted and approved with no 建设方案 or 自测报告. A new
request (附件1) needs both documents, by type, before it is submitted and before it is approved;
the refusal says which one in Chinese and changes nothing (on both database backends)."""
import io

from sqlalchemy import func, select

from tests.documents import API_DOCUMENTS, PDF
from tests.integration.test_api_requests import ui_token
from tests.integration.test_requests_web import new_request, post, state_of

PLAN = "请上传建设方案：资源需求申请（附件1）须附此材料。"
REPORT = "请上传性能及安全自测报告：资源需求申请（附件1）须附此材料。"


def events(app, request_id, action):
    from portal.extensions import db
    from portal.models.audit import AuditEvent
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.object_type == "resource_request", AuditEvent.object_id == str(request_id),
            AuditEvent.action == action))


def upload(client, request_id, purpose, name):
    return post(client, f"/requests/{request_id}/upload", {"purpose": purpose, "document": (io.BytesIO(PDF), name)},
                page=f"/requests/{request_id}/edit", content_type="multipart/form-data")


def test_submit_needs_the_construction_plan_and_the_self_test_report(app, login_as):
    dept = login_as("dept")
    request_id = new_request(dept)
    edit = dept.get(f"/requests/{request_id}/edit").get_data(as_text=True)
    assert "必需材料" in edit and "建设方案（未上传）" in edit and "性能及安全自测报告（未上传）" in edit
    refused = post(dept, f"/requests/{request_id}/submit", {}, page=f"/requests/{request_id}", follow_redirects=True)
    html = refused.get_data(as_text=True)
    assert PLAN in html and REPORT in html
    assert state_of(app, request_id) == "draft" and events(app, request_id, "request.submit") == 0
    # one of the two is not enough: the page names the one still missing
    assert upload(dept, request_id, "self_test", "自测报告.pdf").status_code == 302
    html = post(dept, f"/requests/{request_id}/submit", {}, page=f"/requests/{request_id}",
                follow_redirects=True).get_data(as_text=True)
    assert PLAN in html and REPORT not in html and state_of(app, request_id) == "draft"
    assert upload(dept, request_id, "construction_plan", "建设方案.pdf").status_code == 302
    assert "建设方案（已上传）" in dept.get(f"/requests/{request_id}/edit").get_data(as_text=True)
    assert post(dept, f"/requests/{request_id}/submit", {}, page=f"/requests/{request_id}").status_code == 302
    assert state_of(app, request_id) == "submitted" and events(app, request_id, "request.submit") == 1


def test_the_api_refuses_a_submission_without_documents_and_stores_nothing(app, login_as):
    from portal.extensions import db
    from portal.models.requests import ResourceRequest
    api = app.test_client()
    dept = {"Authorization": f"Bearer {ui_token(login_as('dept'))}"}
    body = {"system_name": "材料系统", "purpose": "测试", "submit": True,
            "spec": {"servers": [{"name": "web", "flavor": "m1.tiny", "image": "cirros-devcloud", "count": 1}]}}
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(ResourceRequest))
    refused = api.post("/api/v1/requests", json=body, headers=dept)
    assert refused.status_code == 422
    assert [(p["field"], p["message"]) for p in refused.get_json()["problems"]] == [("document", PLAN),
                                                                                   ("document", REPORT)]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ResourceRequest)) == before
    created = api.post("/api/v1/requests", json={**body, "documents": API_DOCUMENTS}, headers=dept)
    assert created.status_code == 201 and created.get_json()["state"] == "submitted"
    assert len(created.get_json()["documents"]) == 2


def test_approval_needs_the_documents_too(app, seed, login_as):
    """A request that reached review without a document (made before the rule, or its file removed) is
    not approved: 422 through the API, a message on the page, and the request stays where it was."""
    from portal.extensions import db
    from portal.models.requests import ProvisioningJob, RequestAttachment, ResourceRequest
    request_id = seed.extra["request_id"][0]
    with app.app_context():
        db.session.execute(RequestAttachment.__table__.delete().where(
            RequestAttachment.request_id == request_id, RequestAttachment.purpose == "construction_plan"))
        db.session.get(ResourceRequest, request_id).spec = {
            "servers": [{"name": "web", "flavor": "m1.tiny", "image": "cirros-devcloud", "count": 1}]}
        db.session.get(ResourceRequest, request_id).state = "under_review"
        db.session.commit()
    bureau = login_as("bureau")
    api = app.test_client()
    headers = {"Authorization": f"Bearer {ui_token(bureau)}"}
    for decision in ("approve", "green_channel"):
        refused = api.post(f"/api/v1/requests/{request_id}/review", json={"decision": decision, "comment": "急"},
                           headers=headers)
        assert refused.status_code == 422 and refused.get_json()["message"] == PLAN, refused.get_json()
    html = post(bureau, f"/reviews/{request_id}/approve", {"comment": ""}, page=f"/reviews/{request_id}",
                follow_redirects=True).get_data(as_text=True)
    assert PLAN in html
    assert state_of(app, request_id) == "under_review"
    assert events(app, request_id, "request.approve") == 0 and events(app, request_id, "request.green_channel") == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProvisioningJob).where(
            ProvisioningJob.request_id == request_id)) == 0

"""Resource requests through the pages (both database backends): drafts, Chinese validation, uploads,
review decisions, green channel, and a second department locked out of every page."""
import io
import re

from sqlalchemy import select

from tests.conftest import csrf_token_from
from tests.documents import upload_required

FORM = {"system_name": "办公系统", "purpose": "日常办公", "security_level": "2",
        "servers-1-name": "web", "servers-1-flavor": "m1.tiny", "servers-1-image": "cirros-devcloud",
        "servers-1-count": "2", "rules-1-port": "443", "rules-1-protocol": "tcp", "rules-1-source": "0.0.0.0/0",
        "floating_ips": "0", "then": "save"}


def post(client, url, data, page=None, **kwargs):
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token_from(html), **data}, **kwargs)


def new_request(client, **over):
    response = post(client, "/requests/new", {**FORM, **over})
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    return int(response.headers["Location"].rstrip("/").split("/")[-2])


def with_documents(client, request_id):
    """Upload the construction plan and the self-test report (附件1) to a draft; return its id."""
    upload_required(client, request_id, csrf_token_from(client.get(f"/requests/{request_id}/edit").get_data(as_text=True)))
    return request_id


def state_of(app, request_id):
    from portal.extensions import db
    from portal.models.requests import ResourceRequest
    with app.app_context():
        db.session.expire_all()
        return db.session.get(ResourceRequest, request_id).state


def test_submit_shows_problems_in_chinese_and_keeps_the_draft(app, login_as):
    from portal.extensions import db
    from portal.models.requests import ResourceRequest
    dept = login_as("dept")
    with app.app_context():
        before = db.session.query(ResourceRequest).count()
    # a draft may be incomplete but never invalid: a bad source or count is refused and nothing is stored
    for over, message in (({"rules-1-source": "所有人"}, "请以 IPv4 网段填写允许访问的来源"),
                          ({"servers-1-count": "1000000000"}, "同一组云主机最多 20 台"), ({"servers-1-count": "1.5"}, "请填写不小于 1 的数")):
        refused = post(dept, "/requests/new", {**FORM, **over})
        assert refused.status_code == 200 and message in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(ResourceRequest).count() == before
    request_id = new_request(dept, **{"servers-1-flavor": ""})
    response = post(dept, f"/requests/{request_id}/submit", {}, page=f"/requests/{request_id}")
    assert response.status_code == 302
    html = dept.get(response.headers["Location"]).get_data(as_text=True)
    assert "申请暂不能提交" in html and "云主机 1：请选择云平台提供的规格。" in html
    assert state_of(app, request_id) == "draft"
    # the form lists the live catalog
    assert "m1.medium" in html and "cirros-devcloud" in html


def test_uploads_are_checked_by_content_and_kept_outside_the_web_root(app, login_as):
    import os
    dept = login_as("dept")
    request_id = new_request(dept)
    page = f"/requests/{request_id}/edit"
    fake = post(dept, f"/requests/{request_id}/upload", {"purpose": "self_test",
                "document": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "report.pdf")}, page=page,
                content_type="multipart/form-data", follow_redirects=True)
    assert "只能上传 PDF 和 Word/Excel 文档。" in fake.get_data(as_text=True)
    good = post(dept, f"/requests/{request_id}/upload", {"purpose": "self_test",
                "document": (io.BytesIO(b"%PDF-1.7\n" + b"x" * 100), "../../自测报告.pdf")}, page=page,
                content_type="multipart/form-data", follow_redirects=True)
    html = good.get_data(as_text=True)
    assert "材料已上传。" in html and "自测报告.pdf" in html
    from portal.extensions import db
    from portal.models.requests import RequestAttachment
    with app.app_context():
        att = db.session.scalars(select(RequestAttachment).where(RequestAttachment.request_id == request_id)).one()
        assert att.filename == "自测报告.pdf" and att.content_type == "application/pdf"
        stored = os.path.join(app.instance_path, "uploads", att.stored_name)
        assert os.path.exists(stored) and "static" not in stored
        att_id = att.id
    download = dept.get(f"/requests/{request_id}/documents/{att_id}")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    download.close()
    assert login_as("dept_b").get(f"/requests/{request_id}/documents/{att_id}").status_code == 404


def test_review_decisions_need_their_comments(app, login_as):
    dept, bureau = login_as("dept"), login_as("bureau")
    request_id = with_documents(dept, new_request(dept))
    assert post(dept, f"/requests/{request_id}/submit", {}, page=f"/requests/{request_id}").status_code == 302
    assert state_of(app, request_id) == "submitted"
    queue = bureau.get("/reviews/").get_data(as_text=True)
    assert "办公系统" in queue
    review = f"/reviews/{request_id}"
    html = post(bureau, f"/reviews/{request_id}/reject", {"comment": " "}, page=review,
                follow_redirects=True).get_data(as_text=True)
    assert "驳回申请必须填写驳回理由。" in html and state_of(app, request_id) == "submitted"
    html = post(bureau, f"/reviews/{request_id}/return", {"comment": ""}, page=review,
                follow_redirects=True).get_data(as_text=True)
    assert "退回修改必须填写退回意见。" in html
    assert post(bureau, f"/reviews/{request_id}/start", {}, page=review).status_code == 302
    assert state_of(app, request_id) == "under_review"
    assert post(bureau, f"/reviews/{request_id}/reject", {"comment": "与现有系统重复"}, page=review).status_code == 302
    assert state_of(app, request_id) == "rejected"
    detail = dept.get(f"/requests/{request_id}").get_data(as_text=True)
    assert "与现有系统重复" in detail and "已驳回" in detail
    from portal.extensions import db
    from portal.models.audit import AuditEvent
    with app.app_context():
        actions = [e.action for e in db.session.scalars(select(AuditEvent).where(
            AuditEvent.object_type == "resource_request", AuditEvent.object_id == str(request_id))
            .order_by(AuditEvent.id))]
    assert actions == ["request.create", "request.attach", "request.attach", "request.submit", "request.start_review",
                       "request.reject"]


def test_green_channel_queues_at_once_and_is_flagged(app, login_as):
    dept, bureau, vendor = login_as("dept"), login_as("bureau"), login_as("vendor")
    request_id = with_documents(dept, new_request(dept))
    post(dept, f"/requests/{request_id}/submit", {}, page=f"/requests/{request_id}")
    review = f"/reviews/{request_id}"
    assert post(bureau, f"/reviews/{request_id}/green-channel", {"comment": "防汛应急指挥"},
                page=review).status_code == 302
    assert state_of(app, request_id) == "approved"
    assert "绿色通道" in dept.get("/requests/?urgent=1").get_data(as_text=True)
    jobs = vendor.get("/provisioning/").get_data(as_text=True)
    assert "绿色通道" in jobs and "排队中" in jobs
    assert "审批待补办" in dept.get(f"/requests/{request_id}").get_data(as_text=True)
    assert post(bureau, f"/reviews/{request_id}/complete-approval", {"comment": "补办"},
                page=review).status_code == 302
    assert "审批待补办" not in dept.get(f"/requests/{request_id}").get_data(as_text=True)


def test_another_department_gets_403_or_404_everywhere(app, seed, login_as):
    """Every page and every API call of department A's request, as department B's users."""
    from portal.services.api_tokens import create_token
    from portal.services.audit import RequestInfo
    from portal.extensions import db
    from portal.models.accounts import User

    dept = login_as("dept")
    request_id = new_request(dept, system_name="甲局专用系统")
    receipt_id = seed.extra["receipt_id"][0]
    attachment_id = seed.extra["attachment_id"][0]
    with app.app_context():
        user_b = db.session.get(User, seed.user_ids["dept_b"])
        _t, token_b = create_token(db.session, RequestInfo(correlation_id="t"), user_b, "b",
                                  scope="write", days=1)
    for key in ("dept_b", "dept_b_admin"):
        other = login_as(key)
        token = csrf_token_from(other.get("/").get_data(as_text=True))
        for url in (f"/requests/{request_id}", f"/requests/{request_id}/edit",
                    f"/requests/{request_id}/decommission", f"/requests/{seed.extra['request_id'][0]}/documents/{attachment_id}",
                    f"/requests/receipts/{receipt_id}", f"/requests/receipts/{receipt_id}/pdf",
                    f"/reviews/{request_id}"):
            assert other.get(url).status_code in (403, 404), url
        for url in (f"/requests/{request_id}/edit", f"/requests/{request_id}/submit", f"/requests/{request_id}/cancel",
                    f"/requests/{request_id}/upload", f"/requests/{request_id}/change",
                    f"/requests/{request_id}/decommission", f"/requests/receipts/{receipt_id}/confirm",
                    f"/reviews/{request_id}/approve", f"/reviews/{request_id}/reject", f"/provisioning/{request_id}/retry"):
            assert other.post(url, data={"csrf_token": token}).status_code in (403, 404), url
        assert "甲局专用系统" not in other.get("/requests/").get_data(as_text=True)
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token_b}"}
    calls = [("get", f"/api/v1/requests/{request_id}", None), ("patch", f"/api/v1/requests/{request_id}", {}),
             ("post", f"/api/v1/requests/{request_id}/submit", {}), ("post", f"/api/v1/requests/{request_id}/cancel", {}),
             ("post", f"/api/v1/requests/{request_id}/review", {"decision": "approve"}),
             ("post", f"/api/v1/requests/{request_id}/change", {}),
             ("post", f"/api/v1/requests/{request_id}/decommission", {"reason": "x", "backup_confirmed": True}),
             ("get", f"/api/v1/requests/{request_id}/resources", None),
             ("get", f"/api/v1/requests/{seed.extra['request_id'][0]}/receipt", None),
             ("post", f"/api/v1/receipts/{receipt_id}/confirm", {})]
    for method, url, body in calls:
        response = getattr(api, method)(url, json=body, headers=headers)
        assert response.status_code in (403, 404), (method, url, response.status_code)
        assert set(response.get_json()) >= {"code", "message"}
    listing = api.get("/api/v1/requests", headers=headers).get_json()
    assert all(item["department_id"] == seed.dept_b for item in listing["items"])
    assert state_of(app, request_id) == "draft"


def test_two_editors_the_second_is_told_and_keeps_their_text(app, login_as):
    """Issue 15: the edit form carries the version its editor opened; a save over someone else's
    newer save is refused (409) with the editor's own text kept in the form, and nothing changes."""
    first, second = login_as("dept"), login_as("dept_member")
    request_id = new_request(first)
    page = f"/requests/{request_id}/edit"
    html_first, html_second = first.get(page).get_data(as_text=True), second.get(page).get_data(as_text=True)
    seen = re.search(r'name="seen" type="hidden" value="([0-9a-f]+)"', html_second).group(1)
    saved = first.post(page, data={**FORM, "purpose": "甲的修改", "csrf_token": csrf_token_from(html_first),
                                   "seen": seen})
    assert saved.status_code == 302
    stale = second.post(page, data={**FORM, "purpose": "乙的修改", "csrf_token": csrf_token_from(html_second),
                                    "seen": seen})
    html = stale.get_data(as_text=True)
    assert stale.status_code == 409 and "该申请已被他人修改" in html and "乙的修改" in html
    from portal.extensions import db
    from portal.models.requests import ResourceRequest
    with app.app_context():
        db.session.expire_all()
        assert db.session.get(ResourceRequest, request_id).purpose == "甲的修改"
    fresh = re.search(r'name="seen" type="hidden" value="([0-9a-f]+)"', html).group(1)
    assert fresh != seen  # saving again now, after comparing, is the editor's choice
    again = second.post(page, data={**FORM, "purpose": "乙的修改", "csrf_token": csrf_token_from(html), "seen": fresh})
    assert again.status_code == 302

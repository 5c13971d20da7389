"""Each role's workbench (工作台, issue 17) on both backends: what waits for it, each item linked to where it
is done and shown with its time limit (办理时限); the count in the navigation; reminders before and
escalation after; and the request form of 附件1 (bandwidth, documents at creation, the live estimate)."""
import io
import os
import re
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from portal.database import utcnow
from portal.models.billing import Rate
from portal.models.operations import Notification
from portal.models.requests import RequestAttachment, ResourceRequest
from portal.models.timelimits import TimeLimitNotice
from portal.services import timelimits
from portal.services.workcalendar import load_calendar, missing_years
from portal.workdays import as_local_date, deadline
from tests.conftest import csrf_token_from
from tests.integration.test_requests_web import FORM, post

PDF = b"%PDF-1.4\n% a plan\n"


def todo_links(html, table="todo-list"):
    """Return the hrefs of the action buttons of a workbench table."""
    part = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0] if f'id="{table}"' in html else ""
    return re.findall(r'class="btn btn-sm [^"]*" href="([^"]+)"', part)


def badge(html):
    match = re.search(r'id="todo-badge"[^>]*>(\d+)<', html)
    return int(match.group(1)) if match else 0


def calendar_todos(db_session):
    return len(missing_years(db_session))


def new_request(client, **over):
    """A draft with both documents of 附件1 (required at submission), sent with the form itself."""
    form = client.get("/requests/new").get_data(as_text=True)
    response = client.post("/requests/new", data={
        **FORM, **over, "csrf_token": csrf_token_from(form), "construction_plan_file": (io.BytesIO(PDF), "建设方案.pdf"),
        "self_test_file": (io.BytesIO(PDF), "自测报告.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    return int(response.headers["Location"].rstrip("/").split("/")[-2])


def submit(client, request_id):
    response = post(client, f"/requests/{request_id}/submit", {}, page=f"/requests/{request_id}")
    assert response.status_code == 302


def test_the_department_starts_from_new_request_my_systems_and_its_to_dos(app, seed, login_as, db_session):
    dept = login_as("dept")
    html = dept.get("/").get_data(as_text=True)
    assert 'href="/requests/new"' in html and "新建申请" in html and "我的系统" in html
    systems = html.split('id="systems"', 1)[1].split("</table>", 1)[0]
    assert "门户网站" in systems and "办公系统" not in systems  # the draft is no system yet
    draft_id = seed.extra["request_id"][0]
    receipt_id = seed.extra["receipt_id"][0]
    assert todo_links(html) == [f"/requests/{draft_id}/edit", f"/requests/receipts/{receipt_id}"]
    assert badge(html) == 2
    # the grant to decide is the department administrator's; a member sees it waiting, with its time limit
    # and its extraction application waits for the bureau
    assert todo_links(html, "waiting-list") == [f"/grants/{seed.extra['grant_id'][0]}",
                                                f"/backups/extractions/{seed.extra['extraction_id'][0]}"]
    waiting = html.split('id="waiting-list"', 1)[1]
    assert "运维授权审批" in waiting and "备份数据提取审批" in waiting and "截止" in waiting and "剩余" in waiting
    # the pages where they are decided show the same time limit
    grant_page = dept.get(f"/grants/{seed.extra['grant_id'][0]}").get_data(as_text=True)
    assert "运维授权审批" in grant_page.split('id="time-limit"', 1)[1][:300]
    extraction_page = dept.get(f"/backups/extractions/{seed.extra['extraction_id'][0]}").get_data(as_text=True)
    assert "备份数据提取审批" in extraction_page.split('id="time-limit"', 1)[1][:300]
    admin_html = login_as("dept_admin").get("/").get_data(as_text=True)
    assert f"/grants/{seed.extra['grant_id'][0]}" in todo_links(admin_html) and badge(admin_html) == 3
    # a request the bureau returns is to be fixed: the link opens its form
    request_id = new_request(dept)
    submit(dept, request_id)
    bureau = login_as("bureau")
    post(bureau, f"/reviews/{request_id}/return", {"comment": "请补充建设方案"}, page=f"/reviews/{request_id}")
    html = dept.get("/").get_data(as_text=True)
    assert f"/requests/{request_id}/edit" in todo_links(html)
    assert "退回修改" in html and badge(html) == 3


def test_the_bureau_reviews_from_its_to_do_list_and_start_review_keeps_the_review_form(app, seed, login_as,
                                                                                          db_session):
    dept = login_as("dept")
    request_id = new_request(dept, bandwidth_mbps="100")
    submit(dept, request_id)
    bureau = login_as("bureau")
    html = bureau.get("/").get_data(as_text=True)
    extractions = [f"/backups/extractions/{x}" for x in seed.extra["extraction_id"]]
    links = todo_links(html)
    assert links[0] == f"/reviews/{request_id}" and sorted(links[1:3]) == sorted(extractions)
    assert len(links) == 3 + calendar_todos(db_session) and badge(html) == len(links)
    row = html.split('id="todo-list"', 1)[1].split("</tr>", 2)[1]
    assert "待审核申请" in row and "申请审核" in row and "截止" in row and "个工作日" in row
    # 开始审核 leads to the review form itself, not to the department's page of the request
    review = bureau.get(links[0]).get_data(as_text=True)
    assert 'id="time-limit"' in review and "办理时限" in review
    started = bureau.post(f"/reviews/{request_id}/start", data={"csrf_token": csrf_token_from(review)})
    assert started.status_code == 302 and started.headers["Location"] == f"/reviews/{request_id}"
    review = bureau.get(started.headers["Location"]).get_data(as_text=True)
    assert 'id="approve"' in review and "审核中" in review
    # the capacity check in the units people read, and the bandwidth asked for
    capacity = review.split('id="capacity"', 1)[1].split("</table>", 1)[0]
    for label in ("vCPU（核）", "内存（GB）", "系统盘（GB）", "云硬盘（GB）"):
        assert label in capacity
    assert "MEMORY_MB" not in review and "VCPU<" not in review
    tiny_memory = re.search(r'capacity-memory"><td>[^<]+</td><td>([^<]+)</td>', capacity).group(1)
    assert tiny_memory == "1"  # two m1.tiny of 512 MB: 1 GB, not 1024
    assert re.search(r'capacity-root_disk"><td>[^<]+</td><td>2</td><td>\d+</td>', capacity)
    assert "100 Mbps" in review.split('id="bandwidth"', 1)[1][:40]


def test_the_vendor_sees_its_queue_failures_incidents_restores_and_grants(app, seed, login_as, db_session):
    from portal.models.backups import RestoreJob
    draft_id = seed.extra["request_id"][0]
    req = db_session.get(ResourceRequest, draft_id)
    req.state, req.approved_at, req.approved_spec = "approved", utcnow(), {}
    other = db_session.get(ResourceRequest, seed.extra["request_id"][1])
    other.state, other.approved_at = "failed", utcnow() - timedelta(days=1)
    restore = RestoreJob(artifact_id=seed.extra["artifact_id"][0], department_id=seed.dept_a, state="requested", mode="new_volume",
                         reason="误删数据", requested_at=utcnow())
    db_session.add(restore)
    db_session.commit()
    html = login_as("vendor").get("/").get_data(as_text=True)
    links = todo_links(html)
    incidents = [f"/incidents/{i}" for i in seed.extra["incident_id"]]
    assert "/provisioning/" in links and f"/requests/{other.id}" in links and "/backups/restores" in links
    assert set(incidents) <= set(links) and badge(html) == len(links) == 5
    assert "资源开通" in html and "重试或回滚" in html
    # the grants it applied for wait for the departments, with their time limits; contacts only of the
    # departments with an incident not yet resolved (the seeded ones), not of every department
    assert sorted(todo_links(html, "waiting-list")) == sorted(f"/grants/{g}" for g in seed.extra["grant_id"])
    assert 'id="vendor-contacts"' in html


def test_security_admin_and_auditor_have_their_workbench(app, seed, login_as, db_session):
    for key in ("security", "admin", "auditor"):
        html = login_as(key).get("/").get_data(as_text=True)
        assert 'id="workbench"' in html
    assert badge(login_as("security").get("/").get_data(as_text=True)) == 0
    admin = login_as("admin").get("/").get_data(as_text=True)
    assert len(todo_links(admin)) == calendar_todos(db_session)
    # an overdue review shows in the auditor's read-only list, never as its own to-do
    req = db_session.get(ResourceRequest, seed.extra["request_id"][0])
    req.state, req.submitted_at = "submitted", utcnow() - timedelta(days=40)
    db_session.commit()
    auditor = login_as("auditor").get("/").get_data(as_text=True)
    assert todo_links(auditor) == [] and todo_links(auditor, "waiting-list") == [f"/requests/{req.id}"]
    assert "已超时" in auditor and badge(auditor) == 0


def test_overdue_steps_are_marked_and_the_bureau_supervises_them(app, seed, login_as, db_session):
    late = db_session.get(ResourceRequest, seed.extra["request_id"][0])
    late.state, late.submitted_at = "submitted", utcnow() - timedelta(days=30)
    stuck = db_session.get(ResourceRequest, seed.extra["request_id"][1])
    stuck.state, stuck.approved_at, stuck.approved_spec = "provisioning", utcnow() - timedelta(days=30), {}
    db_session.commit()
    html = login_as("bureau").get("/").get_data(as_text=True)
    rows = html.split('id="todo-list"', 1)[1].split("</table>", 1)[0]
    assert f'href="/reviews/{late.id}"' in rows and rows.count("table-danger") == 1
    assert re.search(r"已超时 \d+ 个工作日", rows) and 'id="overdue-count"' in html
    # the vendor's overdue provisioning waits on the vendor: the bureau supervises it (督办), not a to-do of its own
    supervised = html.split('id="waiting-list"', 1)[1].split("</table>", 1)[0]
    assert f'href="/requests/{stuck.id}"' in supervised and "资源开通" in supervised and "已超时（督办）" in supervised
    assert supervised.count("table-danger") == 1 and badge(html) == len(todo_links(html))
    # the department sees its own request overdue at the bureau, and the request page says so
    page = login_as("dept").get(f"/requests/{late.id}").get_data(as_text=True)
    assert 'id="time-limit"' in page and "已超时" in page.split('id="time-limit"', 1)[1][:800]


def test_reminders_before_and_escalations_after_are_sent_once(app, seed, db_session):
    settings = {"NOTIFY_WEBHOOK_URL": "http://127.0.0.1:9/hook", "SMTP_HOST": None}
    now = utcnow()
    late = db_session.get(ResourceRequest, seed.extra["request_id"][0])
    late.state, late.submitted_at = "submitted", now - timedelta(days=30)
    db_session.commit()
    limits = timelimits.TimeLimits(remind=10)  # the applied extractions and requested grants are within 10 days
    reminded, escalated = timelimits.send_notices(db_session, settings, now, limits)
    assert (reminded, escalated) == (4, 1)
    notices = db_session.scalars(select(TimeLimitNotice).order_by(TimeLimitNotice.id)).all()
    assert sorted((n.step, n.stage) for n in notices) == [
        ("extraction", "remind"), ("extraction", "remind"), ("grant", "remind"), ("grant", "remind"),
        ("review", "escalate")]
    messages = db_session.scalars(select(Notification).where(Notification.topic.like("timelimit:%"))).all()
    escalation = [m for m in messages if m.topic == f"timelimit:review:{late.id}"]
    # the review is the bureau's: one webhook message to the bureau, which also supervises
    assert len(escalation) == 1 and escalation[0].subject.startswith("[政务云] 已超时：审核")
    assert "超时" in escalation[0].body and late.number in escalation[0].body
    grant_messages = [m for m in messages if m.topic.startswith("timelimit:grant:")]
    assert {m.department_id for m in grant_messages} == {seed.dept_a, seed.dept_b}
    assert all("运维授权审批" in m.subject and "提醒" in m.subject for m in grant_messages)
    # the next run sends nothing again; a resubmission is a new review step with its own notices
    assert timelimits.send_notices(db_session, settings, now, limits) == (0, 0)
    late.submitted_at = now - timedelta(days=31)
    db_session.commit()
    assert timelimits.send_notices(db_session, settings, now, limits) == (0, 1)
    # with the default limits nothing is due yet for steps begun now
    db_session.query(TimeLimitNotice).delete()
    db_session.commit()
    fresh = timelimits.send_notices(db_session, settings, now, timelimits.TimeLimits(review=5, remind=0))
    assert fresh == (0, 1)


def test_the_limits_are_settings(app, seed, login_as, db_session):
    req = db_session.get(ResourceRequest, seed.extra["request_id"][0])
    req.state, req.submitted_at = "submitted", utcnow()
    db_session.commit()
    expected = deadline(load_calendar(db_session), req.submitted_at, 12, utcnow())
    app.config["TIME_LIMIT_REVIEW_DAYS"] = 12
    try:
        html = login_as("bureau").get("/").get_data(as_text=True)
    finally:
        app.config["TIME_LIMIT_REVIEW_DAYS"] = 5
    assert f"截止 {expected.due_day.isoformat()}" in html
    assert as_local_date(expected.due_at - timedelta(seconds=1)) == expected.due_day


def test_a_new_request_takes_its_documents_and_bandwidth_at_creation(app, seed, login_as, db_session):
    dept = login_as("dept")
    form = dept.get("/requests/new").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in form and 'name="construction_plan_file"' in form
    assert 'name="self_test_file"' in form and 'name="bandwidth_mbps"' in form
    uploads = os.path.join(app.instance_path, "uploads")
    before = set(os.listdir(uploads))
    count = db_session.scalar(select(func.count()).select_from(ResourceRequest))
    # a refused document leaves neither a draft nor a file
    refused = dept.post("/requests/new", data={
        **FORM, "csrf_token": csrf_token_from(form), "bandwidth_mbps": "50",
        "construction_plan_file": (io.BytesIO(PDF), "建设方案.pdf"),
        "self_test_file": (io.BytesIO(b"MZ not a document"), "tool.exe")}, content_type="multipart/form-data")
    assert refused.status_code == 200 and "只能上传 PDF" in refused.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(ResourceRequest)) == count
    assert set(os.listdir(uploads)) == before
    created = dept.post("/requests/new", data={
        **FORM, "csrf_token": csrf_token_from(form), "bandwidth_mbps": "50",
        "construction_plan_file": (io.BytesIO(PDF), "建设方案.pdf"),
        "self_test_file": (io.BytesIO(PDF), "自测报告.pdf")}, content_type="multipart/form-data")
    assert created.status_code == 302
    request_id = int(created.headers["Location"].rstrip("/").split("/")[-2])
    db_session.expire_all()
    req = db_session.get(ResourceRequest, request_id)
    assert req.spec["bandwidth_mbps"] == 50
    purposes = db_session.scalars(select(RequestAttachment.purpose).where(RequestAttachment.request_id == request_id))
    assert sorted(purposes) == ["construction_plan", "self_test"]
    assert "50 Mbps" in dept.get(f"/requests/{request_id}").get_data(as_text=True)
    edit = dept.get(f"/requests/{request_id}/edit").get_data(as_text=True)
    assert 'value="50"' in edit and "建设方案.pdf" in edit and "自测报告.pdf" in edit
    # out of bounds: refused, nothing stored
    refused = post(dept, "/requests/new", {**FORM, "bandwidth_mbps": "20000"})
    assert refused.status_code == 200
    assert db_session.scalar(select(func.count()).select_from(ResourceRequest)) == count + 1


def test_the_estimate_is_live_and_absent_without_prices(app, seed, login_as, db_session):
    dept = login_as("dept")
    form = dept.get("/requests/new").get_data(as_text=True)
    assert 'src="/static/js/estimate.js"' in form and "<script>" not in form
    assert re.search(r'id="cost-estimate" data-url="/requests/estimate" hidden>\s*</p>', form)
    fields = {**FORM, "servers-1-flavor": "m1.small", "servers-1-data_volumes": "50", "floating_ips": "1"}
    answer = dept.post("/requests/estimate", data={**fields, "csrf_token": csrf_token_from(form)})
    assert answer.status_code == 200 and answer.get_json() == {"priced": False}
    for rtype, price in (("vcpu", "0.05"), ("ram", "0.02"), ("volume", "0.0015"), ("floating_ip", "0.0333")):
        db_session.add(Rate(resource_type=rtype, unit_price=Decimal(price), effective_from=utcnow() - timedelta(days=1)))
    db_session.commit()
    # the same figure the form showed on save (test_billing_estimate), now while filling in, no system name yet
    answer = dept.post("/requests/estimate", data={**fields, "system_name": "", "csrf_token": csrf_token_from(form)})
    body = answer.get_json()
    assert body["priced"] is True and body["total"] == "261.58" and "261.58 元" in body["text"]
    assert dept.post("/requests/estimate", data={**fields}).status_code == 400  # no CSRF token
    assert dept.post("/requests/estimate", data={**fields, "floating_ips": "x",
                                                "csrf_token": csrf_token_from(form)}).status_code == 422
    bureau = login_as("bureau")
    token = csrf_token_from(bureau.get("/").get_data(as_text=True))
    assert bureau.post("/requests/estimate", data={**fields, "csrf_token": token}).status_code == 403



def test_a_background_estimate_leaves_the_message_of_a_save(app, seed, login_as):
    """The browser's live estimate can be answered after the save's redirect (seen in CI): an answer
    that sent the session cookie again would replace the cookie holding 草稿已保存 with its older one."""
    dept = login_as("dept")
    form = dept.get("/requests/new").get_data(as_text=True)
    created = post(dept, "/requests/new", FORM)
    assert created.status_code == 302 and "Set-Cookie" in created.headers  # the message rides in the cookie
    answer = dept.post("/requests/estimate", data={**FORM, "csrf_token": csrf_token_from(form)})
    assert answer.status_code == 200 and "Set-Cookie" not in answer.headers
    page = dept.get(created.headers["Location"]).get_data(as_text=True)
    assert "已保存" in page.split('class="alert alert-success', 1)[1][:300]

def test_the_receipt_shows_the_bandwidth(app, seed, login_as, db_session):
    req = db_session.get(ResourceRequest, seed.extra["request_id"][0] + 1)
    assert req.state == "provisioned"
    req.approved_spec = {"servers": [], "bandwidth_mbps": 200}
    db_session.commit()
    html = login_as("dept").get(f"/requests/receipts/{seed.extra['receipt_id'][0]}").get_data(as_text=True)
    assert "带宽" in html and "200 Mbps" in html.split('id="receipt-bandwidth"', 1)[1][:30]
    pdf = login_as("dept").get(f"/requests/receipts/{seed.extra['receipt_id'][0]}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_the_scheduled_job_sends_them_and_records_its_run(app, seed, db_session):
    from portal.models.operations import JobRun
    from scheduler import housekeeping, runtime
    late = db_session.get(ResourceRequest, seed.extra["request_id"][0])
    late.state, late.submitted_at = "submitted", utcnow() - timedelta(days=30)
    db_session.commit()
    runtime.configure({**app.config, "NOTIFY_WEBHOOK_URL": "http://127.0.0.1:9/hook"},
                      app.extensions["govcloud_db"][0])
    housekeeping.time_limits()
    run = db_session.scalars(select(JobRun).where(JobRun.job_id == "time_limits")).one()
    assert run.outcome == "success" and run.summary == "0 reminded, 1 escalated"
    topics = db_session.scalars(select(Notification.topic).where(Notification.topic.like("timelimit:%"))).all()
    assert topics == [f"timelimit:review:{late.id}"]


def test_the_api_records_the_bandwidth_and_refuses_it_out_of_bounds(app, login_as):
    from tests.integration.test_api_requests import SPEC, ui_token
    api = app.test_client()
    dept = {"Authorization": f"Bearer {ui_token(login_as('dept'))}"}
    too_much = api.post("/api/v1/requests", json={"system_name": "接口系统", "spec": {**SPEC, "bandwidth_mbps": 10_001}},
                        headers=dept)
    assert too_much.status_code == 422 and "bandwidth_mbps" in str(too_much.get_json()["problems"])
    created = api.post("/api/v1/requests", json={"system_name": "接口系统", "spec": {**SPEC, "bandwidth_mbps": 30}},
                       headers=dept)
    assert created.status_code == 201 and created.get_json()["spec"]["bandwidth_mbps"] == 30

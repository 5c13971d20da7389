"""A project's whole path through the pages (issue 19, regulation 附件1), and the gate that ties cloud
resources to it: declared in the window → 初审 with the checklist of 第七条(二) and an expert's opinion
→ annual plan, approved by 市政府 → 发改委 立项 → design and estimate review → a resource request
refused at submit before, accepted after, provisioned on the dev cloud and shown on the project →
procurement → milestones → acceptance with rectification → re-acceptance → in use (warranty ≥ 3 years).

PostgreSQL only (the worker's production database, the cloud is slow); the rules (window, urgent,
access) run on both backends in test_projects_rules.py.
"""
import io
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, csrf_token_from, login, single_backend_app
from tests.documents import PDF, upload_required
from tests.integration.test_requests_cloud_flow import purge_prefix, run_worker

pytestmark = pytest.mark.devcloud


@pytest.fixture(scope="module")
def migrated_app(tmp_path_factory):
    yield from single_backend_app("postgresql", tmp_path_factory)


def post(client, url, data, page):
    """POST a form with the CSRF token of page; return (status, the page it leads to)."""
    token = csrf_token_from(client.get(page).get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token, **data}, content_type="multipart/form-data")
    status = response.status_code
    location = response.headers.get("Location", "")
    response.close()
    html = client.get(location).get_data(as_text=True) if status == 302 and location else ""
    return status, html


def state_of(app, project_id):
    from portal.extensions import db
    from portal.models.projects import Project
    with app.app_context():
        db.session.expire_all()
        return db.session.get(Project, project_id).state


def flashes(html):
    return re.findall(r'role="alert">(.*?)</div>', html, re.S)


def test_project_from_declaration_to_use_with_the_gate(app, seed, login_as, cloud, run_id, cleanup):
    from portal.extensions import db
    from portal.models.accounts import Department, User
    from portal.models.audit import AuditEvent
    from portal.models.operations import Notification
    from portal.models.projects import Project, ProjectAcceptance, ProjectDecision
    from portal.models.requests import CloudResource, ResourceRequest

    prefix = f"gc{run_id}"
    cleanup(lambda: purge_prefix(cloud, prefix))
    beijing = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    app.config.update(PROJECT_GATE=True, PROJECT_DECLARATION_MONTHS=[beijing.month])
    cleanup(lambda: app.config.update(PROJECT_GATE=False, PROJECT_DECLARATION_MONTHS=[9]))
    with app.app_context():  # a department of its own (the seeds put fake systems into A and B)
        dept_row = Department(name=f"项目测试局{run_id}", code=f"PRJ{run_id[1:6]}".upper(), level="city")
        db.session.add(dept_row)
        db.session.flush()
        db.session.add(User(username=f"prj-{run_id}", role="department", department_id=dept_row.id,
                            password_hash=app.extensions["govcloud_passwords"].hash(PASSWORD)))
        db.session.commit()
        dept_id = dept_row.id
    dept = app.test_client()
    assert login(dept, f"prj-{run_id}").status_code == 302
    bureau, expert, other = login_as("bureau"), login_as("expert"), login_as("dept_b")

    # -- the department fills in the 申报表 and uploads the documents of 第七条(一)
    status, html = post(dept, "/projects/new", {
        "name": "不动产登记信息化项目", "project_type": "software", "construction_kind": "new",
        "content": "建设不动产统一登记系统", "necessity": "群众办证多头跑", "on_government_cloud": "y",
        "data_sharing": "登记数据共享至交换平台", "estimate": "1500000", "funding_source": "fiscal",
        "schedule": "建设期十个月", "responsible_person": "王责任", "responsible_phone": "13900000000",
        "leader": "李局长"}, "/projects/new")
    assert status == 302 and "不动产登记信息化项目" in html
    with app.app_context():
        project_id = db.session.scalar(select(Project.id).where(Project.department_id == dept_id))
    page = f"/projects/{project_id}"
    status, html = post(dept, f"{page}/declare", {}, page)
    assert state_of(app, project_id) == "draft"  # the documents are missing
    assert "可行性研究报告" in " ".join(flashes(html))
    for purpose, name in (("feasibility", "可研报告.pdf"), ("estimate", "投资估算.pdf"), ("funding_plan", "资金筹措.pdf")):
        status, html = post(dept, f"{page}/documents", {"purpose": purpose, "document": (io.BytesIO(PDF), name)}, page)
        assert status == 302 and name in html
    status, html = post(dept, f"{page}/declare", {}, page)
    assert state_of(app, project_id) == "declared", flashes(html)
    with app.app_context():
        assert db.session.get(Project, project_id).plan_year == beijing.year + 1  # for the next year
    assert other.get(page).status_code == 404  # another department sees nothing of it

    # -- 初审: refused without an expert's opinion, then with an unchecked point; passed after both
    review = {"fits_plan": "y", "on_cloud": "y", "data_sharing": "y", "technology": "y", "opinion": "符合规划",
              "passed": "1"}
    status, html = post(bureau, f"{page}/review", review, page)
    assert state_of(app, project_id) == "declared" and "专家" in " ".join(flashes(html))
    assert expert.get(page).status_code == 404  # not assigned yet: the expert does not see it
    with app.app_context():
        expert_id = seed.user_ids["expert"]
    status, html = post(bureau, f"{page}/experts", {"expert_id": str(expert_id), "stage": "preliminary_review"}, page)
    assert status == 302 and "expert1" in html
    assert "不动产登记信息化项目" in expert.get("/projects/").get_data(as_text=True)
    status, html = post(expert, f"{page}/opinion", {"conclusion": "agree", "fits_plan": "y", "on_cloud": "y",
                                                    "data_sharing": "y", "technology": "y",
                                                    "opinion": "依托政务云，数据共享考虑充分，同意"}, page)
    assert "依托政务云，数据共享考虑充分，同意" in html
    status, html = post(bureau, f"{page}/review", {**review, "technology": ""}, page)
    assert state_of(app, project_id) == "declared" and "第七条（二）" in " ".join(flashes(html))
    status, html = post(bureau, f"{page}/review", review, page)
    assert state_of(app, project_id) == "reviewed", flashes(html)

    # -- annual plan, approved by 市政府 with its document; 发改委 立项 with number and date
    status, html = post(bureau, f"{page}/plan", {"action": "add", "reason": "利于信息惠民"}, page)
    assert state_of(app, project_id) == "planned"
    year = beijing.year + 1
    plan_page = bureau.get(f"/projects/plan/{year}").get_data(as_text=True)
    assert "不动产登记信息化项目" in plan_page
    status, html = post(bureau, f"/projects/plan/{year}/approve", {
        "document_number": f"酒政发〔{year}〕3号", "decided_on": f"{year - 1}-12-20", "opinion": "同意",
        "approve": "1"}, f"/projects/plan/{year}")
    assert state_of(app, project_id) == "plan_approved" and f"酒政发〔{year}〕3号" in html
    status, html = post(bureau, f"{page}/feasibility", {"document_number": "", "approve": "1"}, page)
    assert state_of(app, project_id) == "plan_approved"  # no approval without its document number
    status, html = post(bureau, f"{page}/feasibility", {
        "document_number": f"酒发改审批〔{year}〕21号", "decided_on": f"{year}-01-15", "opinion": "可研通过",
        "approve": "1"}, page)
    assert state_of(app, project_id) == "approved" and f"酒发改审批〔{year}〕21号" in html

    # -- the gate: a new system's request without a project, and with a project not yet past the
    #    design review, is refused at submit with the regulation's words
    form = {"system_name": "不动产登记系统", "purpose": "不动产登记业务", "security_level": "3",
            "servers-1-name": "web", "servers-1-flavor": "m1.tiny", "servers-1-image": "cirros-devcloud",
            "servers-1-count": "1", "rules-1-port": "443", "rules-1-protocol": "tcp",
            "rules-1-source": "10.0.0.0/8", "then": "save"}
    status, _html = post(dept, "/requests/new", form, "/requests/new")
    assert status == 302
    with app.app_context():
        request_id = db.session.scalar(select(ResourceRequest.id).where(ResourceRequest.department_id == dept_id))
    upload_required(dept, request_id, csrf_token_from(dept.get(f"/requests/{request_id}/edit").get_data(as_text=True)))
    status, html = post(dept, f"/requests/{request_id}/submit", {}, f"/requests/{request_id}")
    with app.app_context():
        assert db.session.get(ResourceRequest, request_id).state == "draft"
    assert "第七条（七）" in html and "初步设计" in html
    status, _html = post(dept, f"/requests/{request_id}/edit", {**form, "project_id": str(project_id)},
                         f"/requests/{request_id}/edit")
    status, html = post(dept, f"/requests/{request_id}/submit", {}, f"/requests/{request_id}")
    with app.app_context():
        req = db.session.get(ResourceRequest, request_id)
        assert (req.state, req.project_id) == ("draft", project_id)
    assert "尚未通过初步设计" in html

    # -- design and estimate review (第七条(五)(六)): submitted with the design, passed by a third party
    status, html = post(dept, f"{page}/design", {}, page)
    assert state_of(app, project_id) == "approved"  # the design is not uploaded yet
    status, html = post(dept, f"{page}/documents", {"purpose": "design", "document": (io.BytesIO(PDF), "实施方案.pdf")},
                        page)
    status, html = post(dept, f"{page}/design", {}, page)
    assert state_of(app, project_id) == "design_review"
    status, html = post(bureau, f"{page}/design-review", {
        "body": "third_party", "reviewer": "甘肃某工程咨询公司", "approved_estimate": "1380000.00",
        "approved_scope": "统一登记、电子证照对接，部署于政务云", "opinion": "方案可行，概算核减", "decided_on": f"{year}-03-01",
        "approve": "1"}, page)
    assert state_of(app, project_id) == "design_approved", flashes(html)

    # -- now the request passes the gate; the review page shows the project, its state and scope
    status, html = post(dept, f"/requests/{request_id}/submit", {}, f"/requests/{request_id}")
    with app.app_context():
        assert db.session.get(ResourceRequest, request_id).state == "submitted", flashes(html)
    review_html = bureau.get(f"/reviews/{request_id}").get_data(as_text=True)
    assert "不动产登记信息化项目" in review_html and "统一登记、电子证照对接" in review_html
    assert "初步设计及概算评审通过" in review_html  # the project's state
    status, _html = post(bureau, f"/reviews/{request_id}/approve", {"count-web": "1", "floating_ips": "0",
                                                                   "comment": "同意"}, f"/reviews/{request_id}")
    _seconds, log = run_worker(app, prefix)
    with app.app_context():
        db.session.expire_all()
        req = db.session.get(ResourceRequest, request_id)
        assert req.state == "provisioned", (req.state, req.failure_message, log[-2000:])
        servers = list(db.session.scalars(select(CloudResource).where(
            CloudResource.system_id == request_id, CloudResource.kind == "server")))
        openstack_project = db.session.get(Department, dept_id).openstack_project_id
    assert len(servers) == 1
    live = list(cloud.compute.servers(all_projects=True, project_id=openstack_project))
    assert [s.id for s in live] == [servers[0].openstack_id] and live[0].status == "ACTIVE"
    project_html = dept.get(page).get_data(as_text=True)
    assert "不动产登记系统" in project_html and servers[0].name in project_html
    assert re.findall(r'id="system-phase">(.*?)<', project_html) == ["试运行"]
    assert servers[0].name in bureau.get(page).get_data(as_text=True)
    # 第十五条: not in use before the project's acceptance
    status, html = post(dept, f"/projects/systems/{request_id}/in-use", {}, f"/requests/{request_id}")
    with app.app_context():
        db.session.expire_all()
        assert db.session.get(ResourceRequest, request_id).in_use_at is None
    assert "第十五条" in " ".join(flashes(html))

    # -- procurement, construction, milestones
    status, html = post(dept, f"{page}/procurement", {"method": "公开招标", "supplier": "某某信息技术有限公司",
                                                      "contract_amount": "1350000", "supervisor": "某某监理公司",
                                                      "procured_on": f"{year}-04-10"}, page)
    assert state_of(app, project_id) == "procured" and "某某信息技术有限公司" in html
    post(dept, f"{page}/construction", {}, page)
    assert state_of(app, project_id) == "construction"
    for title, planned in (("需求调研完成", f"{year}-05-01"), ("系统上线试运行", f"{year}-09-01")):
        status, html = post(dept, f"{page}/milestones", {"title": title, "planned_on": planned}, page)
        assert title in html

    # -- acceptance: rectification with a deadline, then re-acceptance, then in use
    post(dept, f"{page}/acceptance/request", {"reason": "建设完成"}, page)
    assert state_of(app, project_id) == "acceptance"
    status, html = post(bureau, f"{page}/acceptance", {"held_on": f"{year}-10-10", "opinion": "安全测评报告缺失",
                                                       "rectification_items": "补充等保测评报告",
                                                       "rectification_deadline": f"{year}-10-05", "refuse": "1"}, page)
    assert state_of(app, project_id) == "acceptance"  # a deadline before the day is refused
    status, html = post(bureau, f"{page}/acceptance", {"held_on": f"{year}-10-10", "opinion": "安全测评报告缺失",
                                                       "rectification_items": "补充等保测评报告",
                                                       "rectification_deadline": f"{year}-11-10", "refuse": "1"}, page)
    assert state_of(app, project_id) == "rectification" and "补充等保测评报告" in html
    post(dept, f"{page}/acceptance/request", {"reason": "已完成整改"}, page)
    assert state_of(app, project_id) == "acceptance"
    status, html = post(bureau, f"{page}/acceptance", {"held_on": f"{year}-11-05", "opinion": "整改到位，验收合格",
                                                       "document_number": "验收〔1〕号", "approve": "1"}, page)
    assert state_of(app, project_id) == "in_use"
    with app.app_context():
        db.session.expire_all()
        project = db.session.get(Project, project_id)
        assert project.accepted_on == date(year, 11, 5)
        assert project.warranty_ends_on == date(year + 3, 11, 5)  # 第十六条: three years at least
        rounds = list(db.session.scalars(select(ProjectAcceptance).where(ProjectAcceptance.project_id == project_id)
                                         .order_by(ProjectAcceptance.round)))
        assert [(r.round, r.outcome) for r in rounds] == [(1, "rectification"), (2, "passed")]
        assert rounds[0].rectification_deadline == date(year, 11, 10)
        bodies = [(d.stage, d.body, d.outcome) for d in db.session.scalars(
            select(ProjectDecision).where(ProjectDecision.project_id == project_id).order_by(ProjectDecision.id))]
        assert ("annual_plan", "city_government", "passed") in bodies
        assert ("feasibility", "ndrc", "passed") in bodies
        assert ("design_review", "third_party", "passed") in bodies
        assert ("acceptance", "bureau", "rectification") in bodies
        # every decision audited, with its reason or opinion
        actions = [a for (a,) in db.session.execute(select(AuditEvent.action).where(
            AuditEvent.object_type == "project", AuditEvent.object_id == str(project_id)).order_by(AuditEvent.id))]
        for action in ("project.declare", "project.assign_expert", "project.expert_opinion", "project.pass_review",
                       "project.add_to_plan", "project.plan_approved", "project.feasibility_approved",
                       "project.submit_design", "project.design_passed", "project.record_procurement",
                       "project.require_rectification", "project.accept"):
            assert action in actions, action
        detail = db.session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "project.require_rectification",
                                                                   AuditEvent.object_id == str(project_id)))
        assert detail == "补充等保测评报告"
        # the department heard of each decision of others (初审, plan, 市政府, 立项, design, twice acceptance),
        # the bureau of each step of the department and of the opinion, the expert of the request
        def inbox(user_id):
            return sorted(s for (s,) in db.session.execute(select(Notification.subject).where(
                Notification.user_id == user_id, Notification.channel == "inbox",
                Notification.topic == f"project:{project_id}")))
        dept_user = db.session.scalar(select(User.id).where(User.department_id == dept_id))
        assert len(inbox(dept_user)) == 7, inbox(dept_user)
        assert any("限期整改" in s for s in inbox(dept_user)) and any("验收合格" in s for s in inbox(dept_user))
        bureau_told = inbox(seed.user_ids["bureau"])
        assert len(bureau_told) == 5, bureau_told  # declared, opinion, design, acceptance, re-acceptance
        assert len(inbox(expert_id)) == 1
    # -- accepted: the system is put in use
    status, html = post(dept, f"/projects/systems/{request_id}/in-use", {}, f"/requests/{request_id}")
    with app.app_context():
        db.session.expire_all()
        assert db.session.get(ResourceRequest, request_id).in_use_at is not None, flashes(html)
    phases = re.findall(r'id="system-phase">(.*?)<', dept.get(page).get_data(as_text=True))
    assert phases == ["使用中"], phases

"""The rules of projects (issue 19, regulation 附件1) on both backends: the declaration window and the
urgent exception (第七条(一), 第八条), the state machine, the gate of 第七条(七), and who sees what
(experts only their assignments, other departments nothing, the auditor reads)."""
import io
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token_from
from tests.documents import PDF

FORM = {"name": "智慧城管平台", "project_type": "software", "construction_kind": "new", "content": "建设内容",
        "necessity": "必要性", "on_government_cloud": True, "data_sharing": "共享", "estimate": "800000",
        "funding_source": "fiscal", "schedule": "八个月", "responsible_person": "赵责任"}
SEPTEMBER = datetime(2027, 9, 10, 2, 0, tzinfo=timezone.utc)  # 10:00 in Beijing
DECEMBER = datetime(2027, 12, 1, 2, 0, tzinfo=timezone.utc)
LAST_OF_AUGUST_UTC = datetime(2027, 8, 31, 17, 0, tzinfo=timezone.utc)  # 1 September 01:00 in Beijing


def ctx_of(session, seed, key):
    from portal.models.accounts import User
    from portal.services.audit import RequestInfo
    return RequestInfo(actor=session.get(User, seed.user_ids[key]))


def draft(session, seed, app, key="dept", **changes):
    """A complete draft of the user's department with the three documents of a declaration."""
    from portal.services import projects
    ctx = ctx_of(session, seed, key)
    project = projects.create_project(session, ctx, {**FORM, **changes})
    for purpose in ("feasibility", "estimate", "funding_plan"):
        projects.add_document(session, ctx, project.id, purpose, f"{purpose}.pdf", io.BytesIO(PDF),
                              f"{app.instance_path}/uploads/projects")
    return project


def test_the_declaration_window_is_september_for_the_next_year(app, seed, db_session):
    from portal.errors import InputInvalid
    from portal.services import projects
    settings = {"PROJECT_DECLARATION_MONTHS": [9], "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai"}
    ctx = ctx_of(db_session, seed, "dept")
    project = draft(db_session, seed, app)
    with pytest.raises(InputInvalid) as refused:
        projects.declare(db_session, ctx, project.id, settings, now=DECEMBER)
    assert "urgent_reason" in [f for f, _m in refused.value.problems]
    db_session.rollback()
    assert db_session.get(type(project), project.id).state == "draft"
    # 1 September 01:00 in Beijing is still 31 August in UTC: the window is Beijing's
    projects.declare(db_session, ctx, project.id, settings, now=LAST_OF_AUGUST_UTC)
    project = db_session.get(type(project), project.id)
    assert (project.state, project.plan_year, project.urgent) == ("declared", 2028, False)
    # configurable: a window in October refuses September
    other = draft(db_session, seed, app, name="第二个项目")
    with pytest.raises(InputInvalid):
        projects.declare(db_session, ctx, other.id, {**settings, "PROJECT_DECLARATION_MONTHS": [10]}, now=SEPTEMBER)
    db_session.rollback()


def test_an_urgent_project_is_declared_any_time_with_its_reason_and_skips_the_plan(app, seed, db_session):
    from portal.errors import WrongState
    from portal.models.projects import ExpertAssignment, Project
    from portal.services import projects
    settings = {"PROJECT_DECLARATION_MONTHS": [9]}
    dept, bureau = ctx_of(db_session, seed, "dept"), ctx_of(db_session, seed, "bureau")
    project = draft(db_session, seed, app)
    projects.declare(db_session, dept, project.id, settings, urgent_reason="省里要求年底前上线疫情监测", now=DECEMBER)
    project = db_session.get(Project, project.id)
    assert (project.state, project.urgent, project.plan_year) == ("declared", True, 2027)
    assert project.decisions[-1].stage == "urgent" and project.decisions[-1].reason == "省里要求年底前上线疫情监测"
    db_session.add(ExpertAssignment(project_id=project.id, expert_id=seed.user_ids["expert"], stage="preliminary_review",
                                    conclusion="agree", opinion="同意", opinion_at=DECEMBER))
    db_session.commit()
    projects.decide_review(db_session, bureau, project.id, "pass",
                           checklist={k: True for k in ("fits_plan", "on_cloud", "data_sharing", "technology")})
    with pytest.raises(WrongState):
        projects.add_to_plan(db_session, bureau, project.id)
    db_session.rollback()
    projects.admit_urgent(db_session, bureau, project.id, "第八条：上级要求，市财政追加资金")
    assert db_session.get(Project, project.id).state == "plan_approved"


def test_returned_projects_are_declared_again_as_a_new_version_and_rejections_need_a_reason(app, seed, db_session):
    from portal.errors import ValidationFailed
    from portal.models.projects import Project
    from portal.services import projects
    settings = {"PROJECT_DECLARATION_MONTHS": [9]}
    dept, bureau = ctx_of(db_session, seed, "dept"), ctx_of(db_session, seed, "bureau")
    project = draft(db_session, seed, app)
    projects.declare(db_session, dept, project.id, settings, now=SEPTEMBER)
    with pytest.raises(ValidationFailed):
        projects.decide_review(db_session, bureau, project.id, "return", reason=" ")
    db_session.rollback()
    projects.decide_review(db_session, bureau, project.id, "return", reason="请补充数据共享方案")
    projects.update_project(db_session, dept, project.id, {**FORM, "data_sharing": "接入共享交换平台"})
    projects.declare(db_session, dept, project.id, settings, now=SEPTEMBER)
    project = db_session.get(Project, project.id)
    assert (project.state, project.version) == ("declared", 2)
    projects.decide_review(db_session, bureau, project.id, "reject", reason="与已建系统重复")
    assert db_session.get(Project, project.id).state == "rejected"


def test_the_state_machine_reaches_every_state_and_ends_where_it_should():
    from portal.models.projects import PROJECTS, ProjectState
    reached, frontier = {"draft"}, ["draft"]
    while frontier:
        state = frontier.pop()
        for action in PROJECTS.allowed_actions(state):
            target = PROJECTS.next_state(state, action)
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == {s.value for s in ProjectState}
    assert PROJECTS.terminal() == {"rejected", "withdrawn", "evaluated"}
    assert PROJECTS.next_state("rectification", "request_acceptance") == "acceptance"  # 重新验收


def test_the_gate_of_article_7_7(app, seed, db_session):
    from portal.models.projects import Project
    from portal.models.requests import ResourceRequest
    from portal.services.project_gate import gate_problems
    from portal.workflow import RequestKind
    own = db_session.get(Project, seed.extra["project_id"][0])  # design approved (the seed)
    foreign = db_session.get(Project, seed.extra["project_id"][1])
    declared = db_session.scalar(select(Project).where(Project.department_id == seed.dept_a,
                                                       Project.state == "declared"))

    def problems(**fields):
        req = ResourceRequest(kind=fields.pop("kind", RequestKind.NEW), department_id=seed.dept_a, **fields)
        return [f for f, _m in gate_problems(db_session, req)]

    assert problems() == ["project_id"]
    assert problems(project_id=declared.id) == ["project_id"]
    assert problems(project_id=foreign.id) == ["project_id"]
    assert problems(project_id=own.id) == []
    assert problems(existing_system=True, project_ref="") == ["project_ref"]
    assert problems(existing_system=True, project_ref="2015年建成的社保系统") == []  # 第四条: moves to the cloud
    assert problems(kind=RequestKind.CHANGE) == []  # a change of a system: not a new system


def test_a_request_names_only_its_department_s_project(app, seed, db_session):
    from portal.errors import ValidationFailed
    from portal.services import resource_requests
    ctx = ctx_of(db_session, seed, "dept")
    with pytest.raises(ValidationFailed) as refused:
        resource_requests.create_request(db_session, ctx, {"system_name": "越权", "project_id": seed.extra["project_id"][1]},
                                         {})
    assert refused.value.field == "project_id"
    db_session.rollback()
    req = resource_requests.create_request(db_session, ctx, {"system_name": "合规", "project_id": seed.extra["project_id"][0]},
                                           {})
    assert req.project_id == seed.extra["project_id"][0]


def test_experts_see_only_what_is_assigned_to_them(app, seed, login_as):
    from portal.extensions import db
    from portal.models.projects import Project
    from portal.models.requests import ResourceRequest
    from portal.models.accounts import User
    from portal.scoping import scoped
    assigned, foreign = seed.extra["project_id"]
    with app.app_context():
        unassigned = db.session.scalar(select(Project.id).where(Project.state == "declared"))
        expert = db.session.get(User, seed.user_ids["expert"])
        assert db.session.scalars(scoped(select(ResourceRequest), expert)).all() == []  # nothing else at all
    client = login_as("expert")
    listing = client.get("/projects/").get_data(as_text=True)
    assert listing.count('class="assignment-row"') == 1 and f"/projects/{assigned}" in listing
    assert client.get(f"/projects/{assigned}").status_code == 200
    for other in (foreign, unassigned):
        assert client.get(f"/projects/{other}").status_code == 404
    document = seed.extra["document_id"][1]
    assert client.get(f"/projects/{foreign}/documents/{document}").status_code == 404
    page = client.get(f"/projects/{assigned}").get_data(as_text=True)
    response = client.post(f"/projects/{unassigned}/opinion", data={"csrf_token": csrf_token_from(page),
                                                                     "conclusion": "agree", "opinion": "同意"})
    assert response.status_code == 404
    for url in ("/requests/", "/projects/pipeline", "/billing/", "/departments/"):
        assert client.get(url).status_code == 403, url


def test_departments_see_their_own_projects_and_the_auditor_reads_all(app, seed, login_as):
    own, foreign = seed.extra["project_id"]
    dept = login_as("dept")
    listing = dept.get("/projects/").get_data(as_text=True)
    assert f"/projects/{own}" in listing and f"/projects/{foreign}\"" not in listing
    assert listing.count('class="project-row"') == 2  # A's two projects, none of B's
    for url in (f"/projects/{foreign}", f"/projects/{foreign}/edit", f"/projects/{foreign}/documents/"
                f"{seed.extra['document_id'][1]}"):
        assert dept.get(url).status_code == 404, url
    auditor = login_as("auditor")
    pipeline = auditor.get("/projects/pipeline").get_data(as_text=True)
    assert f"/projects/{own}" in pipeline and f"/projects/{foreign}" in pipeline
    document = auditor.get(f"/projects/{foreign}/documents/{seed.extra['document_id'][1]}")
    assert document.status_code == 200 and document.data.startswith(b"%PDF")
    document.close()
    page = auditor.get(f"/projects/{own}").get_data(as_text=True)
    assert 'id="bureau-actions"' not in page and 'id="owner-actions"' not in page
    response = auditor.post(f"/projects/{own}/review", data={"csrf_token": csrf_token_from(page), "passed": "1"})
    assert response.status_code == 403


def test_the_bureau_may_not_pass_a_review_without_experts_and_the_checklist(app, seed, db_session):
    from portal.errors import InputInvalid
    from portal.models.projects import Project
    from portal.services import projects
    bureau = ctx_of(db_session, seed, "bureau")
    declared = db_session.scalar(select(Project).where(Project.state == "declared"))
    with pytest.raises(InputInvalid) as refused:
        projects.decide_review(db_session, bureau, declared.id, "pass",
                               checklist={"fits_plan": True, "on_cloud": False})
    assert {f for f, _m in refused.value.problems} == {"checklist", "experts"}
    db_session.rollback()
    assert db_session.get(Project, declared.id).state == "declared"
    assert declared.estimate == Decimal("300000.00")


def test_the_gate_through_the_api(app, seed, login_as):
    """PROJECT_GATE on: the API refuses a new system without a project that passed the design review
    (422, the regulation's words, nothing stored) and takes it with one."""
    from tests.documents import API_DOCUMENTS
    from tests.integration.test_api_requests import SPEC, ui_token
    app.config["PROJECT_GATE"] = True
    try:
        api = app.test_client()
        dept = {"Authorization": f"Bearer {ui_token(login_as('dept'))}"}
        body = {"system_name": "接口新系统", "purpose": "测试", "spec": SPEC, "documents": API_DOCUMENTS, "submit": True}
        refused = api.post("/api/v1/requests", json=body, headers=dept)
        assert refused.status_code == 422
        problems = {p["field"]: p["message"] for p in refused.get_json()["problems"]}
        assert "第七条（七）" in problems["project_id"]
        assert api.get("/api/v1/requests?q=接口新系统", headers=dept).get_json()["total"] == 0
        foreign = api.post("/api/v1/requests", json={**body, "project_id": seed.extra["project_id"][1]}, headers=dept)
        assert foreign.status_code == 422
        taken = api.post("/api/v1/requests", json={**body, "project_id": seed.extra["project_id"][0]}, headers=dept)
        assert taken.status_code == 201, taken.get_json()
        assert (taken.get_json()["state"], taken.get_json()["project_id"]) == ("submitted", seed.extra["project_id"][0])
    finally:
        app.config["PROJECT_GATE"] = False

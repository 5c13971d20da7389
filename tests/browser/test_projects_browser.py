"""信息化项目 in a real browser (Chromium, headless), as each role sees it (issue 19): the department
declares a project with its documents, the bureau asks an expert, the expert (who sees only that
project) gives an opinion, the bureau passes the 初审 with its checklist, plans it, records 市政府's
approval, 发改委's 立项 and the design review; the acceptance with rectification follows; the auditor
reads; another department gets 404. Screenshots go to test-artifacts/screenshots/projects-*.png."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.browser.test_portal_browser import SHOTS, browser, log_in, page, serving  # noqa: F401 (fixtures)
from tests.documents import PDF

MONTH = datetime.now(ZoneInfo("Asia/Shanghai")).month


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("projects-browser"), PROJECT_GATE=True,
                 PROJECT_DECLARATION_MONTHS=[MONTH]) as served:
        yield served


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"projects-{name}.png"), full_page=True)


def go(page, url):
    response = page.goto(url)
    page.wait_for_load_state()
    return response


def alerts(page):
    return " ".join(page.locator("[role=alert]").all_inner_texts())


def test_every_role_on_the_way_of_a_project(portal, browser, tmp_path):  # noqa: F811
    base, app, seed = portal
    pages = {}

    def as_user(key):
        if key not in pages:
            context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
            p = context.new_page()
            p.problems = []
            p.on("pageerror", lambda e, p=p: p.problems.append(str(e)))
            log_in(p, base, seed.users[key])
            pages[key] = p
        return pages[key]

    # -- the department declares
    dept = as_user("dept")
    dept.click("#main-nav >> text=信息化项目")
    dept.wait_for_load_state()
    assert dept.inner_text("h1") == "信息化项目"
    assert dept.locator(".project-row").count() == 2  # its two seeded projects, none of department B
    shot(dept, "department-list")
    dept.click("#new-project")
    dept.wait_for_load_state()
    dept.fill("#name", "社会信用信息平台")
    dept.select_option("#project_type", "data")
    dept.fill("#content", "归集全市信用信息，建设信用查询和联合奖惩系统")
    dept.fill("#necessity", "信用信息分散，无法共享")
    dept.fill("#data_sharing", "信用数据向共享交换平台开放")
    dept.fill("#estimate", "2600000")
    dept.fill("#schedule", "建设期一年")
    dept.fill("#responsible_person", "孙责任")
    shot(dept, "department-form")
    dept.click("#save")
    dept.wait_for_load_state()
    assert dept.inner_text("#project-title") == "社会信用信息平台"
    assert "可行性研究报告" in dept.inner_text("#declaration-problems")
    for purpose, name in (("feasibility", "可研报告.pdf"), ("estimate", "投资估算.pdf"), ("funding_plan", "资金筹措计划.pdf")):
        path = tmp_path / name
        path.write_bytes(PDF)
        dept.select_option("#upload-form select[name=purpose]", purpose)
        dept.set_input_files("#upload-form input[name=document]", str(path))
        dept.click("#upload-form #upload")
        dept.wait_for_load_state()
    assert dept.locator("#document-list li").count() == 3
    dept.click("#declare-form #declare")
    dept.wait_for_load_state()
    assert dept.inner_text("#project-state") == "已申报", alerts(dept)
    project_url = dept.url.split("#")[0]
    project_id = int(project_url.rstrip("/").split("/")[-1])
    shot(dept, "department-declared")

    # -- the bureau: pipeline, expert asked
    bureau = as_user("bureau")
    bureau.click("#main-nav >> text=信息化项目")
    bureau.wait_for_load_state()
    assert bureau.inner_text("h1") == "项目审批进度"
    assert "社会信用信息平台" in bureau.inner_text(".stage-declared")
    shot(bureau, "bureau-pipeline")
    go(bureau, project_url)
    bureau.select_option("#assign-form select[name=expert_id]", str(seed.user_ids["expert"]))
    bureau.click("#assign-form #assign")
    bureau.wait_for_load_state()
    assert "待提出意见" in bureau.inner_text("#opinion-list")

    # -- the expert sees only what is assigned, gives the opinion
    expert = as_user("expert")
    assert [t.strip() for t in expert.locator("#main-nav .nav-link").all_inner_texts()] == ["首页", "待评审项目"]
    expert.click("#main-nav >> text=待评审项目")
    expert.wait_for_load_state()
    assert expert.locator(".assignment-row").count() == 2  # the seeded one and this one
    shot(expert, "expert-list")
    go(expert, project_url)
    for item in ("fits_plan", "on_cloud", "data_sharing", "technology"):
        expert.check(f"#opinion-form input[name={item}]")
    expert.fill("#opinion-form textarea[name=opinion]", "项目依托政务云，数据共享方案可行，同意。")
    expert.click("#opinion-form #give")
    expert.wait_for_load_state()
    assert "项目依托政务云" in expert.inner_text("#opinion-list")
    shot(expert, "expert-project")
    foreign = seed.extra["project_id"][1]
    assert go(expert, f"{base}/projects/{foreign}").status == 404

    # -- 初审 with the checklist, the annual plan, 市政府, 发改委, the design review
    go(bureau, project_url)
    for item in ("fits_plan", "on_cloud", "data_sharing", "technology"):
        bureau.check(f"#review-form input[name={item}]")
    bureau.fill("#review-form textarea[name=opinion]", "符合全市信息化规划")
    bureau.click("#review-form #passed")
    bureau.wait_for_load_state()
    assert bureau.inner_text("#project-state") == "通过初审", alerts(bureau)
    bureau.fill("#plan-form textarea[name=reason]", "利于信息惠民")
    bureau.click("#plan-form button")
    bureau.wait_for_load_state()
    assert bureau.inner_text("#project-state") == "列入年度计划"
    year = datetime.now(ZoneInfo("Asia/Shanghai")).year + 1
    go(bureau, f"{base}/projects/plan/{year}")
    assert "社会信用信息平台" in bureau.inner_text("#plan-table")
    bureau.fill("#approve-plan-form input[name=document_number]", f"酒政发〔{year}〕8号")
    bureau.fill("#approve-plan-form input[name=decided_on]", f"{year - 1}-12-28")
    bureau.click("#approve-plan-form #approve")
    bureau.wait_for_load_state()
    assert f"酒政发〔{year}〕8号" in bureau.inner_text("#plan-status")
    shot(bureau, "bureau-plan")
    go(bureau, project_url)
    bureau.fill("#feasibility-form input[name=document_number]", f"酒发改审批〔{year}〕30号")
    bureau.fill("#feasibility-form input[name=decided_on]", f"{year}-02-01")
    bureau.click("#feasibility-form #approve")
    bureau.wait_for_load_state()
    assert bureau.inner_text("#project-state") == "已立项", alerts(bureau)
    path = tmp_path / "实施方案.pdf"
    path.write_bytes(PDF)
    dept.reload()
    dept.select_option("#upload-form select[name=purpose]", "design")
    dept.set_input_files("#upload-form input[name=document]", str(path))
    dept.click("#upload-form #upload")
    dept.wait_for_load_state()
    dept.click("#submit-design-form button")
    dept.wait_for_load_state()
    assert dept.inner_text("#project-state") == "初步设计及概算评审中"
    go(bureau, project_url)
    bureau.select_option("#design-review-form select[name=body]", "expert")
    bureau.fill("#design-review-form input[name=reviewer]", "市信息化专家组")
    bureau.fill("#design-review-form input[name=approved_estimate]", "2450000")
    bureau.fill("#design-review-form textarea[name=approved_scope]", "信用信息归集、查询、联合奖惩，部署于政务云")
    bureau.fill("#design-review-form textarea[name=opinion]", "方案可行，概算核减")
    bureau.click("#design-review-form #approve")
    bureau.wait_for_load_state()
    assert bureau.inner_text("#project-state") == "初步设计及概算评审通过", alerts(bureau)
    shot(bureau, "bureau-project")

    # -- procurement, construction, acceptance with rectification (the service, as the pages do)
    from portal.models.accounts import User
    from portal.services import projects
    from portal.services.audit import RequestInfo
    with Session(seed.engine, expire_on_commit=False) as s:
        d, b = (RequestInfo(actor=s.get(User, seed.user_ids[k])) for k in ("dept", "bureau"))
        projects.record_procurement(s, d, project_id, method="公开招标", supplier="某信用科技公司",
                                    contract_amount="2400000", supervisor="某监理公司", procured_on=date(year, 4, 1))
        projects.start_construction(s, d, project_id)
        projects.add_milestone(s, d, project_id, "数据归集完成", date(year, 7, 1), date(year, 7, 3))
        projects.request_acceptance(s, d, project_id)
        projects.record_acceptance(s, b, project_id, False, date(year, 10, 1), opinion="缺少等保测评报告",
                                   rectification_items="补充等保三级测评报告", rectification_deadline=date(year, 10, 31))
    dept.reload()
    assert dept.inner_text("#project-state") == "限期整改"
    assert "补充等保三级测评报告" in dept.inner_text("#acceptance-table")
    shot(dept, "department-rectification")
    dept.fill("#request-acceptance-form textarea[name=reason]", "整改完成")
    dept.click("#request-acceptance-form button")
    dept.wait_for_load_state()
    go(bureau, project_url)
    bureau.fill("#acceptance-form input[name=held_on]", f"{year}-10-25")
    bureau.fill("#acceptance-form textarea[name=opinion]", "整改到位，验收合格")
    bureau.click("#acceptance-form #approve")
    bureau.wait_for_load_state()
    assert bureau.inner_text("#project-state") == "使用中", alerts(bureau)
    assert bureau.inner_text("#warranty-end") == f"{year + 3}-10-25"

    # -- the auditor reads everything, acts on nothing; department B sees nothing of it
    auditor = as_user("auditor")
    go(auditor, f"{base}/projects/pipeline")
    assert "社会信用信息平台" in auditor.inner_text(".stage-in_use")
    shot(auditor, "auditor-pipeline")
    go(auditor, project_url)
    assert auditor.locator("#bureau-actions, #owner-actions, #upload-form").count() == 0
    assert auditor.locator(".decision").count() >= 9
    shot(auditor, "auditor-project")
    other = as_user("dept_b")
    assert go(other, project_url).status == 404
    shot(other, "other-department-404")
    with Session(seed.engine) as s:
        from portal.models.projects import Project
        assert s.scalar(select(Project.state).where(Project.id == project_id)) == "in_use"
    for p in pages.values():
        assert p.problems == []
        p.context.close()

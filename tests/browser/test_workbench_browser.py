"""Each role's day starts from its workbench (工作台, issue 17), in Chromium: the department applies from
"新建申请" with its documents attached before the first save and a live estimate, the bureau reviews
only from its to-do list ("开始审核" keeps the review form), the vendor finds its queue and incidents,
the department signs from its to-do list. Screenshots: /work/notes/shots/desk/ (and test-artifacts)."""
import pathlib
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.browser.test_portal_browser import SHOTS, browser, log_in, serving  # noqa: F401

pytestmark = pytest.mark.devcloud  # the form lists the dev cloud's flavors and images; the review its capacity
NOTES = pathlib.Path("/work/notes/shots/desk")
PDF = b"%PDF-1.4\n% document\n"


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    """The portal served on a free loopback port (seeded SQLite), with its app to add rates."""
    with serving(tmp_path_factory.mktemp("workbench")) as (base, app, seed):
        yield base, seed, app


def shot(page, name):
    for folder in (SHOTS, NOTES):
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"desk-{name}.png"), full_page=True)


def new_page(browser, problems):  # noqa: F811
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return context, page


def add_rates(app):
    from portal.database import utcnow
    from portal.extensions import db
    from portal.models.billing import Rate
    with app.app_context():
        for rtype, price in (("vcpu", "0.05"), ("ram", "0.02"), ("volume", "0.0015"), ("floating_ip", "0.0333")):
            db.session.add(Rate(resource_type=rtype, unit_price=Decimal(price),
                                effective_from=utcnow() - timedelta(days=1)))
        db.session.commit()


def test_each_role_starts_from_its_workbench(portal, browser, tmp_path):  # noqa: F811
    base, seed, app = portal
    problems = []
    plan, report = tmp_path / "建设方案.pdf", tmp_path / "自测报告.pdf"
    plan.write_bytes(PDF)
    report.write_bytes(PDF)

    # -- the department: its workbench, then 新建申请 with the documents before the first save
    dept_context, dept = new_page(browser, problems)
    log_in(dept, base, "a-user")
    assert dept.inner_text("#todo-badge") == "2"
    todos = dept.inner_text("#todo-list")
    assert "草稿未提交" in todos and "待签收回执" in todos
    assert "门户网站" in dept.inner_text("#systems")
    shot(dept, "department-workbench")
    dept.click("#new-request")
    dept.wait_for_load_state()
    assert dept.inner_text("h1") == "政务云资源需求申请"
    dept.fill("input[name=system_name]", "不动产登记系统")
    dept.fill("textarea[name=purpose]", "不动产登记业务办理")
    dept.fill("input[name=servers-1-name]", "web")
    dept.select_option("select[name=servers-1-flavor]", "m1.small")
    dept.select_option("select[name=servers-1-image]", "cirros-devcloud")
    dept.fill("input[name=servers-1-count]", "2")
    dept.fill("input[name=servers-1-data_volumes]", "50")
    dept.fill("input[name=rules-1-port]", "443")
    dept.fill("input[name=rules-1-source]", "10.0.0.0/8")
    dept.fill("input[name=bandwidth_mbps]", "100")
    dept.set_input_files("input[name=construction_plan_file]", str(plan))
    dept.set_input_files("input[name=self_test_file]", str(report))
    dept.wait_for_timeout(800)  # the estimate was asked for: no rate exists, so there is none
    assert not dept.is_visible("#cost-estimate") and "0.00" not in dept.inner_text("main")
    shot(dept, "request-form-no-prices")
    add_rates(app)
    dept.fill("input[name=floating_ips]", "1")
    dept.wait_for_selector("#cost-estimate", state="visible")
    # 2 x m1.small (1 vCPU, 2 GB) and 2 x 50 GB for 720 h with one IP: 261.58 元 (test_billing_estimate)
    assert "261.58 元" in dept.inner_text("#cost-estimate")
    shot(dept, "request-form-live-estimate")
    dept.click("#save-draft")
    dept.wait_for_load_state()
    assert "已保存" in dept.inner_text(".alert-success")
    documents = dept.inner_text("#documents")
    assert "建设方案.pdf" in documents and "自测报告.pdf" in documents
    dept.click("#save-submit")
    dept.wait_for_load_state()
    assert dept.inner_text("#request-state") == "已提交"
    assert "100 Mbps" in dept.inner_text("#bandwidth") and "办理时限" in dept.inner_text("#time-limit")
    request_url = dept.url
    dept.click("#main-nav a[href='/']")
    dept.wait_for_load_state()
    waiting = dept.inner_text("#waiting-list")
    assert "不动产登记系统" in waiting and "申请审核" in waiting and "截止" in waiting
    shot(dept, "department-waiting")

    # -- the bureau works only from its to-do list
    bureau_context, bureau = new_page(browser, problems)
    log_in(bureau, base, "bureau1")
    row = bureau.locator("#todo-list tr", has_text="不动产登记系统")
    assert "待审核申请" in row.inner_text() and "剩余" in row.inner_text()
    shot(bureau, "bureau-workbench")
    row.locator("a.todo-action").click()
    bureau.wait_for_load_state()
    review_url = bureau.url
    assert "/reviews/" in review_url and "容量核查" in bureau.inner_text("main")
    bureau.click("#start-review")
    bureau.wait_for_load_state()
    assert bureau.url == review_url  # 开始审核 keeps the review form, not the department's page
    assert "审核中" in bureau.inner_text("main")
    capacity = bureau.inner_text("#capacity")
    assert "vCPU（核）" in capacity and "内存（GB）" in capacity and "系统盘（GB）" in capacity
    assert "MEMORY_MB" not in capacity and "100 Mbps" in bureau.inner_text("#bandwidth")
    shot(bureau, "bureau-review")
    bureau.fill("textarea[name=comment]", "同意")
    bureau.click("#approve")
    bureau.wait_for_load_state()
    assert bureau.inner_text("#request-state") == "已批准"
    bureau.click("#main-nav a[href='/']")
    bureau.wait_for_load_state()
    assert "不动产登记系统" not in bureau.inner_text("#workbench")

    # -- the vendor: the approved request in its queue, the open incidents, the grants awaiting departments
    vendor_context, vendor = new_page(browser, problems)
    log_in(vendor, base, "vendor1")
    todos = vendor.inner_text("#todo-list")
    assert "不动产登记系统" in todos and "资源开通" in todos and "未关闭的故障事件" in todos
    assert "运维授权审批" in vendor.inner_text("#waiting-list")
    shot(vendor, "vendor-workbench")
    vendor.locator("#todo-list tr", has_text="故障事件").first.locator("a.todo-action").click()
    vendor.wait_for_load_state()
    assert "/incidents/" in vendor.url

    # -- the department signs its receipt from its to-do list
    dept.goto(base + "/")
    dept.locator("#todo-list tr", has_text="待签收回执").locator("a.todo-action").click()
    dept.wait_for_load_state()
    assert dept.inner_text("h1") == "政务云资源交付回执单" and "带宽" in dept.inner_text("#receipt-header")
    dept.click("#confirm-receipt")
    dept.wait_for_load_state()
    dept.click("#main-nav a[href='/']")
    dept.wait_for_load_state()
    assert "待签收回执" not in dept.inner_text("#workbench")
    assert dept.inner_text("#todo-badge") == "1"
    shot(dept, "department-after-signing")
    dept.goto(request_url)
    assert dept.inner_text("#request-state") == "已批准"

    # -- the administrators and the auditor have theirs too
    for username, name in (("auditor1", "auditor"), ("admin1", "admin"), ("security1", "security")):
        context, page = new_page(browser, problems)
        log_in(page, base, username)
        assert page.is_visible("#workbench")
        shot(page, f"{name}-workbench")
        context.close()
    assert problems == []
    for context in (dept_context, bureau_context, vendor_context):
        context.close()

"""Lifecycle truth in Chromium (issue 17): the bureau's decommission review (what will be deleted, the
data's clearance, no green channel), the decommission 已注销 with its 注销回执, the system's first
request superseded, "申请资源变更" asking first and the per-server lines of 附件2. Screenshots go to
test-artifacts/screenshots/ (lifecycle-*.png)."""
import pytest

from tests.browser.test_portal_browser import SHOTS, browser, log_in, serving  # noqa: F401
from tests.integration.test_requests_lifecycle import carry_out, make_system


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    """The portal on a free loopback port, with its app (to add the rows of a system)."""
    with serving(tmp_path_factory.mktemp("lifecycle")) as served:
        yield served


def new_page(browser, base, username):  # noqa: F811
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    log_in(page, base, username)
    return page


def test_decommission_review_receipt_and_superseded_request(portal, browser):  # noqa: F811
    base, app, seed = portal
    SHOTS.mkdir(parents=True, exist_ok=True)
    system_id, decom_id = make_system(app, seed)
    bureau = new_page(browser, base, "bureau1")
    bureau.goto(f"{base}/reviews/{decom_id}")
    plan = bureau.inner_text("#deletion-plan")
    assert "app-1" in plan and "5 GB" in plan and "云硬盘" in plan
    assert "已迁移至档案共享平台" in bureau.inner_text("#final-backup")
    assert bureau.locator("#green-channel").count() == 0
    bureau.screenshot(path=str(SHOTS / "lifecycle-decommission-review.png"), full_page=True)

    receipt_id = carry_out(app, seed, decom_id)
    dept = new_page(browser, base, "a-user")
    dept.goto(f"{base}/requests/{decom_id}")
    assert dept.inner_text("#request-state") == "已注销"
    dept.click("#receipt-link")
    dept.wait_for_load_state()
    assert dept.inner_text("#receipt-title") == "政务云资源注销回执"
    assert dept.inner_text("#receipt-time-label") == "注销时间"
    dept.screenshot(path=str(SHOTS / "lifecycle-decommission-receipt.png"), full_page=True)
    dept.goto(f"{base}/requests/{system_id}")
    assert "已注销" in dept.inner_text("#superseded") and dept.inner_text("#request-state") == "已注销"
    dept.screenshot(path=str(SHOTS / "lifecycle-superseded.png"), full_page=True)
    assert not bureau.problems and not dept.problems
    del receipt_id


def test_the_change_asks_first_then_one_server_alone(portal, browser):  # noqa: F811
    from tests.integration.test_requests_change_per_server import live_system
    base, app, seed = portal
    system_id = live_system(app, seed)
    dept = new_page(browser, base, "a-user")
    dept.goto(f"{base}/requests/{system_id}")
    dept.click("#start-change")
    dept.wait_for_load_state()
    assert "资源变更申请（附件2）草稿" in dept.inner_text("#change-confirm")
    dept.screenshot(path=str(SHOTS / "lifecycle-change-confirm.png"), full_page=True)
    dept.click("#confirm-change")
    dept.wait_for_load_state()
    rows = dept.inner_text("#per-server")
    assert "app-1" in rows and "app-2" in rows
    dept.select_option("select[name=inst-app-2-flavor]", "m1.small")
    dept.check("input[name=inst-app-1-cancel]")
    dept.fill("textarea[name=reason]", "app-1 下线，app-2 扩容")
    dept.click("#save-submit")
    dept.wait_for_load_state()
    assert "本次变更将删除app-1" in dept.inner_text("main")  # the guard of 第十条(二)
    dept.screenshot(path=str(SHOTS / "lifecycle-change-per-server.png"), full_page=True)
    assert not dept.problems

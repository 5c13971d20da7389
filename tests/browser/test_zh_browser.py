"""Chromium sees the portal's own widgets in Chinese (no "Choose File", "mm/dd/yyyy" or English
tooltips), the bureau's menu on one row at 1400 px, and the pages issue 17 found in English.
Screenshots: /work/notes/shots/zh/ (GOVCLOUD_ZH_SHOTS) and test-artifacts/screenshots/zh-*.png."""
import os
import pathlib

import pytest

from tests.browser.test_portal_browser import SHOTS, browser, log_in, serving  # noqa: F401
from tests.integration.conftest import clouds_yaml

ZH_SHOTS = pathlib.Path(os.environ.get("GOVCLOUD_ZH_SHOTS", str(SHOTS / "zh")))


@pytest.fixture(scope="module")
def zh_portal(tmp_path_factory):
    """The seeded portal with the scheduler's jobs and runs, an inventory snapshot and audit
    events with before/after values (tests/operations_seed.py)."""
    from sqlalchemy.orm import Session

    from tests.operations_seed import seed_operations
    with serving(tmp_path_factory.mktemp("zh"), CLOUDS_YAML=str(clouds_yaml()), CLOUD="devcloud") as (base, app, seed):
        with app.app_context(), Session(app.extensions["govcloud_db"][0]) as session:
            seed_operations(app, session, seed)
        ZH_SHOTS.mkdir(parents=True, exist_ok=True)
        yield base, seed


@pytest.fixture
def wide_page(browser):  # noqa: F811
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    yield page
    context.close()


def shot(page, name):
    page.screenshot(path=str(ZH_SHOTS / f"{name}.png"), full_page=True)


def test_the_bureaus_menu_is_one_row_at_1400_px(zh_portal, wide_page):
    base, seed = zh_portal
    log_in(wide_page, base, seed.users["bureau"])
    wide_page.goto(base + "/jobs")
    tops = wide_page.eval_on_selector_all("#main-nav .nav-link", "links => links.map(l => l.getBoundingClientRect().top)")
    assert len(tops) >= 12 and len(set(tops)) == 1, f"the menu wraps: rows at {sorted(set(tops))}"
    jobs = wide_page.inner_text("#jobs-table")
    assert "每分钟" in jobs and "每天 03:17" in jobs and "interval[" not in jobs
    assert "已检查 3 个" in jobs
    shot(wide_page, "jobs-bureau-1400")
    wide_page.goto(base + "/usage")
    usage = wide_page.inner_text("main")
    assert "运行中：4" in usage and "块存储服务：正常" in usage and "disk_bytes" not in usage
    shot(wide_page, "usage-bureau-1400")
    wide_page.goto(base + "/probes")
    shot(wide_page, "probes-bureau-1400")
    assert wide_page.problems == []


def test_audit_filter_and_the_date_picker(zh_portal, wide_page):
    base, seed = zh_portal
    log_in(wide_page, base, seed.users["auditor"])
    wide_page.goto(base + "/audit/?object_type=resource_request")
    assert wide_page.locator("#object_type option[value=resource_request]").inner_text() == "政务云资源需求申请"
    assert "共 1 条记录" in wide_page.inner_text("#audit-total")
    table = wide_page.inner_text("#audit-table")
    assert "ZWY-T-" in table and "系统名称：" in table and "{" not in table
    assert wide_page.get_attribute("#since", "type") == "text"  # not the browser's mm/dd/yyyy
    wide_page.click("#since")
    assert wide_page.locator(".date-picker").is_visible()
    assert "年" in wide_page.inner_text(".date-picker-head")
    shot(wide_page, "audit-date-picker")
    wide_page.locator(".date-picker-day", has_text="15").first.click()
    assert wide_page.input_value("#since").endswith("-15")
    wide_page.fill("#until", "2026-13-45")
    wide_page.click("#audit-search button[type=submit]")
    assert "请按“年-月-日”填写日期" in wide_page.inner_text("#audit-search")  # the portal's message, not the browser's
    shot(wide_page, "audit-client-check")
    wide_page.fill("#since", "")
    wide_page.fill("#until", "")
    wide_page.select_option("#object_type", "")
    wide_page.fill("#q", "修改")  # a word of the action's label (申请已修改), not its code
    wide_page.click("#audit-search button[type=submit]")
    wide_page.wait_for_load_state()
    assert "申请已修改" in wide_page.inner_text("#audit-table")
    shot(wide_page, "audit-search")
    assert wide_page.problems == []


def test_the_file_picker_is_the_portals(zh_portal, wide_page, tmp_path):
    base, seed = zh_portal
    log_in(wide_page, base, seed.users["admin"])
    wide_page.goto(base + "/calendar/2027/edit")
    picker = wide_page.locator(".file-picker")
    assert "选择文件" in picker.inner_text() and "未选择文件" in picker.inner_text()
    arrangement = tmp_path / "2027.txt"
    arrangement.write_text("元旦 2027-01-01\n", encoding="utf-8")
    wide_page.set_input_files(".file-picker input[type=file]", str(arrangement))
    assert wide_page.inner_text("[data-file-name]") == "2027.txt"
    shot(wide_page, "calendar-file-picker")
    assert wide_page.problems == []

"""Chromium (issue 20): each role's pages of emergency plans, drills, rectification and key changes.
The department draws up a plan and submits it, the bureau approves it and issues a rectification
notice, the department runs a drill (steps, result, follow-up) and answers the notice with
evidence, the vendor applies for a key change, the bureau approves it, the auditor reads. A
screenshot of every page per role goes to test-artifacts/screenshots/ (drills-*.png)."""
from datetime import timedelta

from portal.database import utcnow
from portal.workdays import CHINA
from tests.browser.test_portal_browser import SHOTS, browser, live_portal, log_in, page  # noqa: F401

SHOTS_TAKEN = []


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"drills-{name}.png"), full_page=True)
    SHOTS_TAKEN.append(name)


def log_out(page):
    page.click("#logout")
    page.wait_for_load_state()


def go(page, url):
    response = page.goto(url)
    assert response.status == 200, (url, response.status)
    return response


def submit(page, selector):
    page.click(selector)
    page.wait_for_load_state()


def test_each_role_walks_its_duty_pages(live_portal, page, tmp_path):
    base, seed = live_portal
    today = utcnow().astimezone(CHINA).date()

    # -- the department: its plans, a new plan, submitted
    log_in(page, base, seed.users["dept"])
    go(page, base + "/duties/")
    assert page.inner_text("h1").startswith("应急预案与演练")
    assert "门户网站专项应急预案" in page.inner_text("#plans-table")
    assert "政务云总体应急预案" in page.inner_text("#plans-table")  # the platform's, within whose framework
    shot(page, "dept-1-plans")
    submit(page, "#new-plan")
    page.fill("#title", "门户网站数据恢复预案")
    page.fill("#scenario", "数据库损坏，需要从备份恢复")
    page.fill("#roles", "总指挥：决定启动预案\n技术组：恢复数据")
    page.fill("#steps", "发现并报告\n从备份恢复\n验证业务")
    page.fill("#rto_minutes", "60")
    page.fill("#rpo_minutes", "1440")
    shot(page, "dept-2-new-plan")
    submit(page, "#submit")
    assert "预案已保存为草稿" in page.inner_text(".alert-success")
    plan_url = page.url
    submit(page, "#submit-version")
    assert "已提交管理局审批" in page.inner_text(".alert-success")
    assert page.inner_text("#version-1 .version-state") == "待审批"
    shot(page, "dept-3-plan-submitted")
    log_out(page)

    # -- the bureau: approves the plan, sees the calendar, issues a rectification notice
    log_in(page, base, seed.users["bureau"])
    go(page, plan_url)
    page.fill("#note", "同意，请按期演练")
    shot(page, "bureau-1-plan-to-approve")
    submit(page, "#approve-version")
    assert "已批准并生效" in page.inner_text(".alert-success")
    assert "第 1 版生效" in page.inner_text("#plan-state")
    shot(page, "bureau-2-plan-approved")
    go(page, base + "/duties/drills")
    assert "年演练计划" in page.inner_text("h1")
    shot(page, "bureau-3-drill-calendar")
    go(page, base + "/duties/rectifications/new")
    page.select_option("#target", "department")
    page.select_option("#department_id", str(seed.dept_a))
    page.fill("#title", "日志留存不足")
    page.fill("#finding", "操作日志只留存30天")
    page.fill("#requirement", "日志至少留存六个月")
    page.fill("#due_date", (today + timedelta(days=10)).isoformat())
    page.keyboard.press("Escape")
    shot(page, "bureau-4-issue-notice")
    submit(page, "#submit")
    assert "已下发" in page.inner_text(".alert-success")
    notice_url = page.url
    shot(page, "bureau-5-notice")
    go(page, base + "/duties/rectifications")
    shot(page, "bureau-6-notices")
    go(page, base + "/duties/key-changes")
    assert "云平台版本升级" in page.inner_text("#key-changes-table")
    shot(page, "bureau-7-key-changes")
    log_out(page)

    # -- the department: schedules and runs a drill of its approved plan, answers the notice
    log_in(page, base, seed.users["dept"])
    go(page, plan_url)
    submit(page, "#schedule-drill")
    page.fill("#scheduled_for", today.isoformat())
    page.keyboard.press("Escape")
    page.fill("#title", "门户网站恢复演练（第二次）")
    page.fill("#scenario", "数据库损坏")
    shot(page, "dept-4-schedule-drill")
    submit(page, "#submit")
    assert "演练已列入计划" in page.inner_text(".alert-success")
    page.fill("#drill-actions #participants", "张三（信息中心）\n李四（云服务商）")
    shot(page, "dept-5-drill-scheduled")
    submit(page, "#start-drill")
    assert page.inner_text("#drill-state") == "进行中"
    page.fill("#step-form #title", "发现故障并报告")
    page.fill("#step-form #actor", "张三")
    submit(page, "#step-form button[type=submit]")
    page.fill("#step-form #title", "通知值班人员")
    page.select_option("#step-form #outcome", "problem")
    page.fill("#step-form #note", "值班电话未接通")
    submit(page, "#step-form button[type=submit]")
    assert page.locator("#timeline .timeline-step").count() == 2
    shot(page, "dept-6-drill-running")
    page.select_option("#finish-form #result", "partial")
    page.fill("#finish-form #summary", "业务在目标时间内恢复")
    page.fill("#finish-form #problems", "值班电话未接通")
    submit(page, "#finish-form button[type=submit]")
    assert page.inner_text("#drill-state") == "已完成，整改进行中"
    page.fill("#follow-up-form #description", "更新值班电话表")
    page.fill("#follow-up-form #owner", "张三")
    page.fill("#follow-up-form #due_date", (today + timedelta(days=14)).isoformat())
    page.keyboard.press("Escape")
    submit(page, "#follow-up-form button[type=submit]")
    assert page.locator("#follow-ups .follow-up").count() == 1
    shot(page, "dept-7-drill-completed")
    page.fill(".close-follow-up input[name=note]", "已更新值班电话表")
    submit(page, ".close-follow-up button")
    assert page.inner_text("#drill-state") == "已关闭"
    shot(page, "dept-8-drill-closed")
    go(page, notice_url)
    evidence = tmp_path / "整改证明.pdf"
    evidence.write_bytes(b"%PDF-1.4\n% evidence\n")
    page.fill("#answer-form #text", "日志留存已调整为六个月")
    page.set_input_files("#answer-form #document", str(evidence))
    shot(page, "dept-9-answer-notice")
    submit(page, "#answer-form button[type=submit]")
    assert "已提交管理局" in page.inner_text(".alert-success")
    assert "整改证明.pdf" in page.inner_text("#answers-table")
    shot(page, "dept-10-notice-answered")
    go(page, base + "/duties/drills")
    shot(page, "dept-11-drill-calendar")
    log_out(page)

    # -- the vendor: the platform's plan, a key change applied for
    log_in(page, base, seed.users["vendor"])
    go(page, base + "/duties/")
    shot(page, "vendor-1-plans")
    go(page, base + "/duties/key-changes/new")
    page.select_option("#kind", "network")
    page.fill("#title", "核心交换机更换")
    page.fill("#description", "更换核心交换机")
    page.fill("#impact", "切换时网络中断约五分钟")
    page.fill("#rollback_plan", "换回原交换机")
    start = (utcnow() + timedelta(days=4)).astimezone(CHINA)
    page.fill("#starts_at", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#ends_at", (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.check("#security_confirmed")
    shot(page, "vendor-2-apply-key-change")
    submit(page, "#submit")
    assert "已提交管理局审批" in page.inner_text(".alert-success")
    change_url = page.url
    shot(page, "vendor-3-key-change")
    go(page, base + "/duties/rectifications")
    shot(page, "vendor-4-notices")
    log_out(page)

    # -- the bureau accepts the answer and approves the key change
    log_in(page, base, seed.users["bureau"])
    go(page, notice_url)
    shot(page, "bureau-8-notice-to-accept")
    submit(page, "#accept")
    assert page.inner_text("#rectification-state") == "已通过（关闭）"
    go(page, change_url)
    page.fill("#note", "同意，请在窗口内实施")
    shot(page, "bureau-9-key-change-to-approve")
    submit(page, "#approve")
    assert page.inner_text("#key-change-state") == "已批准"
    shot(page, "bureau-10-key-change-approved")
    log_out(page)

    # -- the auditor reads (no forms)
    log_in(page, base, seed.users["auditor"])
    go(page, base + "/duties/")
    shot(page, "auditor-1-plans")
    go(page, base + f"/duties/drills/{seed.extra['drill_id'][0]}")
    assert page.locator("form#finish-form, form#step-form, form#follow-up-form").count() == 0
    shot(page, "auditor-2-drill")
    go(page, notice_url)
    assert page.locator("#decision-form, #answer-form").count() == 0
    shot(page, "auditor-3-notice")
    assert page.problems == []
    assert len(SHOTS_TAKEN) >= 28

"""Chromium (issue 17): the vendor opens and resolves an incident by hand, the department finds it
through the unread badge of its inbox, objects to a maintenance window, and the bureau sees the
objection flagged. Screenshots of each page go to /work/notes/shots/notify/ (and test-artifacts)."""
import pathlib
import re

from tests.browser.test_portal_browser import SHOTS, browser, live_portal, log_in, page  # noqa: F401

NOTES_SHOTS = pathlib.Path("/work/notes/shots/notify")


def shot(page, name):
    for folder in (SHOTS, NOTES_SHOTS):
        if folder.parent.exists():
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / f"notify-{name}.png"), full_page=True)


def log_out(page):
    page.click("#logout")
    page.wait_for_load_state()


def test_incident_by_hand_inbox_and_objection(live_portal, page):
    base, seed = live_portal
    # the vendor opens an incident from the incident list
    log_in(page, base, seed.users["vendor"])
    page.goto(base + "/incidents/")
    page.click("#open-incident")
    page.select_option("#kind", "degradation")
    page.select_option("#department_id", str(seed.dept_a))
    page.fill("#system_name", "办公系统")
    page.fill("#title", "办公系统访问缓慢")
    page.fill("#detail", "负载均衡器一个节点异常")
    shot(page, "1-vendor-opens")
    page.click("#submit")
    page.wait_for_load_state()
    assert "故障事件已登记，已通知相关部门。" in page.inner_text(".alert-success")
    assert "性能下降" in page.inner_text("#incident-kind")
    incident_url = page.url
    shot(page, "2-vendor-incident")
    log_out(page)

    # the department sees the unread badge, opens the message, lands on the incident
    log_in(page, base, seed.users["dept"])
    assert page.inner_text("#inbox-unread").strip() == "1"
    page.click("#inbox-link")
    page.wait_for_load_state()
    assert "性能下降：办公系统访问缓慢" in page.inner_text("#inbox")
    shot(page, "3-department-inbox")
    page.click("#inbox button[name=open]")
    page.wait_for_load_state()
    assert page.url == incident_url
    assert page.locator("#inbox-unread").count() == 0
    # it objects to the maintenance window that affects it
    page.goto(base + f"/maintenance/{seed.extra['window_id'][0]}")
    page.fill("#reason", "月末结账期间不能停机")
    page.click("#object")
    page.wait_for_load_state()
    assert "本部门的异议已送达市大数据管理局和云服务商。" in page.inner_text(".alert-success")
    shot(page, "4-department-objects")
    page.goto(base + "/notifications/preferences")
    shot(page, "5-department-preferences")
    log_out(page)

    # the bureau: told in its inbox, sees the flag and the answers
    log_in(page, base, seed.users["bureau"])
    assert int(page.inner_text("#inbox-unread")) >= 1
    page.goto(base + f"/maintenance/{seed.extra['window_id'][0]}")
    assert "有部门提出异议" in page.inner_text("#objection-flag")
    assert "月末结账期间不能停机" in page.inner_text("#answers-table")
    shot(page, "6-bureau-window")
    log_out(page)

    # the vendor resolves the incident
    log_in(page, base, seed.users["vendor"])
    page.goto(incident_url)
    page.fill("#resolve-form textarea", "已替换异常节点")
    page.click("#resolve")
    page.wait_for_load_state()
    assert "故障事件已恢复，已通知相关部门。" in page.inner_text(".alert-success")
    assert page.inner_text("#incident-state").strip() == "已恢复"
    shot(page, "7-vendor-resolved")
    body = page.inner_text("main")
    assert not re.search(r"\b(outage|degradation|Resolve|Incident)\b", body)
    assert page.problems == []

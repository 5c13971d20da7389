"""In Chromium: a department's system page draws its availability and usage charts (uPlot, Beijing
time, Chinese words) with no console error (the CSP would report one), and a request's progress bar
moves by itself to done while a real worker provisions it on the dev cloud.
Screenshots: test-artifacts/screenshots/charts-*.png and progress-*.png."""
import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from portal.database import utcnow
from tests.browser.test_portal_browser import SHOTS, browser, log_in, serving  # noqa: F401
from tests.charts_seed import add_chart_data
from tests.integration.conftest import cleanup, cloud, run_id  # noqa: F401
from tests.integration.provisioning_support import approve_new, make_department, run_workers_until_settled
from tests.integration.test_requests_cloud_flow import purge_prefix

CHINA = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("charts")) as (base, app, seed):
        yield base, seed, app


def _context(browser, **extra):  # noqa: F811
    # London, not Beijing: a chart drawn in the browser's own zone would show other hours
    context = browser.new_context(locale="zh-CN", timezone_id="Europe/London",
                                  viewport={"width": 1280, "height": 1000}, **extra)
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    return context, page


def test_a_department_sees_its_systems_charts(served, browser):  # noqa: F811
    base, seed, app = served
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models.requests import ResourceRequest
    with app.app_context():
        system = db.session.scalars(select(ResourceRequest).where(
            ResourceRequest.department_id == seed.dept_a, ResourceRequest.state == "provisioned")).one()
        add_chart_data(db.session, system, utcnow())
        system_id = system.id
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = _context(browser)
    log_in(page, base, "a-user")
    page.goto(f"{base}/requests/{system_id}")
    page.wait_for_selector("#chart-grid[data-rendered]")
    assert page.get_attribute("#chart-grid", "data-rendered") == "5"
    captions = page.locator("#chart-grid figcaption").all_inner_texts()
    assert captions == ["可用率（%）", "响应时间（毫秒）", "vCPU（核）", "内存（GB）", "云硬盘（GB）"]
    assert page.locator("#chart-grid canvas").count() == 5
    legend = page.inner_text("#chart-availability .u-legend")
    assert "web-1（云主机状态）" in legend and "web-1:443（TCP 端口）" in legend and "北京时间" in legend
    assert "Time" not in legend
    assert page.inner_text("#month-availability").startswith("本月可用率：")
    # the cursor on the last hour: its time in Beijing, in Chinese, whatever the browser's zone
    payload = page.request.get(f"{base}/requests/{system_id}/charts.json").json()
    last = datetime.fromtimestamp(payload["charts"][0]["x"][-1], CHINA)
    over = page.locator("#chart-availability .u-over")
    box = over.bounding_box()
    over.hover(position={"x": box["width"] - 1, "y": box["height"] / 2})
    shown = page.inner_text("#chart-availability .u-legend .u-series:first-child .u-value")
    assert shown == f"{last.month}月{last.day}日 {last.hour:02d}:00", shown
    # the usage legend names its unit
    page.locator("#chart-usage-ram .u-over").hover(position={"x": box["width"] * 0.85, "y": 50})  # a day ago
    assert page.inner_text("#chart-usage-ram .u-legend .u-series:nth-child(2) .u-value") == "4 GB"
    page.mouse.move(0, 0)
    page.screenshot(path=str(SHOTS / "charts-department.png"), full_page=True)
    assert page.problems == []
    # another department's system: the page and the data are refused
    assert page.goto(f"{base}/requests/{seed.extra['request_id'][1]}").status == 404
    assert page.request.get(f"{base}/requests/{seed.extra['request_id'][1]}/charts.json").status == 404
    context.close()
    # the bureau sees the same system's charts
    context, page = _context(browser)
    log_in(page, base, "bureau1")
    page.goto(f"{base}/requests/{system_id}")
    page.wait_for_selector("#chart-grid[data-rendered]")
    assert page.get_attribute("#chart-grid", "data-rendered") == "5" and page.problems == []
    context.close()


@pytest.mark.devcloud
def test_the_progress_bar_moves_to_done_while_the_worker_provisions(served, browser, cloud, run_id, cleanup):  # noqa: F811
    base, seed, app = served
    prefix = f"gc{run_id}"
    cleanup(lambda: purge_prefix(cloud, prefix))
    code = f"PB{run_id[1:6]}".upper()
    _dept_id, user_id = make_department(app, code, f"进度测试局{run_id}")
    spec = {"servers": [{"name": "web", "flavor": "m1.tiny", "image": "cirros-devcloud", "count": 1,
                         "data_volumes": []}],
            "volumes": [{"name": "data", "size_gb": 1, "attach_to": "web-1"}],
            "rules": [{"protocol": "tcp", "port": "443", "source": "10.0.0.0/8"}], "floating_ips": 0}
    request_id = approve_new(app, user_id, seed.user_ids["bureau"], spec, system_name="进度演示系统")
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = _context(browser)
    log_in(page, base, f"u-{code.lower()}")
    page.goto(f"{base}/requests/{request_id}")
    assert page.inner_text("#request-state") == "已批准"
    assert page.get_attribute("#progress-bar", "value") == "0" and page.inner_text("#progress-state") == "排队中"

    failure = []

    def work():
        try:
            run_workers_until_settled(app, prefix, [request_id], timeout=420)
        except BaseException as exc:  # reported by the test below
            failure.append(exc)
    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    seen, steps, shot = [], [], False
    deadline = time.monotonic() + 480
    while time.monotonic() < deadline:
        value, step, classes = page.eval_on_selector(
            "#progress-bar", "b => [b.value, document.getElementById('progress-step').textContent, b.className]")
        if not seen or seen[-1] != value:
            seen.append(value)
        if not steps or steps[-1] != step:
            steps.append(step)
        if not shot and 0 < value < 100:
            page.screenshot(path=str(SHOTS / "progress-running.png"), full_page=True)
            shot = True
        if "is-done" in classes or "is-failed" in classes:
            break
        time.sleep(0.25)
    worker.join(timeout=120)
    assert not failure, failure
    assert "is-done" in page.get_attribute("#progress-bar", "class"), (seen, steps)
    assert seen == sorted(seen) and seen[-1] == 100 and len(seen) >= 4, seen  # it moved, never back
    assert page.inner_text("#progress-percent") == "100%"
    assert page.inner_text("#request-state") == "已开通"
    assert page.is_visible("#progress-reload")
    # the job's row below the bar follows too
    assert page.inner_text("#jobs tbody tr .job-state") == "成功"
    assert page.inner_text("#jobs tbody tr .job-step") == "生成资源交付回执单"
    assert any(s.startswith("等待云主机 web-1") for s in steps) or any(s.startswith("创建云主机 web-1") for s in steps), steps
    assert not any(":R" in s for s in steps), steps  # no raw code on the way
    page.screenshot(path=str(SHOTS / "progress-done.png"), full_page=True)
    # polling has stopped: no request for progress.json within a few intervals
    polled = []
    page.on("request", lambda r: polled.append(r.url) if "progress.json" in r.url else None)
    page.wait_for_timeout(5000)
    assert polled == []
    page.click("#progress-reload")
    page.wait_for_load_state()
    assert "资源交付回执单" in page.inner_text("#receipt-link") and page.problems == []
    page.screenshot(path=str(SHOTS / "progress-reloaded.png"), full_page=True)
    context.close()

"""A real browser (Debian's Chromium, headless) against a running portal: each role logs in,
sees its home page in Chinese, switches to English; a department user is refused another
department's pages. Screenshots go to test-artifacts/screenshots/."""
import contextlib
import pathlib
import threading

import pytest
from werkzeug.serving import make_server

from portal import migrate
from tests.conftest import PASSWORD, make_test_app, reset_and_seed

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SHOTS = pathlib.Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

# seeded user key -> (Chinese home title, English home title)
HOMES = {
    "dept": ("使用部门(单位)工作台：甲局", "Department workspace: 甲局"),
    "dept_admin": ("使用部门(单位)工作台：甲局", "Department workspace: 甲局"),
    "bureau": ("市大数据管理局工作台", "Big-data bureau workspace"),
    "vendor": ("云服务商运维工作台", "Cloud vendor operations workspace"),
    "auditor": ("审计工作台（只读）", "Audit workspace (read-only)"),
    "admin": ("系统管理", "System administration"),
    "security": ("安全管理", "Security administration"),
}


@pytest.fixture(scope="module")
def live_portal(tmp_path_factory):
    """The portal served by werkzeug on a free loopback port, on a seeded SQLite database."""
    with serving(tmp_path_factory.mktemp("browser")) as (base, _app, seed):
        yield base, seed


@contextlib.contextmanager
def serving(tmp, **config):
    """Serve a seeded portal (SQLite under tmp) on a free loopback port; yield (base URL, app, seed)."""
    app = make_test_app("sqlite:///" + str(tmp / "browser.db"), tmp / "instance", **config)
    migrate.upgrade(app.config["DATABASE_URL"])
    seed = reset_and_seed(app)
    seed.engine = app.extensions["govcloud_db"][0]  # for tests that put rows behind a page
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app, seed
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["govcloud_db"][0].dispose()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    assert pathlib.Path(CHROMIUM).exists(), "install Debian's chromium: apt-get install chromium fonts-noto-cjk"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    yield page
    context.close()


def log_in(page, base, username):
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_load_state()


def test_login_page_is_chinese_and_clean(live_portal, page):
    base, _seed = live_portal
    SHOTS.mkdir(parents=True, exist_ok=True)
    response = page.goto(base + "/login")
    assert response.status == 200
    assert page.inner_text("h1") == "登录政务云服务门户"
    assert page.locator("label[for=username]").inner_text() == "用户名"
    # Bootstrap is served locally and applied: the primary button is not the browser's grey
    colour = page.eval_on_selector("#submit", "e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(13, 110, 253)"
    page.screenshot(path=str(SHOTS / "login.png"), full_page=True)
    assert page.problems == []  # no CSP violation, no missing file


def test_wrong_password_message_in_chinese(live_portal, page):
    base, seed = live_portal
    page.goto(base + "/login")
    page.fill("#username", seed.users["vendor"])
    page.fill("#password", "wrong-password-9")
    page.click("#submit")
    assert "用户名或密码错误，" in page.inner_text(".alert")


@pytest.mark.parametrize("key", list(HOMES))
def test_role_home_in_chinese_then_english(live_portal, page, key):
    base, seed = live_portal
    log_in(page, base, seed.users[key])
    chinese, english = HOMES[key]
    assert page.url == base + "/"
    assert page.inner_text("#home-title") == chinese
    assert "首页" in page.inner_text("#main-nav")
    page.screenshot(path=str(SHOTS / f"home-{key}.png"), full_page=True)
    page.select_option("#language-form select", "en")
    page.click("#language-submit")
    page.wait_for_load_state()
    assert page.inner_text("#home-title") == english
    assert "Home" in page.inner_text("#main-nav")
    page.screenshot(path=str(SHOTS / f"home-{key}-en.png"), full_page=True)
    page.click("#logout")
    page.wait_for_load_state()
    assert page.url.startswith(base + "/login")
    assert page.problems == []


def test_department_user_is_refused_another_departments_pages(live_portal, page):
    base, seed = live_portal
    log_in(page, base, seed.users["dept"])
    own = page.goto(f"{base}/departments/{seed.dept_a}")
    assert own.status == 200 and page.inner_text("#department-name") == "甲局"
    for path in (f"/departments/{seed.dept_b}", f"/departments/{seed.dept_b}/contacts"):
        response = page.goto(base + path)
        assert response.status == 404
        assert "乙局" not in page.content()
        assert page.inner_text("#error-message") == "页面不存在，或您无权查看。"
    response = page.goto(f"{base}/departments/{seed.dept_b}/edit")
    assert response.status == 403
    page.screenshot(path=str(SHOTS / "department-refused.png"), full_page=True)


def test_bad_form_input_shows_chinese_errors_in_place(live_portal, page):
    base, seed = live_portal
    log_in(page, base, seed.users["bureau"])
    page.goto(base + "/departments/new")
    # the portal's own check first (forms.js, novalidate): a Chinese message beside the field, no
    # browser tooltip in English, nothing sent
    assert page.locator("main form[novalidate]").count() >= 1
    page.click("#submit")
    assert page.locator("#name.is-invalid").count() == 1
    assert "此项为必填项。" in page.locator(".invalid-feedback.d-block").all_inner_texts()
    page.screenshot(path=str(SHOTS / "department-form-client-check.png"), full_page=True)
    # then the server's checks, shown in place
    page.fill("#name", "测试局")
    for person in ("security_officer", "it_lead", "emergency_contact"):
        page.fill(f"#{person}_name", "王某")
        page.fill(f"#{person}_phone", "0571-1")
    page.fill("#code", "bad code")
    page.click("#submit")
    page.wait_for_load_state()
    assert page.url == base + "/departments/new"
    errors = page.locator(".invalid-feedback").all_inner_texts()
    assert "只能使用大写字母、数字、- 和 _。" in errors
    assert page.locator(".invalid-feedback").first.is_visible()
    page.screenshot(path=str(SHOTS / "department-form-errors.png"), full_page=True)
    page.goto(base + "/departments/")
    assert page.locator("#departments-table tbody tr").count() == 3
    page.screenshot(path=str(SHOTS / "departments-list.png"), full_page=True)
    assert page.problems == []


def test_admin_tables_render(live_portal, page):
    base, seed = live_portal
    log_in(page, base, seed.users["admin"])
    page.goto(base + "/users/?role=department")
    rows = page.locator("#users-table tbody tr")
    assert rows.count() == 5 and "a-admin" in page.inner_text("#users-table")
    assert "管理员" in page.inner_text("#users-table")
    page.screenshot(path=str(SHOTS / "users-list.png"), full_page=True)
    page.context.clear_cookies()
    log_in(page, base, seed.users["auditor"])  # 三权分立: the audit administrator reads the log, not the admin
    page.goto(base + "/audit/?action=auth.login")
    assert page.locator("#audit-table tbody tr").count() >= 1
    audit_table = page.inner_text("#audit-table")
    assert "登录" in audit_table and "登录失败" not in audit_table and "用户 " in audit_table
    page.screenshot(path=str(SHOTS / "audit-log.png"), full_page=True)
    assert page.problems == []


def test_second_factor_enrolment_shows_the_qr_code_and_logs_in_with_a_code(live_portal, page):
    """The QR code is an SVG data: URI the CSP allows (no console error); the code step follows
    the password once the second factor is on."""
    import time

    import pyotp
    base, seed = live_portal
    log_in(page, base, seed.users["dept_b_admin"])
    page.goto(base + "/account/second-factor")
    assert page.eval_on_selector("#totp-qr", "img => img.complete && img.naturalWidth > 0")
    secret = page.inner_text("#totp-secret").strip()
    page.screenshot(path=str(SHOTS / "second-factor-enrol.png"), full_page=True)
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("#submit")
    page.wait_for_load_state()
    assert len(page.query_selector_all("#recovery-codes code")) == 10
    page.click("#logout")
    page.wait_for_load_state()
    log_in(page, base, seed.users["dept_b_admin"])
    assert page.url == base + "/login/code"
    page.fill("#code", pyotp.TOTP(secret).at(time.time() + 30))  # the enrolment's step is spent
    page.click("#submit")
    page.wait_for_load_state()
    assert page.url == base + "/"
    assert page.problems == []


def test_jobs_page_names_the_leading_scheduler_and_the_last_takeover(live_portal, page):
    """Two schedulers' leadership, the first's lease run out: /jobs in Chinese names the leader, its
    token and the takeover from the first."""
    from datetime import datetime, timedelta, timezone

    from sqlalchemy.orm import Session

    from portal.models.operations import SchedulerLease
    from scheduler.leader import Leadership

    base, seed = live_portal
    first, second = Leadership(seed.engine, "sched-a:101", 15), Leadership(seed.engine, "sched-b:202", 15)
    assert first.tick() and not second.tick()
    with Session(seed.engine) as session:
        lease = session.get(SchedulerLease, "scheduler")
        lease.expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
        lease.renewed_at = datetime.now(timezone.utc) - timedelta(seconds=16)
        session.commit()
    assert second.tick()
    log_in(page, base, seed.users["vendor"])
    page.goto(base + "/jobs")
    card = page.inner_text("#scheduler-leader")
    assert "主调度进程" in card and "sched-b:202" in card and "主用中" in card and "令牌 2" in card
    assert "最近一次接管" in card and "接管自 sched-a:101" in card and "累计接管 1 次" in card
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "jobs-scheduler-leader.png"), full_page=True)
    assert page.problems == []

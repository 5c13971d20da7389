"""Chromium (issue 20): a department rates the vendor (a low score is refused without its reason) and
reads its security monitoring report; the bureau sees the ratings, computes the 2025 assessment from
the seeded data and signs it; the vendor and the auditor read it (no forms). Screenshots of each page
per role go to test-artifacts/screenshots/evaluation-*.png."""
from datetime import datetime

import pytest

from portal.services import security_reports
from portal.services.audit import RequestInfo
from portal.workdays import CHINA
from tests.browser.test_portal_browser import SHOTS, browser, log_in, page, serving  # noqa: F401
from tests.integration.test_security_reports import seed_november
from tests.integration.test_vendor_evaluation import DAYS_SINCE, QUARTER, YEAR, seed_2025


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("evaluation"), EVALUATION_WINDOW_DAYS=DAYS_SINCE + 10,
                 EVALUATION_DRILLS_PER_YEAR=3) as (base, app, seed):
        seed_2025(app, seed)
        seed_november(app, seed)
        from portal.extensions import db
        with app.app_context():
            security_reports.generate_period(db.session, RequestInfo(), app.config,
                                             datetime(2026, 12, 1, 2, 15, tzinfo=CHINA))
        yield base, seed


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"evaluation-{name}.png"), full_page=True)


def log_out(page):
    page.click("#logout")
    page.wait_for_load_state()


def test_each_role_on_the_evaluation_pages(portal, page):
    base, seed = portal
    # the department: its ratings, the form, a low score refused without a reason, then recorded
    log_in(page, base, seed.users["dept"])
    page.goto(base + "/evaluation/")
    assert "评价正在进行" in page.inner_text("#rating-open")
    shot(page, "1-department-ratings")
    page.click("#rate-now")
    page.wait_for_load_state()
    assert page.inner_text("h1") == f"评价云服务商（{YEAR} 年第 {QUARTER} 季度）"
    page.check("#attitude-1")    # 4
    page.check("#response-2")    # 3
    page.check("#resolution-3")  # 2: low
    page.fill("#comment", "日常响应尚可")
    page.click("#submit")
    page.wait_for_load_state()
    assert "需说明理由" in page.inner_text("#rating-form")
    shot(page, "2-department-low-score-refused")
    page.fill("#low_reason", "十一月办公系统中断近十小时才恢复")
    page.click("#submit")
    page.wait_for_load_state()
    assert "评价已记录" in page.inner_text(".alert-success")
    assert "十一月办公系统中断近十小时才恢复" in page.inner_text("#low-reason")
    shot(page, "3-department-rating")
    # its security monitoring reports: only its own
    page.goto(base + "/security-reports/")
    rows = page.inner_text("#reports-table")
    assert "甲局" in rows and "乙局" not in rows and "2026年11月" in rows
    shot(page, "4-department-reports")
    page.click("#reports-table a >> nth=0")
    page.wait_for_load_state()
    assert "138****5678" in page.inner_text("#security-officer")
    assert "203.0.*.*" in page.inner_text("#section-failed_by_address")
    shot(page, "5-department-report")
    assert page.goto(base + "/evaluation/assessments").status == 403
    assert page.problems == ["Failed to load resource: the server responded with a status of 403 (FORBIDDEN)"]
    page.problems.clear()
    log_out(page)

    # the bureau: the ratings of every department, the assessment computed and signed
    log_in(page, base, seed.users["bureau"])
    assert page.locator("#evaluation-card").count() == 1  # from the home (the bureau's menu is full)
    page.click("#evaluation-card >> text=季度评价")
    page.wait_for_load_state()
    page.goto(base + f"/evaluation/?year={YEAR}")
    assert "4 / 3 / 2" in page.inner_text("#ratings-table")
    shot(page, "6-bureau-ratings")
    page.goto(base + "/evaluation/?year=2025")
    shot(page, "7-bureau-ratings-2025")
    page.goto(base + "/evaluation/assessments")
    page.fill("#year", "2025")
    shot(page, "8-bureau-compute")
    page.click("#compute-form [type=submit]")
    page.wait_for_load_state()
    assert page.inner_text("#assessment-total") == "58.00"
    assert page.inner_text("#assessment-state") == "草稿"
    shot(page, "9-bureau-assessment-draft")
    page.fill("#sign-form textarea", "经局务会审定")
    page.click("#sign-form [type=submit]")
    page.wait_for_load_state()
    assert page.inner_text("#assessment-state") == "已签发"
    assert page.locator("#sign-form").count() == 0 and page.locator("#recompute-form").count() == 0
    shot(page, "10-bureau-assessment-signed")
    log_out(page)

    # the vendor and the auditor read the signed sheet, without forms
    for key in ("vendor", "auditor"):
        log_in(page, base, seed.users[key])
        page.goto(base + "/evaluation/assessments")
        page.click("#assessments-table a >> text=2025")
        page.wait_for_load_state()
        assert page.inner_text("#assessment-total") == "58.00" and page.locator("form#sign-form").count() == 0
        shot(page, f"11-{key}-assessment")
        page.goto(base + "/security-reports/")
        assert "乙局" in page.inner_text("#reports-table")
        shot(page, f"12-{key}-reports")
        log_out(page)
    assert page.problems == []

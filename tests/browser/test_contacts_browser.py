"""Chromium (issue 20): the department keeps its contacts (adds a system owner, records a signed
confidentiality agreement, confirms), the bureau sees the overdue confirmations and the important
systems without a valid agreement, the vendor and the auditor see phones masked (the vendor in clear
where it has an open incident). Screenshots of each page per role go to test-artifacts/screenshots/."""
from datetime import date, datetime, timezone

from sqlalchemy import update
from sqlalchemy.orm import Session

from portal.models.accounts import Department
from portal.models.contacts import ConfidentialityAgreement
from portal.models.requests import ResourceRequest
from tests.browser.test_portal_browser import SHOTS, browser, live_portal, log_in, page  # noqa: F401

OWNER_PHONE = "13655556666"


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"contacts-{name}.png"), full_page=True)


def log_out(page):
    page.click("#logout")
    page.wait_for_load_state()


def test_contacts_and_agreements_for_each_role(live_portal, page):
    base, seed = live_portal
    system_a, system_b = seed.extra["system_id"]
    with Session(seed.engine) as session:  # the county is overdue; B's system is level 3 with an expired agreement
        session.execute(update(Department).where(Department.id == seed.county).values(
            contacts_confirmed_at=datetime(2025, 1, 10, 2, tzinfo=timezone.utc)))
        session.execute(update(ResourceRequest).where(ResourceRequest.id == system_b).values(security_level=3))
        session.execute(update(ConfidentialityAgreement).where(
            ConfidentialityAgreement.id == seed.extra["agreement_id"][1]).values(expires_on=date(2026, 10, 31)))
        session.commit()

    # the department: its own page, a system owner added, an agreement recorded, the contacts confirmed
    log_in(page, base, seed.users["dept"])
    page.goto(base + "/contacts/")
    assert page.url.endswith(f"/contacts/departments/{seed.dept_a}")
    assert "联系人与保密协议：甲局" in page.inner_text("h1")
    page.select_option("#kind", "system_owner")
    page.select_option("#system_id", str(system_a))
    page.fill("#name", "周负责")
    page.fill("#title", "科长")
    page.fill("#phone", OWNER_PHONE)
    page.fill("#email", "zhou@example.cn")
    page.click("#add")
    page.wait_for_load_state()
    assert "联系人已添加。" in page.inner_text(".alert-success")
    assert OWNER_PHONE in page.inner_text("#people-table")
    page.select_option("#agreement_system_id", str(system_a))
    page.fill("#parties", "甲局、云服务商")
    page.fill("#signed_on", "2026-11-20")
    page.fill("#expires_on", "2029-11-19")
    page.set_input_files("#document", files=[{"name": "保密协议.pdf", "mimeType": "application/pdf",
                                              "buffer": b"%PDF-1.4\n% signed\n"}])
    page.click("#save")
    page.wait_for_load_state()
    assert "保密协议已登记。" in page.inner_text(".alert-success")
    page.click("#confirm-form button, #confirm-form input[type=submit]")
    page.wait_for_load_state()
    assert "联系人信息已确认，谢谢。" in page.inner_text(".alert-success")
    assert "从未确认" not in page.inner_text("#confirmation")
    shot(page, "1-department")
    assert page.problems == []
    log_out(page)

    # the bureau: the overview with the overdue county and B's important system without a valid agreement
    log_in(page, base, seed.users["bureau"])
    page.goto(base + "/contacts/")
    assert "丙县人民政府" in page.inner_text("#overdue-table")
    missing = page.inner_text("#missing-table")
    assert "乙局" in missing and "门户网站" in missing and "甲局" not in missing
    shot(page, "2-bureau-overview")
    page.goto(base + f"/contacts/departments/{seed.dept_a}")
    assert OWNER_PHONE in page.inner_text("#people-table")
    shot(page, "3-bureau-department")
    assert page.problems == []
    log_out(page)

    # the vendor: A has an open incident (clear), the county has none (masked)
    log_in(page, base, seed.users["vendor"])
    page.goto(base + f"/contacts/departments/{seed.dept_a}")
    assert OWNER_PHONE in page.inner_text("#people-table")
    page.goto(base + f"/contacts/departments/{seed.county}")
    assert page.locator("#masked-note").count() == 1
    shot(page, "4-vendor-masked")
    page.goto(base + "/contacts/")
    shot(page, "5-vendor-overview")
    log_out(page)

    # the auditor: reads everything, phones masked, no forms
    log_in(page, base, seed.users["auditor"])
    page.goto(base + f"/contacts/departments/{seed.dept_a}")
    people = page.inner_text("#people-table")
    assert OWNER_PHONE not in people and "136****6666" in people and "z***@example.cn" in people
    assert page.locator("#person-form").count() == 0 and page.locator("#confirm-form").count() == 0
    shot(page, "6-auditor-masked")
    assert page.problems == []

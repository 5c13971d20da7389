"""Issue 20: contacts kept current (第二十六条), security officers and confidentiality agreements
(第十七条): the confirmation's reminders and overdue notice (Beijing days, once per threshold), the
agreements' expiry reminders and the bureau's missing list, the masking of phones and e-mails
(pages, API, audit records, export), the notifications of changes, access between departments."""
import base64
import io
import json
from datetime import date, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from portal.models.accounts import Department, User
from portal.models.audit import AuditEvent
from portal.models.contacts import ConfidentialityAgreement, ContactPerson, DutyNotice, ImportantSystem
from portal.models.operations import Notification
from portal.models.requests import ResourceRequest
from portal.services import contacts
from portal.services.api_tokens import create_token
from portal.services.audit import RequestInfo
from tests.conftest import csrf_token_from

CLEAR = "13812345678"
MASKED = "138****5678"
CLEAR_MAIL = "zhang.lead@example.cn"
MASKED_MAIL = "z***@example.cn"
API = "/api/v1"
BJ = timezone(timedelta(hours=8))
SETTINGS = {"CONTACT_CONFIRM_MONTHS": 6, "CONTACT_REMIND_DAYS": "30,7", "AGREEMENT_REMIND_DAYS": "60,30,7"}


@pytest.fixture
def auth(app, seed):
    from portal.extensions import db
    made = {}
    with app.app_context():
        for key in ("dept", "dept_b", "bureau", "vendor", "auditor"):
            user = db.session.get(User, seed.user_ids[key])
            made[key] = {"Authorization": "Bearer " + create_token(db.session, RequestInfo(actor=user), user,
                                                                     "contacts", scope="write", days=1)[1]}
    return made.__getitem__


def _bj(*args):
    return datetime(*args, tzinfo=BJ).astimezone(timezone.utc)


def _send(app, db_session, now):
    counts = contacts.send_notices(db_session, SETTINGS, now)
    db_session.expire_all()
    return counts


def _notified(db_session, user_id, topic):
    return db_session.scalar(select(Notification.id).where(
        Notification.user_id == user_id, Notification.topic == topic,
        Notification.channel == "inbox").limit(1)) is not None


# -- reminders and the overdue list ---------------------------------------------------------------

def test_confirmation_reminders_each_threshold_once_then_overdue_to_the_bureau(app, seed, db_session, login_as):
    # A was confirmed 2026-01-15 10:00 Beijing: due 2026-07-15 (the last day in time); the others later
    db_session.execute(update(Department).values(contacts_confirmed_at=datetime.now(timezone.utc)))
    db_session.execute(update(Department).where(Department.id == seed.dept_a)
                       .values(contacts_confirmed_at=_bj(2026, 1, 15, 10)))
    db_session.commit()
    a = db_session.get(Department, seed.dept_a)
    assert contacts.confirmation_due(a, contacts.DutySettings.from_config(SETTINGS), date(2026, 7, 1)).due_on \
        == date(2026, 7, 15)

    def sent(now):
        counts = _send(app, db_session, now)
        return counts["confirm_remind"], counts["confirm_overdue"]

    assert sent(_bj(2026, 6, 14, 23, 59)) == (0, 0)        # 31 days left
    assert sent(_bj(2026, 6, 15, 0, 0)) == (1, 0)          # 30 days left: the first threshold
    assert sent(_bj(2026, 6, 20, 12, 0)) == (0, 0)         # once per threshold
    assert sent(_bj(2026, 7, 8, 0, 1)) == (1, 0)           # 7 days left: the second
    assert sent(_bj(2026, 7, 15, 23, 59)) == (0, 0)        # the due day itself is still in time
    # 2026-07-15 16:00 UTC is 07-16 00:00 in Beijing: overdue (by UTC it would still be the 15th)
    assert sent(datetime(2026, 7, 15, 15, 59, tzinfo=timezone.utc)) == (0, 0)
    assert sent(datetime(2026, 7, 15, 16, 0, tzinfo=timezone.utc)) == (0, 1)
    assert sent(_bj(2026, 7, 20, 9)) == (0, 0)             # told once
    notices = db_session.scalars(select(DutyNotice).where(DutyNotice.object_id == seed.dept_a)
                                 .order_by(DutyNotice.id)).all()
    assert [(n.kind, n.threshold) for n in notices] == [("confirm_remind", 30), ("confirm_remind", 7),
                                                       ("confirm_overdue", 0)]
    topic = f"contacts-confirm:{seed.dept_a}"
    assert _notified(db_session, seed.user_ids["bureau"], topic)          # the overdue notice
    assert _notified(db_session, seed.user_ids["dept"], topic)
    assert not _notified(db_session, seed.user_ids["dept_b"], topic)

    # the bureau's overdue list (today is later than 2026-07-15): A is there, the others are not
    page = login_as("bureau").get("/contacts/").get_data(as_text=True)
    overdue = page.split('id="overdue-table"')[1].split("</table>")[0]
    assert "甲局" in overdue and "乙局" not in overdue and "2026-07-15" in overdue
    # the department confirms on its page: no longer overdue, audited
    dept = login_as("dept")
    own = dept.get(f"/contacts/departments/{seed.dept_a}").get_data(as_text=True)
    assert 'id="confirm-form"' in own
    response = dept.post(f"/contacts/departments/{seed.dept_a}/confirm", data={"csrf_token": csrf_token_from(own)})
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(Department, seed.dept_a).contacts_confirmed_by == seed.users["dept"]
    assert db_session.scalar(select(AuditEvent.id).where(AuditEvent.action == "department.contacts_confirm",
                                                         AuditEvent.department_id == seed.dept_a)) is not None
    page = login_as("bureau").get("/contacts/").get_data(as_text=True)
    assert "甲局" not in page.split('id="overdue-table"')[1].split("</table>")[0]


# -- agreements: expiry reminders and the missing list -----------------------------------------------

def test_agreement_reminders_expiry_and_the_bureaus_missing_list(app, seed, db_session, login_as, auth):
    system_a, system_b = seed.extra["system_id"]
    agreement_a, agreement_b = seed.extra["agreement_id"]
    db_session.execute(update(Department).values(contacts_confirmed_at=datetime.now(timezone.utc)))
    db_session.execute(update(ConfidentialityAgreement).where(ConfidentialityAgreement.id == agreement_a)
                       .values(expires_on=date(2026, 8, 31)))
    db_session.commit()

    def sent(now):
        counts = _send(app, db_session, now)
        return counts["agreement_remind"], counts["agreement_expired"]

    assert sent(_bj(2026, 7, 1, 23, 59)) == (0, 0)   # 61 days left
    assert sent(_bj(2026, 7, 2, 0, 0)) == (1, 0)     # 60
    assert sent(_bj(2026, 7, 2, 18, 0)) == (0, 0)
    assert sent(_bj(2026, 8, 1, 8, 0)) == (1, 0)     # 30
    assert sent(_bj(2026, 8, 24, 8, 0)) == (1, 0)    # 7
    assert sent(_bj(2026, 8, 31, 23, 59)) == (0, 0)  # valid through its last day
    assert sent(_bj(2026, 9, 1, 0, 0)) == (0, 1)     # expired: the bureau is told, once
    assert sent(_bj(2026, 9, 5, 0, 0)) == (0, 0)
    assert _notified(db_session, seed.user_ids["bureau"], f"agreement:{agreement_a}")
    assert _notified(db_session, seed.user_ids["dept"], f"agreement:{agreement_a}")

    # level-2 systems are not important: nothing missing yet (A's agreement has expired by now)
    bureau = login_as("bureau")
    assert 'id="missing-count">0<' in bureau.get("/contacts/").get_data(as_text=True)
    # the bureau marks A's system important: its agreement expired, so it is missing
    page = bureau.get(f"/contacts/departments/{seed.dept_a}").get_data(as_text=True)
    response = bureau.post(f"/contacts/departments/{seed.dept_a}/systems/{system_a}/important",
                           data={"csrf_token": csrf_token_from(page), "reason": "涉及敏感信息", "mark": "1"})
    assert response.status_code == 302
    # B's system reaches security level 3 (a carried-out change): important, its agreement is valid
    # the department cannot lift the mark (it would shed the agreement it needs); the bureau can
    dept = login_as("dept")
    token = csrf_token_from(dept.get(f"/contacts/departments/{seed.dept_a}").get_data(as_text=True))
    assert dept.post(f"/contacts/departments/{seed.dept_a}/systems/{system_a}/ordinary",
                     data={"csrf_token": token}).status_code == 403
    assert bureau.post(f"{API}/contacts/departments/{seed.dept_a}/systems/{system_a}/important",
                       headers=auth("dept"), json={"important": False}).status_code == 403
    assert db_session.scalar(select(ImportantSystem.reason).where(ImportantSystem.system_id == system_a)) \
        == "涉及敏感信息"
    db_session.execute(update(ResourceRequest).where(ResourceRequest.id == system_b).values(security_level=3))
    db_session.commit()
    index = bureau.get("/contacts/").get_data(as_text=True)
    missing = index.split('id="missing-table"')[1].split("</table>")[0]
    assert "甲局" in missing and "涉及敏感信息" not in missing and "乙局" not in missing
    assert 'id="missing-count">1<' in index
    listed = bureau.get(f"{API}/agreements/missing", headers=auth("bureau")).get_json()["items"]
    assert [(i["department_id"], i["system_id"], i["marked_important"], i["latest_expires_on"]) for i in listed] \
        == [(seed.dept_a, system_a, True, "2026-08-31")]
    # B's agreement ends: B's system joins the list; a department sees only its own
    db_session.execute(update(ConfidentialityAgreement).where(ConfidentialityAgreement.id == agreement_b)
                       .values(expires_on=date(2026, 11, 1)))
    db_session.commit()
    listed = bureau.get(f"{API}/agreements/missing", headers=auth("bureau")).get_json()["items"]
    assert {i["system_id"] for i in listed} == {system_a, system_b}
    own = bureau.get(f"{API}/agreements/missing", headers=auth("dept_b")).get_json()["items"]
    assert [i["system_id"] for i in own] == [system_b]

    # department A records a new agreement with its signed PDF: valid, no longer missing; a text file is refused
    dept = login_as("dept")
    page = dept.get(f"/contacts/departments/{seed.dept_a}").get_data(as_text=True)
    form = {"csrf_token": csrf_token_from(page), "system_id": str(system_a), "parties": "甲局、云服务商",
            "signed_on": "2026-11-20", "expires_on": "2029-11-19"}
    refused = dept.post(f"/contacts/departments/{seed.dept_a}/agreements", content_type="multipart/form-data",
                        data={**form, "document": (io.BytesIO(b"just text"), "a.txt")})
    assert refused.status_code == 302
    assert db_session.scalar(select(ConfidentialityAgreement.id).where(
        ConfidentialityAgreement.expires_on == date(2029, 11, 19))) is None
    saved = dept.post(f"/contacts/departments/{seed.dept_a}/agreements", content_type="multipart/form-data",
                      data={**form, "document": (io.BytesIO(b"%PDF-1.4\n% signed\n"), "保密协议-2026.pdf")})
    assert saved.status_code == 302
    new = db_session.scalar(select(ConfidentialityAgreement).where(
        ConfidentialityAgreement.expires_on == date(2029, 11, 19)))
    assert new is not None and new.filename == "保密协议-2026.pdf" and new.size == 18
    listed = bureau.get(f"{API}/agreements/missing", headers=auth("bureau")).get_json()["items"]
    assert [i["system_id"] for i in listed] == [system_b]
    document = dept.get(f"/contacts/agreements/{new.id}/document")
    assert document.status_code == 200 and document.data.startswith(b"%PDF")
    document.close()
    assert _notified(db_session, seed.user_ids["bureau"], f"agreement:{new.id}")
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "contacts.agreement_add"))
    assert event.after["expires_on"] == "2029-11-19" and event.department_id == seed.dept_a


# -- masking: pages, API, audit records, export ------------------------------------------------------

def _set_contacts(api, auth, key, department_id):
    response = api.patch(f"{API}/contacts/departments/{department_id}", headers=auth(key), json={
        "it_lead_name": "张主任", "it_lead_phone": CLEAR, "it_lead_email": CLEAR_MAIL,
        "backup_contact_name": "钱备岗", "backup_contact_phone": "13987654321"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _export_text(client):
    response = client.get("/contacts/contacts.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    return json.dumps([[c.value for c in row] for row in sheet.iter_rows()], ensure_ascii=False)


def test_phones_and_emails_are_masked_for_whoever_may_not_see_them(app, seed, db_session, login_as, auth):
    api = app.test_client()
    answer = _set_contacts(api, auth, "bureau", seed.county)   # the county: no incident, no grant
    assert answer["clear"] is True and any(p["phone"] == CLEAR for p in answer["people"])
    _set_contacts(api, auth, "dept", seed.dept_a)            # A has an open incident (the seed)

    # audit records: never the clear phone or e-mail, the masked ones instead
    events = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "department.contacts_update")).all()
    assert len(events) == 2
    recorded = json.dumps([[e.before, e.after] for e in events], ensure_ascii=False)
    assert CLEAR not in recorded and CLEAR_MAIL not in recorded and "13987654321" not in recorded
    assert MASKED in recorded and MASKED_MAIL in recorded and "139****4321" in recorded
    # nor in the notifications (they may leave by e-mail)
    bodies = json.dumps([n.body + n.subject for n in db_session.scalars(select(Notification))], ensure_ascii=False)
    assert CLEAR not in bodies and "信息化负责人" in bodies

    def shows(client, url):
        return client.get(url).get_data(as_text=True)

    auditor, vendor, bureau, dept_b = login_as("auditor"), login_as("vendor"), login_as("bureau"), login_as("dept_b")
    for url in (f"/contacts/departments/{seed.county}", f"/departments/{seed.county}"):
        for client, who in ((auditor, "auditor"), (vendor, "vendor")):
            page = shows(client, url)
            if who == "vendor" and url.startswith("/departments/"):
                assert "contacts-hidden" in page and CLEAR not in page   # as before issue 20: not shown at all
                continue
            assert CLEAR not in page and CLEAR_MAIL not in page, (who, url)
            assert MASKED in page and MASKED_MAIL in page, (who, url)
        page = shows(bureau, url)
        assert CLEAR in page and CLEAR_MAIL in page
    # the vendor on a department with an open incident sees them (it may have to call)
    assert CLEAR in shows(vendor, f"/contacts/departments/{seed.dept_a}")
    assert CLEAR not in shows(auditor, f"/contacts/departments/{seed.dept_a}")

    # the API: masked for the auditor and for the vendor on the county, clear for the bureau
    for key, department, clear in (("auditor", seed.county, False), ("vendor", seed.county, False),
                                   ("vendor", seed.dept_a, True), ("bureau", seed.county, True)):
        body = api.get(f"{API}/contacts/departments/{department}", headers=auth(key)).get_json()
        text = json.dumps(body, ensure_ascii=False)
        assert body["clear"] is clear and (CLEAR in text) is clear and (MASKED in text) is not clear, key

    # the export: every department's contacts, masked where the viewer may not see them
    assert CLEAR not in _export_text(auditor) and MASKED in _export_text(auditor)
    vendor_export = _export_text(vendor)
    assert vendor_export.count(CLEAR) == 1 and MASKED in vendor_export  # A in clear, the county masked
    assert _export_text(bureau).count(CLEAR) == 2
    own = _export_text(dept_b)
    assert CLEAR not in own and MASKED not in own and "乙局" in own and "甲局" not in own

    # the staff member's phone too (a contact_person row)
    page = shows(auditor, f"/contacts/departments/{seed.dept_a}")
    assert "13700000000" not in page and "137****0000" in page and "孙运维" in page


def test_changes_are_notified_to_the_bureau_and_the_vendor_and_audited(app, seed, db_session, login_as, auth):
    api = app.test_client()
    topic = f"contacts:{seed.dept_a}"
    response = api.post(f"{API}/contacts/departments/{seed.dept_a}/people", headers=auth("dept"), json={
        "kind": "system_owner", "system_id": seed.extra["system_id"][0], "name": "周负责", "title": "科长",
        "phone": "13600001111", "email": "zhou@example.cn"})
    assert response.status_code == 201, response.get_json()
    assert any(p["name"] == "周负责" and p["phone"] == "13600001111" and p["system_name"] == "门户网站"
               for p in response.get_json()["people"])
    for key in ("bureau", "vendor"):
        assert _notified(db_session, seed.user_ids[key], topic), key
    assert not _notified(db_session, seed.user_ids["dept_b"], topic)
    person = db_session.scalar(select(ContactPerson).where(ContactPerson.name == "周负责"))
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "contacts.person_add"))
    assert event.after["phone"] == "136****1111" and event.after["email"] == "z***@example.cn"
    # a department's own change confirms its contacts
    assert db_session.get(Department, seed.dept_a).contacts_confirmed_by == seed.users["dept"]

    # the web form: the bureau edits the emergency contact; the vendor and the bureau get one message each
    before = db_session.query(Notification).filter(Notification.topic == topic, Notification.channel == "inbox").count()
    bureau = login_as("bureau")
    page = bureau.get(f"/departments/{seed.dept_a}/contacts").get_data(as_text=True)
    form = {"csrf_token": csrf_token_from(page), "security_officer_name": "王安全", "security_officer_phone": "0571-1",
            "it_lead_name": "李信息", "it_lead_phone": "138", "emergency_contact_name": "赵应急",
            "emergency_contact_phone": "13911112222", "backup_contact_name": "钱备岗"}
    assert bureau.post(f"/departments/{seed.dept_a}/contacts", data=form).status_code == 302
    rows = db_session.scalars(select(Notification).where(Notification.topic == topic,
                                                         Notification.channel == "inbox")).all()
    assert len(rows) - before == 2  # one bureau user, one vendor user
    assert "紧急联系人（主）" in rows[-1].body and "紧急联系人（备）" in rows[-1].body
    assert "13911112222" not in rows[-1].body
    # the bureau's change is not the department's confirmation
    assert db_session.get(Department, seed.dept_a).contacts_confirmed_by == seed.users["dept"]

    # removing the person: audited (masked) and notified
    response = api.post(f"{API}/contacts/departments/{seed.dept_a}/people/{person.id}/removal", headers=auth("bureau"))
    assert response.status_code == 200 and all(p["name"] != "周负责" for p in response.get_json()["people"])
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "contacts.person_remove"))
    assert event.before["phone"] == "136****1111"


# -- access and hostile input -----------------------------------------------------------------------

def test_other_departments_get_404_and_hostile_input_changes_nothing(app, seed, db_session, login_as, auth):
    api = app.test_client()
    dept = login_as("dept")
    page = dept.get(f"/contacts/departments/{seed.dept_a}").get_data(as_text=True)
    token = csrf_token_from(page)
    assert dept.get(f"/contacts/departments/{seed.dept_b}").status_code == 404
    assert dept.post(f"/contacts/departments/{seed.dept_b}/people", data={
        "csrf_token": token, "kind": "staff", "system_id": "0", "name": "越权", "phone": "1"}).status_code == 404
    assert dept.get(f"/contacts/agreements/{seed.extra['agreement_id'][1]}/document").status_code == 404
    assert dept.get("/contacts/").status_code == 302  # a department goes to its own page
    # a system of another department is refused even on one's own page
    dept.post(f"/contacts/departments/{seed.dept_a}/people", data={
        "csrf_token": token, "kind": "system_owner", "system_id": str(seed.extra["system_id"][1]), "name": "越权",
        "phone": "1"})
    assert db_session.scalar(select(ContactPerson.id).where(ContactPerson.name == "越权")) is None
    for method, url in (("get", f"/contacts/departments/{seed.dept_b}"),
                        ("patch", f"/contacts/departments/{seed.dept_b}"),
                        ("post", f"/contacts/departments/{seed.dept_b}/confirmation")):
        response = getattr(api, method)(API + url, headers=auth("dept"), **({"json": {}} if method == "patch" else {}))
        assert response.status_code == 404, (method, url, response.status_code)
    # the auditor reads everything and changes nothing
    assert api.post(f"{API}/contacts/departments/{seed.dept_a}/people", headers=auth("auditor"), json={
        "kind": "staff", "name": "审计", "phone": "1"}).status_code == 403
    assert login_as("auditor").get(f"/contacts/departments/{seed.dept_b}").status_code == 200

    before = db_session.scalar(select(Department.it_lead_phone).where(Department.id == seed.dept_a))
    audits = db_session.query(AuditEvent).count()
    for body in ({"it_lead_phone": "<script>"}, {"it_lead_name": "x" * 65}, {"it_lead_email": "not-an-address"},
                 {"unknown": 1}, {"it_lead_phone": 13800000000}, {"it_lead_name": "a\u0000b"}):
        response = api.patch(f"{API}/contacts/departments/{seed.dept_a}", headers=auth("dept"), json=body)
        assert response.status_code == 422, body
    response = api.post(f"{API}/contacts/departments/{seed.dept_a}/people", headers=auth("dept"),
                        json={"kind": "boss", "name": "x", "phone": "1"})
    assert response.status_code == 422
    system_a = seed.extra["system_id"][0]
    agreement = {"system_id": system_a, "parties": "甲局、云服务商", "signed_on": "2026-11-20",
                 "expires_on": "2029-11-19", "filename": "协议.pdf"}
    for extra in ({"document_base64": "not base64!"}, {"document_base64": base64.b64encode(b"plain text").decode()},
                  {"document_base64": "QUJD" * 50_000}, {"document_base64": "JVBERi0=", "signed_on": 20261120},
                  {"document_base64": "JVBERi0=", "expires_on": "2026-11-01"},
                  {"document_base64": "JVBERi0=", "system_id": seed.extra["system_id"][1]}):
        response = api.post(f"{API}/contacts/departments/{seed.dept_a}/agreements", headers=auth("dept"),
                            json={**agreement, **extra})
        assert response.status_code == 422, (extra.keys(), response.status_code)
    db_session.expire_all()
    assert db_session.scalar(select(Department.it_lead_phone).where(Department.id == seed.dept_a)) == before
    assert db_session.query(AuditEvent).count() == audits
    assert db_session.query(ConfidentialityAgreement).count() == 2  # the seeded ones
    # the same, well formed: recorded with its document, valid
    response = api.post(f"{API}/contacts/departments/{seed.dept_a}/agreements", headers=auth("dept"), json={
        **agreement, "document_base64": base64.b64encode(b"%PDF-1.4\n% via API\n").decode()})
    assert response.status_code == 201, response.get_json()
    [system] = [s for s in response.get_json()["systems"] if s["system_id"] == system_a]
    assert system["has_valid_agreement"] and any(a["expires_on"] == "2029-11-19" and a["valid"]
                                                 for a in system["agreements"])


def test_the_scheduled_job_sends_them_once_and_records_its_figures(app, seed, db_session):
    from portal.models.operations import JobRun
    from scheduler import housekeeping, runtime
    # now: the county confirmed 2025-01-10 (overdue since 2025-07-10), B's agreement expired 2026-10-31
    db_session.execute(update(Department).values(contacts_confirmed_at=datetime.now(timezone.utc)))
    db_session.execute(update(Department).where(Department.id == seed.county)
                       .values(contacts_confirmed_at=datetime(2025, 1, 10, 2, tzinfo=timezone.utc)))
    db_session.execute(update(ConfidentialityAgreement).where(
        ConfidentialityAgreement.id == seed.extra["agreement_id"][1]).values(expires_on=date(2026, 10, 31)))
    db_session.commit()
    runtime.configure(app.config, app.extensions["govcloud_db"][0])
    housekeeping.contact_confirmations()
    housekeeping.contact_confirmations()
    runs = db_session.scalars(select(JobRun).where(JobRun.job_id == "contact_confirmations")
                              .order_by(JobRun.id)).all()
    assert [r.outcome for r in runs] == ["success", "success"]
    assert runs[0].figures == {"confirmations_reminded": 0, "confirmations_overdue": 1,
                               "agreements_reminded": 0, "agreements_expired": 1}
    assert runs[1].figures == dict.fromkeys(runs[0].figures, 0)  # once each
    assert _notified(db_session, seed.user_ids["bureau"], f"contacts-confirm:{seed.county}")
    assert _notified(db_session, seed.user_ids["bureau"], f"agreement:{seed.extra['agreement_id'][1]}")


def test_the_bureaus_overview_asks_the_database_the_same_number_of_times_for_20_more_departments(
        app, seed, db_session):
    """No query per department or per system: the overview and the missing list read them in bulk."""
    from sqlalchemy import event
    bureau = db_session.get(User, seed.user_ids["bureau"])
    duty, today = contacts.DutySettings.from_config(app.config), date(2026, 12, 1)

    def measured():
        statements = []
        engine = app.extensions["govcloud_db"][0]
        listener = lambda *_args: statements.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            with app.app_context():
                from portal.extensions import db
                rows = contacts.overview(db.session, bureau, duty, today)
                missing = contacts.missing_agreements(db.session, bureau, today)
                db.session.rollback()
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(statements), len(rows), len(missing)

    before, departments, missing = measured()
    for n in range(20):
        department = Department(name=f"测试局{n}", code=f"T-{n:02d}", level="city")
        db_session.add(department)
        db_session.flush()
        for k in range(2):  # an important (level 3) live system without an agreement, and a change of it
            system = ResourceRequest(number=f"ZWY-N-{n}-{k}", department_id=department.id, system_name=f"系统{k}",
                                     state="provisioned", spec={}, approved_spec={}, security_level=3)
            db_session.add(system)
            db_session.flush()
            db_session.add(ResourceRequest(number=f"ZWY-N-{n}-{k}-c", kind="change", system_id=system.id,
                                           department_id=department.id, system_name=f"系统{k}", state="delivered",
                                           spec={}, approved_spec={}, security_level=3))
    db_session.commit()
    after, departments_after, missing_after = measured()
    assert departments_after == departments + 20 and missing_after == missing + 40
    assert after == before

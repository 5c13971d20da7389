"""Notifications that arrive (issue 17): every user's inbox with its unread badge, e-mail and SMS
(webhook) as each user chose, delivered by the scheduler job against a real SMTP server (aiosmtpd)
and a local webhook sink, counted in the job history; addresses and phones sealed and masked."""
import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from portal.database import utcnow
from portal.models.accounts import Department, User
from portal.models.audit import AuditEvent
from portal.models.operations import JobRun, MaintenanceWindow, Notification, NotificationPreference
from portal.services import notifications
from scheduler import housekeeping, runtime
from tests.conftest import csrf_token_from
from tests.integration.monitoring_fixtures import free_port, smtp_sink, webhook_sink  # noqa: F401
from tests.integration.test_monitoring_maintenance import _apply, _decide

DEPT_EMAIL, LEAD_EMAIL, ADMIN_PHONE = "a-user@dept-a.test", "lead@dept-a.test", "13800138000"


@pytest.fixture
def channels(app, smtp_sink, webhook_sink):
    """The portal configured with the SMTP sink and the webhook sink; restored afterwards."""
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_sink.port, SMTP_FROM="ops@govcloud.test",
                      NOTIFY_WEBHOOK_URL=webhook_sink["url"])
    yield smtp_sink, webhook_sink
    app.config.update(SMTP_HOST=None, SMTP_PORT=25, NOTIFY_WEBHOOK_URL=None)


def _people_of_a(db_session, seed):
    """a-user wants e-mail; a-admin wants SMS only; a-member keeps the defaults (but has no address)."""
    users = {key: db_session.get(User, seed.user_ids[key]) for key in ("dept", "dept_admin", "dept_member")}
    users["dept"].email = DEPT_EMAIL
    users["dept_admin"].phone = ADMIN_PHONE
    db_session.get(Department, seed.dept_a).it_lead_email = LEAD_EMAIL
    db_session.add(NotificationPreference(user_id=users["dept_admin"].id, email=False, sms=True))
    db_session.commit()
    return users


def _deliver(app):
    """Run the scheduler's job as the scheduler does (recorded in the job history)."""
    runtime.configure(app.config, app.extensions["govcloud_db"][0])
    return housekeeping.deliver_notifications()


def _approved_window(app, seed, login_as, db_session, title, between=None):
    """The vendor applies (the departments are asked for their answer), between() runs, the bureau
    approves; returns the window and the page the bureau sees after approving."""
    vendor, bureau = login_as("vendor"), login_as("bureau")
    now = utcnow()
    assert _apply(vendor, seed, "emergency", now + timedelta(minutes=30), now + timedelta(hours=2),
                  title=title).status_code == 302
    window = db_session.scalars(select(MaintenanceWindow).where(MaintenanceWindow.title == title)).one()
    if between is not None:
        between()
    page = _decide(bureau, window.id, "approve").get_data(as_text=True)
    return window, page


def test_what_the_approval_promises_is_delivered_and_counted_in_the_job_history(app, seed, login_as, db_session,
                                                                               channels):
    """The defect: 'the approval says departments were notified but the notification job reports 0
    sent' (only the IT lead and department administrators' e-mails were queued, and nothing at all
    without SMTP). Now each person of the department gets a message in the portal and what they
    chose; the approval page says how many, and the job sends exactly that many."""
    smtp, hook = channels
    _people_of_a(db_session, seed)
    asked = []
    window, page = _approved_window(app, seed, login_as, db_session, "核心存储扩容",
                                    between=lambda: asked.append(_deliver(app)))
    assert asked[0].summary == "4 sent, 0 failed to send"  # the call for the departments' answers
    smtp.messages.clear()
    hook["received"].clear()
    # 3 people of department A in the portal; e-mail to a-user and the IT lead; SMS to a-admin and
    # the department's webhook message
    assert "相关部门 3 人已收到站内消息，2 封邮件和 2 条短信/推送消息正在发送。" in page, page

    result = _deliver(app)
    assert result.summary == "4 sent, 0 failed to send" and not result.failed
    run = db_session.scalars(select(JobRun).where(JobRun.job_id == "deliver_notifications")
                             .order_by(JobRun.id.desc())).first()
    assert run.outcome == "success" and run.summary == "4 sent, 0 failed to send"
    assert sorted(m["to"][0] for m in smtp.messages) == sorted([DEPT_EMAIL, LEAD_EMAIL])
    phones = [p.get("phone") for p in hook["received"]]
    assert sorted(phones, key=str) == sorted([ADMIN_PHONE, None], key=str)
    assert all(p["topic"] == f"maintenance:{window.id}" and p["link"] == f"/maintenance/{window.id}"
               for p in hook["received"])
    # nothing is sent twice
    assert _deliver(app).summary == "0 sent, 0 failed to send"

    # every person of department A has it in the inbox; department B's people do not
    for key in ("dept", "dept_admin", "dept_member"):
        inbox = login_as(key).get("/notifications/").get_data(as_text=True)
        assert "维护窗口通知：核心存储扩容" in inbox
    assert "核心存储扩容" not in login_as("dept_b").get("/notifications/").get_data(as_text=True)
    # the vendor who applied hears of the approval, the bureau was asked to review it
    assert "维护窗口已批准：核心存储扩容" in login_as("vendor").get("/notifications/").get_data(as_text=True)
    assert "维护窗口待审批：核心存储扩容" in login_as("bureau").get("/notifications/").get_data(as_text=True)


def test_without_e_mail_or_sms_set_up_the_inbox_still_delivers_and_the_page_says_so(app, seed, login_as,
                                                                                   db_session):
    _people_of_a(db_session, seed)
    window, page = _approved_window(app, seed, login_as, db_session, "网络割接")
    assert "相关部门 3 人已收到站内消息，0 封邮件和 0 条短信/推送消息正在发送。" in page
    queued = db_session.scalars(select(Notification).where(Notification.channel != "inbox")).all()
    assert queued == []
    assert _deliver(app).summary == "0 sent, 0 failed to send"
    home = login_as("dept").get("/").get_data(as_text=True)
    assert re.search(r'id="inbox-unread"[^>]*>\s*2\s*<', home), "the call to answer and the approval"
    preferences = login_as("dept").get("/notifications/preferences").get_data(as_text=True)
    assert "本门户尚未配置邮件服务" in preferences and "本门户尚未配置短信网关" in preferences


def test_addresses_and_phones_are_sealed_at_rest_and_masked_in_errors_and_logs(app, seed, login_as, db_session,
                                                                               caplog):
    _people_of_a(db_session, seed)
    closed = free_port()  # nothing listens there: every e-mail fails
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=closed, SMTP_TIMEOUT_SECONDS=2,
                      NOTIFY_WEBHOOK_URL=f"http://127.0.0.1:{closed}/hook")
    try:
        _approved_window(app, seed, login_as, db_session, "数据库升级")
        with caplog.at_level(logging.DEBUG):
            result = _deliver(app)
    finally:
        app.config.update(SMTP_HOST=None, SMTP_PORT=25, NOTIFY_WEBHOOK_URL=None)
    assert result.failed and result.summary == "0 sent, 8 failed to send"  # the call for answers and the approval
    with app.extensions["govcloud_db"][0].connect() as conn:
        raw = [row[0] for row in conn.execute(text("SELECT recipient FROM notification WHERE recipient <> ''"))]
        errors = [row[0] for row in conn.execute(text("SELECT last_error FROM notification WHERE last_error <> ''"))]
    assert len(raw) == 6 and all(value.startswith("v1:") for value in raw)
    assert len(errors) == 8
    everything = " ".join(raw + errors + [r.getMessage() for r in caplog.records])
    for secret in (DEPT_EMAIL, LEAD_EMAIL, ADMIN_PHONE):
        assert secret not in everything
    assert any("a***@dept-a.test" in e for e in errors) and any("l***@dept-a.test" in e for e in errors)


def test_inbox_badge_read_one_read_all_and_nobody_reads_another_users_message(app, seed, login_as, db_session):
    user = db_session.get(User, seed.user_ids["dept"])
    rows = notifications.notify_users(db_session, {}, [user], subject="第一条", body="正文一",
                                      topic="test:1", link="/incidents/")
    notifications.notify_users(db_session, {}, [user], subject="第二条", body="正文二", topic="test:2")
    db_session.commit()
    first = rows[0]
    client = login_as("dept")
    home = client.get("/").get_data(as_text=True)
    assert re.search(r'id="inbox-unread"[^>]*>\s*2\s*<', home)
    # another user: not found, and the message stays unread
    other = login_as("dept_member")
    token = csrf_token_from(other.get("/notifications/").get_data(as_text=True))
    assert other.post(f"/notifications/{first.id}/read", data={"csrf_token": token}).status_code == 404
    db_session.refresh(first)
    assert first.read_at is None
    # its owner opens it: read, and taken to the page it is about
    token = csrf_token_from(client.get("/notifications/").get_data(as_text=True))
    opened = client.post(f"/notifications/{first.id}/read", data={"csrf_token": token, "open": "1"})
    assert opened.status_code == 302 and opened.headers["Location"] == "/incidents/"
    db_session.refresh(first)
    assert first.read_at is not None
    unread = client.get("/notifications/?unread=1").get_data(as_text=True)
    assert "第二条" in unread and "第一条" not in unread
    page = client.post("/notifications/read-all", data={"csrf_token": token}, follow_redirects=True)
    assert "已将 1 条消息标为已读。" in page.get_data(as_text=True)
    assert 'id="inbox-unread"' not in client.get("/").get_data(as_text=True)
    assert notifications.unread_count(db_session, user) == 0


def test_a_link_elsewhere_is_not_followed(app, seed, login_as, db_session):
    user = db_session.get(User, seed.user_ids["dept"])
    row = notifications.notify_users(db_session, {}, [user], subject="外链", body="", topic="t",
                                     link="https://evil.example/")[0]
    db_session.commit()
    client = login_as("dept")
    token = csrf_token_from(client.get("/notifications/").get_data(as_text=True))
    answer = client.post(f"/notifications/{row.id}/read", data={"csrf_token": token, "open": "1"})
    assert answer.headers["Location"] == "/notifications/"


def test_preferences_are_each_users_own_and_audited(app, seed, login_as, db_session):
    client = login_as("dept")
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert "通知方式" in page and 'name="email"' in page and "checked" in page  # e-mail on by default
    token = csrf_token_from(page)
    assert client.post("/notifications/preferences", data={"csrf_token": token, "sms": "y"}).status_code == 302
    assert notifications.preferences_of(db_session, seed.user_ids["dept"]) == notifications.Preferences(
        email=False, sms=True)
    assert notifications.preferences_of(db_session, seed.user_ids["dept_member"]) == notifications.Preferences()
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "notification.preferences")).one()
    assert event.after == {"email": False, "sms": True} and event.object_id == str(seed.user_ids["dept"])
    # a post without the token changes nothing
    client.post("/notifications/preferences", data={"email": "y"})
    assert notifications.preferences_of(db_session, seed.user_ids["dept"]).email is False
    # the security administrator has an inbox and choices too
    assert login_as("security").get("/notifications/preferences").status_code == 200

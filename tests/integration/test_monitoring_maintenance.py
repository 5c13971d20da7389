"""Maintenance windows through the portal: apply (vendor), approve / reject (bureau), banner, notices."""
from datetime import timedelta

from sqlalchemy import select

from portal.database import utcnow
from portal.models.operations import MaintenanceWindow, Notification
from portal.services.workcalendar import library_arrangements
from portal.workdays import CHINA, WorkCalendar
from tests.conftest import csrf_token_from


def earliest_planned_start(applied_at):
    return WorkCalendar(library_arrangements().values()).earliest_planned_start(applied_at)


def _local(dt):
    return dt.astimezone(CHINA).strftime("%Y-%m-%dT%H:%M")


def _apply(client, seed, kind, starts_at, ends_at, title="核心交换机升级"):
    token = csrf_token_from(client.get("/maintenance/new").get_data(as_text=True))
    return client.post("/maintenance/new", data={
        "csrf_token": token, "kind": kind, "title": title, "department_ids": [seed.dept_a],
        "systems": "办公系统，门户网站", "starts_at": _local(starts_at), "ends_at": _local(ends_at),
        "reason": "固件升级", "impact": "网络中断约30分钟"})


def _decide(client, window_id, button, note=""):
    token = csrf_token_from(client.get(f"/maintenance/{window_id}").get_data(as_text=True))
    return client.post(f"/maintenance/{window_id}/decide", data={"csrf_token": token, button: "1", "note": note},
                       follow_redirects=True)


def test_planned_window_needs_two_working_days(app, seed, login_as, db_session):
    vendor = login_as("vendor")
    too_soon = utcnow() + timedelta(hours=2)
    response = _apply(vendor, seed, "planned", too_soon, too_soon + timedelta(hours=1))
    assert response.status_code == 200
    assert "2" in response.get_data(as_text=True) and db_session.scalar(select(MaintenanceWindow.id).where(
        MaintenanceWindow.title == "核心交换机升级")) is None
    start = earliest_planned_start(utcnow()).value + timedelta(hours=1)
    response = _apply(vendor, seed, "planned", start, start + timedelta(hours=2))
    assert response.status_code == 302
    window = db_session.scalars(select(MaintenanceWindow).where(MaintenanceWindow.title == "核心交换机升级")).one()
    assert window.state == "submitted" and window.systems == ["办公系统", "门户网站"]


def test_emergency_window_approved_notifies_and_shows_a_banner(app, seed, login_as, db_session):
    app.config.update(SMTP_HOST="127.0.0.1", NOTIFY_WEBHOOK_URL="http://127.0.0.1:9/hook")
    try:
        from portal.models.accounts import Department
        db_session.get(Department, seed.dept_a).it_lead_email = "lead@a.test"
        db_session.commit()
        vendor, bureau = login_as("vendor"), login_as("bureau")
        now = utcnow()
        assert _apply(vendor, seed, "emergency", now - timedelta(minutes=1), now + timedelta(hours=1),
                      title="紧急修复").status_code == 302
        window = db_session.scalars(select(MaintenanceWindow).where(MaintenanceWindow.title == "紧急修复")).one()
        # the vendor cannot approve its own application
        assert _decide(vendor, window.id, "approve").status_code == 403
        # a rejection needs a reason
        page = _decide(bureau, window.id, "reject").get_data(as_text=True)
        db_session.refresh(window)
        assert window.state == "submitted"
        page = _decide(bureau, window.id, "approve").get_data(as_text=True)
        db_session.refresh(window)
        assert window.state == "approved", page
        sent = db_session.scalars(select(Notification).where(Notification.topic == f"maintenance:{window.id}",
                                                             Notification.user_id.is_(None))).all()
        # the department's contacts: its IT lead's e-mail and one webhook message (the URL is the setting's)
        assert {(n.channel, n.recipient) for n in sent} == {("email", "lead@a.test"), ("webhook", "")}
        home_a = login_as("dept").get("/").get_data(as_text=True)
        home_b = login_as("dept_b").get("/").get_data(as_text=True)
        assert "紧急修复" in home_a and "maintenance-banner" in home_a
        assert "紧急修复" not in home_b
        assert login_as("dept_b").get(f"/maintenance/{window.id}").status_code == 404
    finally:
        app.config.update(SMTP_HOST=None, NOTIFY_WEBHOOK_URL=None)


def test_bureau_rejects_with_a_reason(app, seed, login_as, db_session):
    start = earliest_planned_start(utcnow()).value + timedelta(days=1)
    assert _apply(login_as("vendor"), seed, "planned", start, start + timedelta(hours=1),
                  title="机房巡检").status_code == 302
    window = db_session.scalars(select(MaintenanceWindow).where(MaintenanceWindow.title == "机房巡检")).one()
    page = _decide(login_as("bureau"), window.id, "reject", "时间与重大活动冲突").get_data(as_text=True)
    db_session.refresh(window)
    assert window.state == "rejected" and window.decision_note == "时间与重大活动冲突"
    assert "时间与重大活动冲突" in page

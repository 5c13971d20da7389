"""Issue 13: the working-day calendar the portal owns, through its pages, on SQLite and PostgreSQL.

The clock is set by patching utcnow where the pages and services read it: 2026-12-30, when
chinesecalendar 1.11 (which stops at 2026) made the maintenance form answer 500.
"""
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.models.audit import AuditEvent
from portal.models.calendar import WorkCalendarDay, WorkCalendarYear
from portal.models.operations import MaintenanceWindow
from portal.services import workcalendar
from portal.services.audit import RequestInfo
from portal.workdays import CHINA
from tests.conftest import csrf_token_from
from tests.unit.test_monitoring_workdays import PUBLISHED_2027

CLOCKED = ["portal.services.workcalendar", "portal.services.maintenance", "portal.maintenance.views",
           "portal.calendar.views"]


@pytest.fixture
def clock(monkeypatch):
    """clock(y, m, d, hh=10) sets the portal's time to that Beijing time."""
    def set_to(y, m, d, hh=10):
        now = datetime(y, m, d, hh, 0, tzinfo=CHINA)
        for module in CLOCKED:
            monkeypatch.setattr(f"{module}.utcnow", lambda: now)
        return now
    return set_to


def _apply(client, seed, starts_at, title):
    token = csrf_token_from(client.get("/maintenance/new").get_data(as_text=True))
    ends_at = (datetime.fromisoformat(starts_at) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    return client.post("/maintenance/new", data={
        "csrf_token": token, "kind": "planned", "title": title, "department_ids": [seed.dept_a],
        "systems": "办公系统", "starts_at": starts_at, "ends_at": ends_at,
        "reason": "存储扩容", "impact": "中断约1小时"})


def _enter(client, year, text, reference="国办发明电〔2026〕8号", version=None):
    page = client.get(f"/calendar/{year}/edit").get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(page), "text": text, "reference": reference, "save": "1"}
    if version is not None:
        data["version"] = version
    return client.post(f"/calendar/{year}/edit", data=data)


def _window(db_session, title):
    return db_session.scalar(select(MaintenanceWindow).where(MaintenanceWindow.title == title))


def test_applying_on_30_and_31_december_without_the_2027_arrangement(app, seed, login_as, db_session, clock):
    vendor = login_as("vendor")
    clock(2026, 12, 30)
    form = vendor.get("/maintenance/new")
    html = form.get_data(as_text=True)
    assert form.status_code == 200, html  # chinesecalendar alone raised NotImplementedError: a 500
    # Thu 31 Dec day 1, Fri 1 Jan 2027 (Monday to Friday) day 2 — and the page says it assumed
    assert "2027-01-01 00:00" in html and 'id="notice-assumed"' in html
    assert "2027年节假日安排尚未录入" in html
    too_soon = _apply(vendor, seed, "2026-12-31T10:00", "年末巡检")
    assert too_soon.status_code == 200 and _window(db_session, "年末巡检") is None
    assert "最早可于 2027-01-01 00:00 开始" in too_soon.get_data(as_text=True)
    assert _apply(vendor, seed, "2027-01-01T10:00", "元旦割接").status_code == 302
    assert _window(db_session, "元旦割接").state == "submitted"
    clock(2026, 12, 31)
    html = vendor.get("/maintenance/new").get_data(as_text=True)
    assert "2027-01-04 00:00" in html and 'id="notice-assumed"' in html


def test_admin_enters_2027_and_every_count_follows_it(app, seed, login_as, db_session, clock):
    admin, vendor = login_as("admin"), login_as("vendor")
    clock(2026, 12, 30)
    # the editor starts from nothing for a year the library does not know
    assert "<textarea" in admin.get("/calendar/2027/edit").get_data(as_text=True)
    response = _enter(admin, 2027, PUBLISHED_2027)
    assert response.status_code == 302, response.get_data(as_text=True)
    row = db_session.get(WorkCalendarYear, 2027)
    assert (row.version, row.entered_by_name, row.reference) == (1, seed.users["admin"], "国办发明电〔2026〕8号")
    days = {d.day: (d.kind, d.name) for d in db_session.scalars(select(WorkCalendarDay).where(
        WorkCalendarDay.year == 2027))}
    assert days[date(2027, 2, 14)] == ("workday", "春节") and days[date(2027, 2, 8)] == ("holiday", "春节")
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "calendar.save")).one()
    assert (event.actor_username, event.object_id, event.before) == (seed.users["admin"], "2027", None)
    assert event.after["holidays"] == 31 and event.after["workdays"] == 5
    page = admin.get("/calendar/2027").get_data(as_text=True)
    assert "2027-02-05 ～ 2027-02-11" in page and "调休上班" in page and seed.users["admin"] in page
    # New Year 1-3 Jan off: applied 30 Dec -> Thu 31 Dec day 1, Mon 4 Jan day 2, nothing assumed
    html = vendor.get("/maintenance/new").get_data(as_text=True)
    assert "2027-01-04 00:00" in html and 'id="notice-assumed"' not in html
    assert _apply(vendor, seed, "2027-01-01T10:00", "元旦割接").status_code == 200
    assert _window(db_session, "元旦割接") is None
    # Spring Festival 5-11 Feb: applied Thu 4 Feb, Fri 12 day 1, Sunday 14 Feb (调休上班) day 2
    clock(2027, 2, 4)
    assert "2027-02-14 00:00" in vendor.get("/maintenance/new").get_data(as_text=True)
    assert _apply(vendor, seed, "2027-02-14T01:00", "春节后割接").status_code == 302
    assert _apply(vendor, seed, "2027-02-13T01:00", "春节中割接").status_code == 200


def test_the_missing_year_warning_from_1_november(app, seed, login_as, clock):
    admin, bureau, vendor, dept = (login_as(k) for k in ("admin", "bureau", "vendor", "dept"))
    clock(2026, 10, 31)
    assert "calendar-warning" not in admin.get("/").get_data(as_text=True)
    clock(2026, 11, 1, 8)
    for client in (admin, bureau):
        html = client.get("/").get_data(as_text=True)
        assert 'id="calendar-warning-2027"' in html and "2027年节假日安排尚未录入" in html
        assert 'href="/calendar/2027"' in html
    for client in (vendor, dept):
        assert "calendar-warning" not in client.get("/").get_data(as_text=True)
    listing = admin.get("/calendar/").get_data(as_text=True)
    assert "未录入：按周一至周五计算工作日" in listing and "内置（chinesecalendar" in listing
    assert _enter(admin, 2027, PUBLISHED_2027).status_code == 302
    assert "calendar-warning" not in bureau.get("/").get_data(as_text=True)
    # in 2027, November brings the 2028 warning
    clock(2027, 11, 2)
    assert 'id="calendar-warning-2028"' in bureau.get("/").get_data(as_text=True)


def test_bad_text_is_refused_and_nothing_changes(app, seed, login_as, db_session, clock):
    admin = login_as("admin")
    clock(2026, 12, 1)
    response = _enter(admin, 2027, "元旦 2027-01-01 休\n春节 2027-02-15 班\n国庆节 2027-13-01 休")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "节假日安排已保存" not in html
    assert "第 2 行：2027-02-15 本是工作日：调休上班只能在周六或周日。" in html
    assert "第 3 行：“2027-13-01”不是有效日期。" in html
    assert "春节 2027-02-15 班" in html  # the text is kept for correction
    huge = _enter(admin, 2027, "春节 2027-02-05 休\n" * 2000)
    assert huge.status_code == 200 and "10000" in huge.get_data(as_text=True) and "春节 2027-02-05 休\n" * 2000 not in huge.get_data(as_text=True)
    assert _enter(admin, 1999, "元旦 1999-01-01 休").status_code == 404
    assert db_session.get(WorkCalendarYear, 2027) is None
    assert db_session.scalar(select(WorkCalendarDay.day).where(WorkCalendarDay.year == 2027)) is None
    assert db_session.scalar(select(AuditEvent.id).where(AuditEvent.action == "calendar.save")) is None
    # the bureau reads the calendar but cannot enter it
    bureau = login_as("bureau")
    assert bureau.get("/calendar/2027").status_code == 200
    assert bureau.get("/calendar/2027/edit").status_code == 403


def test_two_admins_edit_at_once_one_wins_the_other_is_told(app, seed, login_as, db_session, clock):
    first, second = login_as("admin"), login_as("admin")
    clock(2026, 12, 1)
    assert _enter(first, 2027, PUBLISHED_2027).status_code == 302
    # both open version 1; the first saves a correction, the second's save is refused with 409
    fixed = PUBLISHED_2027.replace("国庆节 2027-10-09 班\n", "")
    assert _enter(first, 2027, fixed, version="1").status_code == 302
    late = _enter(second, 2027, PUBLISHED_2027 + "中秋节 2027-09-18 班\n", version="1")
    html = late.get_data(as_text=True)
    assert late.status_code == 409 and "已被他人修改" in html and "中秋节 2027-09-18 班" in html
    row = db_session.get(WorkCalendarYear, 2027)
    db_session.refresh(row)
    assert row.version == 2 and row.text == fixed
    assert db_session.get(WorkCalendarDay, date(2027, 10, 9)) is None
    assert db_session.get(WorkCalendarDay, date(2027, 9, 18)) is None
    # a second first entry of a year (two editors who both started from nothing) is told too
    assert _enter(second, 2027, PUBLISHED_2027).status_code == 409


def test_revert_brings_back_the_library_or_the_fallback(app, seed, login_as, db_session, clock):
    admin = login_as("admin")
    clock(2026, 12, 1)
    # an admin correction of a year the library knows overrides it
    assert _enter(admin, 2026, "元旦 2026-01-01 休", reference="测试").status_code == 302
    session = db_session
    assert workcalendar.load_calendar(session).is_working_day(date(2026, 10, 1))  # National Day gone
    page = admin.get("/calendar/2026").get_data(as_text=True)
    token = csrf_token_from(page)
    assert admin.post("/calendar/2026/revert", data={"csrf_token": token, "version": "7"},
                      follow_redirects=True).status_code == 200  # stale: nothing removed
    assert session.get(WorkCalendarYear, 2026) is not None
    response = admin.post("/calendar/2026/revert", data={"csrf_token": token, "version": "1"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(WorkCalendarYear, 2026) is None
    assert not workcalendar.load_calendar(session).is_working_day(date(2026, 10, 1))
    assert session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "work_calendar")
                           .order_by(AuditEvent.id)).all() == ["calendar.save", "calendar.revert"]


def test_concurrent_saves_through_the_service_one_wins(app, seed, db_session):
    """Two sessions that both started from version 1 save: the compare-and-set lets one through."""
    from sqlalchemy.orm import Session

    from portal.models.accounts import User
    engine = app.extensions["govcloud_db"][0]
    admin = db_session.get(User, seed.user_ids["admin"])
    ctx = RequestInfo(actor=admin, correlation_id="test")
    workcalendar.save_year(db_session, ctx, 2027, PUBLISHED_2027)
    outcomes = []
    with Session(engine) as a, Session(engine) as b:
        for session, extra in ((a, "中秋节 2027-09-18 班\n"), (b, "中秋节 2027-09-19 班\n")):
            try:
                workcalendar.save_year(session, RequestInfo(actor=session.get(User, admin.id)), 2027,
                                       PUBLISHED_2027 + extra, version=1)
                outcomes.append("saved")
            except workcalendar.StaleCalendar:
                outcomes.append("stale")
    assert outcomes == ["saved", "stale"]
    db_session.expire_all()
    assert db_session.get(WorkCalendarYear, 2027).version == 2
    assert db_session.get(WorkCalendarDay, date(2027, 9, 18)).kind == "workday"
    assert db_session.get(WorkCalendarDay, date(2027, 9, 19)) is None


def test_import_the_published_arrangement_from_a_file(app, seed, login_as, db_session, clock):
    import io
    admin = login_as("admin")
    clock(2026, 12, 1)
    page = admin.get("/calendar/2027/edit").get_data(as_text=True)
    token = csrf_token_from(page)
    bad = admin.post("/calendar/2027/edit", content_type="multipart/form-data", data={
        "csrf_token": token, "text": "", "save": "1",
        "document": (io.BytesIO("春节 2027-02-05 休".encode("gbk")), "2027.txt")})
    assert "不是不超过10000个字符的 UTF-8 文本文件" in bad.get_data(as_text=True)
    assert db_session.get(WorkCalendarYear, 2027) is None
    good = admin.post("/calendar/2027/edit", content_type="multipart/form-data", data={
        "csrf_token": token, "text": "", "reference": "国办发明电〔2026〕8号", "save": "1",
        "document": (io.BytesIO(("\ufeff" + PUBLISHED_2027.replace("\n", "\r\n")).encode()), "2027.txt")})
    assert good.status_code == 302, good.get_data(as_text=True)
    assert db_session.get(WorkCalendarYear, 2027).text == PUBLISHED_2027
    assert db_session.get(WorkCalendarDay, date(2027, 2, 14)).kind == "workday"

"""第十三条 协商一致 (issue 17): the departments a maintenance window affects agree or object (with a
reason); the bureau and the vendor see the answers, a window with an objection is flagged."""
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.database import utcnow
from portal.errors import WrongState
from portal.models.accounts import User
from portal.models.audit import AuditEvent
from portal.models.operations import MaintenanceResponse, MaintenanceWindow, Notification
from portal.services import maintenance
from portal.services.audit import RequestInfo
from tests.conftest import csrf_token_from


def _answer(client, window_id, button, reason=""):
    token = csrf_token_from(client.get(f"/maintenance/{window_id}").get_data(as_text=True))
    return client.post(f"/maintenance/{window_id}/respond", data={"csrf_token": token, button: "1", "reason": reason},
                       follow_redirects=True)


def _responses(db_session, window_id):
    db_session.expire_all()
    return db_session.scalars(select(MaintenanceResponse).where(MaintenanceResponse.window_id == window_id)).all()


def test_a_department_agrees_or_objects_and_the_bureau_and_vendor_see_it(app, seed, login_as, db_session):
    window_id = seed.extra["window_id"][0]  # approved, in three days, affects department A
    dept = login_as("dept")
    page = dept.get(f"/maintenance/{window_id}").get_data(as_text=True)
    assert "本部门的意见" in page and "尚未答复。" in page and "response-form" in page
    # an objection needs a reason: nothing is stored without one
    assert "提出异议须填写理由。" in _answer(dept, window_id, "object").get_data(as_text=True)
    assert _responses(db_session, window_id) == []
    # a post with neither button is no answer
    assert "请选择同意或提出异议。" in _answer(dept, window_id, "neither").get_data(as_text=True)
    assert "本部门已同意该维护窗口。" in _answer(dept, window_id, "agree").get_data(as_text=True)
    assert [(r.answer, r.reason) for r in _responses(db_session, window_id)] == [("agree", "")]
    bureau_page = login_as("bureau").get(f"/maintenance/{window_id}").get_data(as_text=True)
    assert "部门意见" in bureau_page and "objection-flag" not in bureau_page

    # its administrator changes the department's answer to an objection: one answer per department
    admin = login_as("dept_admin")
    done = _answer(admin, window_id, "object", "月末结账期间不能停机").get_data(as_text=True)
    assert "本部门的异议已送达市大数据管理局和云服务商。" in done
    [response] = _responses(db_session, window_id)
    assert (response.answer, response.reason, response.user_id) == ("object", "月末结账期间不能停机",
                                                                     seed.user_ids["dept_admin"])
    for key in ("bureau", "vendor"):
        page = login_as(key).get(f"/maintenance/{window_id}").get_data(as_text=True)
        assert 'id="objection-flag"' in page and "有部门提出异议" in page and "月末结账期间不能停机" in page
        listing = login_as(key).get("/maintenance/").get_data(as_text=True)
        assert "objection-flag" in listing and "同意 0，异议 1，未答复 0" in listing
    # the bureau's people hear of the objection in their inbox
    told = db_session.scalars(select(Notification.user_id).where(
        Notification.topic == f"maintenance:{window_id}", Notification.channel == "inbox",
        Notification.subject.like("%异议%"))).all()
    assert seed.user_ids["bureau"] in told
    events = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "maintenance.respond")
                               .order_by(AuditEvent.id)).all()
    assert [(e.before or {}).get("answer") for e in events] == [None, "agree"]
    assert events[-1].after["answer"] == "object" and events[-1].department_id == seed.dept_a
    # the department sees its own answer, not the table of every department's
    own = dept.get(f"/maintenance/{window_id}").get_data(as_text=True)
    assert "月末结账期间不能停机" in own and "answers-table" not in own


def test_only_the_affected_departments_answer_and_only_before_the_start(app, seed, login_as, db_session):
    window_id = seed.extra["window_id"][0]
    other = login_as("dept_b")
    token = csrf_token_from(other.get("/maintenance/").get_data(as_text=True))
    assert other.post(f"/maintenance/{window_id}/respond", data={"csrf_token": token, "agree": "1"}).status_code == 404
    for key in ("bureau", "vendor"):
        client = login_as(key)
        token = csrf_token_from(client.get(f"/maintenance/{window_id}").get_data(as_text=True))
        assert client.post(f"/maintenance/{window_id}/respond",
                           data={"csrf_token": token, "agree": "1"}).status_code == 403
    window = db_session.get(MaintenanceWindow, window_id)
    window.starts_at = utcnow() - timedelta(minutes=1)
    db_session.commit()
    dept = login_as("dept")
    assert "response-form" not in dept.get(f"/maintenance/{window_id}").get_data(as_text=True)
    late = _answer(dept, window_id, "agree").get_data(as_text=True)
    assert "该维护窗口已不能再答复。" in late and _responses(db_session, window_id) == []


def test_two_people_of_one_department_answering_at_once_one_wins(app, seed, db_session):
    window_id = seed.extra["window_id"][0]
    ctx = RequestInfo(actor=db_session.get(User, seed.user_ids["dept"]), correlation_id="test")
    window = maintenance.get_window(db_session, ctx.actor, window_id)
    assert window.responses == []  # this session has read "no answer yet"
    with Session(app.extensions["govcloud_db"][0]) as other:  # meanwhile a colleague answers
        other_ctx = RequestInfo(actor=other.get(User, seed.user_ids["dept_member"]), correlation_id="other")
        maintenance.respond_window(other, other_ctx, window_id, {}, "agree")
    with pytest.raises(WrongState) as lost:
        maintenance.respond_window(db_session, ctx, window_id, {}, "object", "不同意")
    assert lost.value.http_status == 409
    assert [(r.answer, r.user_id) for r in _responses(db_session, window_id)] == [
        ("agree", seed.user_ids["dept_member"])]

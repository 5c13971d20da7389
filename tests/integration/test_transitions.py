"""Issue 14/15: of two people acting on one object at once, one moves it and the other is told (409);
the loser's action changes nothing and writes no audit event. On SQLite and PostgreSQL."""
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models.accounts import User
from portal.models.audit import AuditEvent
from portal.models.requests import ResourceRequest
from portal.services import reviews
from portal.services.audit import RequestInfo
from portal.statemachine import TransitionNotAllowed


def _submitted(db_session, seed):
    request = db_session.get(ResourceRequest, seed.extra["request_id"][0])
    request.state = "under_review"
    db_session.commit()
    return request.id


def _events(db_session, request_id):
    return db_session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "resource_request", AuditEvent.object_id == str(request_id),
        AuditEvent.action.in_(("request.reject", "request.return", "request.approve")))).all()


def test_two_reviewers_decide_at_once_one_wins(app, seed, db_session):
    request_id = _submitted(db_session, seed)
    engine = app.extensions["govcloud_db"][0]
    with Session(engine, expire_on_commit=False) as a, Session(engine, expire_on_commit=False) as b:
        ctx_a = RequestInfo(actor=a.get(User, seed.user_ids["bureau"]), correlation_id="a")
        ctx_b = RequestInfo(actor=b.get(User, seed.user_ids["bureau"]), correlation_id="b")
        b.get(ResourceRequest, request_id)  # both have read it "under review"
        reviews.reject_request(a, ctx_a, request_id, "材料不全")
        with pytest.raises(TransitionNotAllowed) as caught:
            reviews.return_request(b, ctx_b, request_id, "请补充")
        b.rollback()
    assert caught.value.http_status == 409 and caught.value.state == "rejected"
    db_session.expire_all()
    request = db_session.get(ResourceRequest, request_id)
    assert request.state == "rejected" and request.review_comment == "材料不全"
    assert _events(db_session, request_id) == ["request.reject"]

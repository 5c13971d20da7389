"""Issue 14/15: two decisions at the same moment on PostgreSQL (row locks; SQLite serialises its
writers, test_transitions.py covers both backends): the second waits for the first, then loses."""
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models.accounts import User
from portal.models.audit import AuditEvent
from portal.models.requests import ResourceRequest
from portal.services import reviews
from portal.services.audit import RequestInfo
from portal.services.transitions import transition
from portal.statemachine import TransitionNotAllowed
from portal.workflow import REQUESTS
from tests.conftest import single_backend_app
from tests.integration.test_transitions import _events, _submitted


@pytest.fixture(scope="module")
def migrated_app(tmp_path_factory):
    yield from single_backend_app("postgresql", tmp_path_factory)


def test_concurrent_decisions_on_postgresql_block_then_lose(app, seed, db_session):
    """The second UPDATE waits for the first transaction, then finds the state moved."""
    request_id = _submitted(db_session, seed)
    engine = app.extensions["govcloud_db"][0]
    started, outcome = threading.Event(), {}
    with Session(engine, expire_on_commit=False) as a:
        ctx_a = RequestInfo(actor=a.get(User, seed.user_ids["bureau"]), correlation_id="a")
        request = a.get(ResourceRequest, request_id)
        transition(a, ctx_a, REQUESTS, request, "reject", detail="先驳回")  # holds the row lock, not committed

        def second():
            with Session(engine, expire_on_commit=False) as b:
                ctx_b = RequestInfo(actor=b.get(User, seed.user_ids["bureau"]), correlation_id="b")
                started.set()
                try:
                    reviews.return_request(b, ctx_b, request_id, "后退回")
                    outcome["result"] = "moved"
                except TransitionNotAllowed as exc:
                    outcome["result"] = exc.state
                    b.rollback()
        thread = threading.Thread(target=second)
        thread.start()
        started.wait(10)
        thread.join(1.0)
        assert thread.is_alive(), "the second decision did not wait for the first"
        a.commit()
        thread.join(30)
    assert outcome == {"result": "rejected"}
    assert _events(db_session, request_id) == ["request.reject"]
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.detail == "后退回")) == 0

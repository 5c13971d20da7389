"""Issue 15: people acting at once through the API, on PostgreSQL (row locks): of concurrent reviews,
submits, cancels and receipt confirmations exactly one succeeds, the others get 409 with the state
now, and the audit log holds exactly one event of the move."""
import threading

import pytest
from sqlalchemy import func, select

from portal.models.accounts import User
from portal.models.audit import AuditEvent
from portal.models.requests import ProvisioningJob, RequestVersion
from portal.services.api_tokens import create_token
from portal.services.audit import RequestInfo
from tests.conftest import single_backend_app
from tests.integration.test_api_edge import BODY

ROUNDS = 3  # each race is run this many times: a lucky ordering once is not proof


@pytest.fixture(scope="module")
def migrated_app(tmp_path_factory):
    yield from single_backend_app("postgresql", tmp_path_factory)


@pytest.fixture
def tokens(app, seed):
    from portal.extensions import db
    out = {}
    with app.app_context():
        for key in ("dept", "dept_member", "bureau"):
            user = db.session.get(User, seed.user_ids[key])
            token = create_token(db.session, RequestInfo(actor=user), user, "race", scope="write", days=1)[1]
            out[key] = {"Authorization": f"Bearer {token}"}
    return out


def race(app, calls):
    """Run calls [(method, url, json, headers)] at the same moment, each on its own client and
    database connection; return their status codes, sorted."""
    barrier = threading.Barrier(len(calls))
    statuses = [None] * len(calls)

    def run(i, method, url, body, headers):
        client = app.test_client()
        barrier.wait(10)
        statuses[i] = getattr(client, method)(url, json=body, headers=headers).status_code

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return sorted(statuses)


def events(app, request_id, prefix):
    from portal.extensions import db
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.object_id == str(request_id), AuditEvent.action.like(prefix)))


def count(app, model, **where):
    from portal.extensions import db
    with app.app_context():
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return db.session.scalar(stmt)


def draft(app, tokens):
    created = app.test_client().post("/api/v1/requests", json=BODY, headers=tokens["dept"])
    assert created.status_code == 201, created.get_json()
    return created.get_json()["id"]


def test_concurrent_reviews_have_one_winner(app, tokens):
    api = app.test_client()
    for _ in range(ROUNDS):
        rid = draft(app, tokens)
        assert api.post(f"/api/v1/requests/{rid}/submit", headers=tokens["dept"]).status_code == 200
        url = f"/api/v1/requests/{rid}/review"
        decisions = [{"decision": "approve"}, {"decision": "approve"}, {"decision": "reject", "comment": "驳回"},
                     {"decision": "return", "comment": "退回"}]
        assert race(app, [("post", url, d, tokens["bureau"]) for d in decisions]) == [200, 409, 409, 409]
        assert events(app, rid, "request.%") - events(app, rid, "request.create") - events(
            app, rid, "request.submit") - events(app, rid, "request.attach") == 1  # the one approval
        assert count(app, ProvisioningJob, request_id=rid) <= 1


def test_concurrent_submits_and_cancels_have_one_winner(app, tokens):
    for _ in range(ROUNDS):
        rid = draft(app, tokens)
        url = f"/api/v1/requests/{rid}/submit"
        assert race(app, [("post", url, None, tokens["dept"]), ("post", url, None, tokens["dept_member"])]) == [200, 409]
        assert events(app, rid, "request.submit") == 1
        assert count(app, RequestVersion, request_id=rid) == 1

        other = draft(app, tokens)
        url = f"/api/v1/requests/{other}/cancel"
        submit = f"/api/v1/requests/{other}/submit"
        assert race(app, [("post", url, None, tokens["dept"]), ("post", url, None, tokens["dept_member"]),
                          ("post", submit, None, tokens["dept"])]) == [200, 409, 409]
        assert events(app, other, "request.cancel") + events(app, other, "request.submit") == 1


def test_concurrent_receipt_confirmations_have_one_winner(app, tokens, seed):
    receipt_id = seed.extra["receipt_id"][0]
    url = f"/api/v1/receipts/{receipt_id}/confirm"
    assert race(app, [("post", url, None, tokens["dept"]), ("post", url, None, tokens["dept_member"]),
                      ("post", url, None, tokens["dept"])]) == [200, 409, 409]
    from portal.extensions import db
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "receipt.confirm")) == 1

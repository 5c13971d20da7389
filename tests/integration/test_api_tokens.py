"""Personal API tokens users manage: re-authentication, expiry, scope, last use, revocation, the
admins' list, the audit trail and the CLI (issue 15)."""
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal.database import utcnow
from portal.errors import ValidationFailed
from portal.models.accounts import User
from portal.models.audit import AuditEvent
from portal.models.requests import ApiToken
from portal.services import api_tokens
from portal.services.audit import RequestInfo
from tests.conftest import PASSWORD, csrf_token_from
from tests.integration.test_api_requests import post_token_form, ui_token

CHALLENGE = 'Bearer realm="govcloud"'
INVALID = 'Bearer realm="govcloud", error="invalid_token"'
NEW_TOKEN = re.compile(r'id="new-token">(gct_[^<]+)<')


def beijing_today():
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def tokens_of(db_session, user_id):
    db_session.expire_all()
    return list(db_session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)))


def events(db_session, action, **where):
    db_session.expire_all()
    stmt = select(AuditEvent).where(AuditEvent.action == action)
    for column, value in where.items():
        stmt = stmt.where(getattr(AuditEvent, column) == value)
    return list(db_session.scalars(stmt.order_by(AuditEvent.id)))


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def token_row(db_session, plaintext):
    db_session.expire_all()
    return db_session.scalar(select(ApiToken).where(ApiToken.token_hash == api_tokens._hash(plaintext)))


def test_creating_a_token_needs_the_current_password(app, seed, login_as, db_session):
    client = login_as("dept")
    before = len(tokens_of(db_session, seed.user_ids["dept"]))  # the seeded token
    response = post_token_form(client, "ci", password="wrong-password-1")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "密码错误。" in html and not NEW_TOKEN.search(html)
    assert len(tokens_of(db_session, seed.user_ids["dept"])) == before
    assert events(db_session, "api_token.create") == []
    failed = events(db_session, "auth.login_failed", actor_username="a-user")
    assert len(failed) == 1 and failed[0].detail == "re-authentication for api token: failure 1 of 5"
    assert db_session.get(User, seed.user_ids["dept"]).failed_login_count == 1

    days = 45
    plaintext = ui_token(client, "持续集成", scope="read", days=days)
    rows = tokens_of(db_session, seed.user_ids["dept"])
    assert len(rows) == before + 1
    row = token_row(db_session, plaintext)
    assert (row.name, row.scope, row.revoked_at, row.last_used_at) == ("持续集成", "read", None, None)
    assert plaintext not in {r.token_hash for r in rows}
    assert db_session.get(User, seed.user_ids["dept"]).failed_login_count == 0
    created = events(db_session, "api_token.create", object_id=str(row.id))
    assert len(created) == 1 and created[0].after["scope"] == "read"
    assert created[0].actor_username == "a-user"
    # shown once: the list names it by its first characters only
    html = client.get("/requests/tokens").get_data(as_text=True)
    assert plaintext not in html and row.prefix + "…" in html and "只读" in html


def test_the_expiry_is_required_in_the_future_and_at_most_a_year(app, seed, login_as, db_session):
    client = login_as("dept")
    user_id = seed.user_ids["dept"]
    before = len(tokens_of(db_session, user_id))
    today = beijing_today()
    for offset, message in ((366, "令牌有效期最长为一年。"), (-1, "到期日期必须晚于今天。"),
                            (0, "到期日期必须晚于今天。")):
        html = post_token_form(client, "x", days=offset + (today - datetime.now().date()).days).get_data(as_text=True)
        assert message in html, offset
        assert not NEW_TOKEN.search(html)
    html = client.get("/requests/tokens").get_data(as_text=True)
    default = (today + timedelta(days=90)).isoformat()
    assert f'value="{default}"' in html and f'max="{(today + timedelta(days=365)).isoformat()}"' in html
    assert len(tokens_of(db_session, user_id)) == before

    csrf = csrf_token_from(html)
    response = client.post("/requests/tokens", data={"csrf_token": csrf, "name": "year", "scope": "write",
                                                     "expires_on": (today + timedelta(days=365)).isoformat(),
                                                     "password": PASSWORD})
    assert NEW_TOKEN.search(response.get_data(as_text=True))
    row = tokens_of(db_session, user_id)[-1]
    local = row.expires_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert (local.date(), local.hour, local.minute) == (today + timedelta(days=365), 0, 0)
    assert row.expires_at - utcnow() <= timedelta(days=365)


def test_the_service_checks_every_input(app, seed, db_session):
    user = db_session.get(User, seed.user_ids["dept"])
    ctx = RequestInfo(correlation_id="t")
    bad = [dict(name="", scope="read", days=10), dict(name="a" * 65, scope="read", days=10),
           dict(name="a\x00b", scope="read", days=10), dict(name="tab\tname", scope="read", days=10),
           dict(name="ok", scope="admin", days=10), dict(name="ok", scope="read"),
           dict(name="ok", scope="read", days=0), dict(name="ok", scope="read", days=366),
           dict(name="ok", scope="read", days=True), dict(name="ok", scope="read", days=1.5),
           dict(name="ok", scope="read", expires_at=utcnow() - timedelta(seconds=1)),
           dict(name="ok", scope="read", expires_at=utcnow() + timedelta(days=365, minutes=1)),
           dict(name="ok", scope="read", expires_at=datetime.now() + timedelta(days=3)),
           dict(name="ok", scope="read", days=3, expires_at=utcnow() + timedelta(days=3))]
    before = len(tokens_of(db_session, user.id))
    for kwargs in bad:
        name = kwargs.pop("name")
        with pytest.raises(ValidationFailed):
            api_tokens.create_token(db_session, ctx, user, name, **kwargs)
        db_session.rollback()
    assert len(tokens_of(db_session, user.id)) == before
    row, _plain = api_tokens.create_token(db_session, ctx, user, "  a" * 21 + " ", scope="write", days=365)
    assert row.name == ("  a" * 21).strip() and row.expires_at - row.created_at == timedelta(days=365)


def test_expired_token_is_refused_with_a_bearer_challenge(app, seed, login_as, db_session):
    api = app.test_client()
    missing = api.get("/api/v1/requests")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == CHALLENGE
    unknown = api.get("/api/v1/requests", headers=bearer("gct_unknown"))
    assert unknown.status_code == 401 and unknown.headers["WWW-Authenticate"] == INVALID
    assert events(db_session, "api_token.refused") == []  # nobody to attribute an unknown token to

    plaintext = ui_token(login_as("dept"), "short")
    assert api.get("/api/v1/requests", headers=bearer(plaintext)).status_code == 200
    row = token_row(db_session, plaintext)
    row.expires_at = utcnow() - timedelta(seconds=1)
    db_session.commit()
    for _ in range(2):
        expired = api.get("/api/v1/requests", headers=bearer(plaintext))
        assert expired.status_code == 401
        assert expired.headers["WWW-Authenticate"] == INVALID
        assert expired.get_json() == {"code": "unauthorized", "message": "API 令牌已到期。"}
    refused = events(db_session, "api_token.refused", object_id=str(row.id))
    assert [(e.outcome, e.detail, e.actor_username) for e in refused] == [("failure", "expired", "a-user")] * 2
    html = login_as("dept").get("/requests/tokens").get_data(as_text=True)
    assert re.search(r'<tr class="token-expired"><td>short</td>.*?已到期', html, re.S)


def test_a_read_only_token_reads_but_does_not_write(app, seed, login_as, db_session):
    api = app.test_client()
    headers = bearer(ui_token(login_as("dept"), "reader", scope="read"))
    assert api.get("/api/v1/requests", headers=headers).status_code == 200
    count = len(events(db_session, "request.create"))
    response = api.post("/api/v1/requests", json={"system_name": "只读系统", "purpose": "x", "spec": {}},
                        headers=headers)
    assert response.status_code == 403
    assert response.get_json() == {"code": "insufficient_scope", "message": "此令牌为只读令牌。"}
    assert "WWW-Authenticate" not in response.headers
    assert len(events(db_session, "request.create")) == count
    assert api.patch(f"/api/v1/requests/{seed.extra['request_id'][0]}", json={"purpose": "y"},
                     headers=headers).status_code == 403
    writer = bearer(ui_token(login_as("dept"), "writer", scope="write"))
    created = api.post("/api/v1/requests", json={"system_name": "读写系统", "purpose": "x", "spec": {}}, headers=writer)
    assert created.status_code == 201


def test_the_list_shows_last_use_and_uses_are_audited_once_a_minute(app, seed, login_as, db_session):
    client = login_as("dept")
    plaintext = ui_token(client, "busy")
    api = app.test_client()
    for _ in range(3):
        response = api.get("/api/v1/requests", headers=bearer(plaintext), environ_base={"REMOTE_ADDR": "10.9.8.7"})
        assert response.status_code == 200
    row = token_row(db_session, plaintext)
    assert row.last_used_addr == "10.9.8.7" and utcnow() - row.last_used_at < timedelta(minutes=1)
    uses = events(db_session, "api_token.use", object_id=str(row.id))
    assert len(uses) == 1 and uses[0].remote_addr == "10.9.8.7" and uses[0].actor_username == "a-user"

    html = client.get("/requests/tokens").get_data(as_text=True)
    shown = row.last_used_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    assert re.search(rf'<td>busy</td>.*?<td class="last-used">{shown}</td><td class="last-addr">10\.9\.8\.7</td>',
                     html, re.S)

    row.last_used_at = utcnow() - timedelta(minutes=2)  # the next use falls in a new minute
    db_session.commit()
    api.get("/api/v1/requests", headers=bearer(plaintext), environ_base={"REMOTE_ADDR": "10.9.8.6"})
    api.get("/api/v1/requests", headers=bearer(plaintext), environ_base={"REMOTE_ADDR": "10.9.8.5"})
    uses = events(db_session, "api_token.use", object_id=str(row.id))
    assert [e.remote_addr for e in uses] == ["10.9.8.7", "10.9.8.6"]
    assert token_row(db_session, plaintext).last_used_addr == "10.9.8.5"


def test_revoking_refuses_the_token(app, seed, login_as, db_session):
    client = login_as("dept")
    plaintext = ui_token(client, "temp")
    api = app.test_client()
    assert api.get("/api/v1/requests", headers=bearer(plaintext)).status_code == 200
    row = token_row(db_session, plaintext)
    html = client.get("/requests/tokens").get_data(as_text=True)
    response = client.post(f"/requests/tokens/{row.id}/revoke", data={"csrf_token": csrf_token_from(html)})
    assert response.status_code == 302 and response.headers["Location"] == "/requests/tokens"
    refused = api.get("/api/v1/requests", headers=bearer(plaintext))
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == INVALID
    assert refused.get_json()["message"] == "API 令牌已被吊销。"
    assert token_row(db_session, plaintext).revoked_at is not None
    revoked = events(db_session, "api_token.revoke", object_id=str(row.id))
    assert [(e.actor_username, e.after["user"]) for e in revoked] == [("a-user", "a-user")]
    assert [e.detail for e in events(db_session, "api_token.refused", object_id=str(row.id))] == ["revoked"]
    html = client.get("/requests/tokens").get_data(as_text=True)
    assert re.search(r'<tr class="token-revoked"><td>temp</td>', html)
    assert f"/requests/tokens/{row.id}/revoke" not in html

    # another department's user cannot revoke it (nor see that it exists)
    other = login_as("dept_b")
    page = other.get("/requests/tokens").get_data(as_text=True)
    assert "temp" not in page
    own = ui_token(other, "b-token")
    b_row = token_row(db_session, own)
    assert client.post(f"/requests/tokens/{b_row.id}/revoke",
                       data={"csrf_token": csrf_token_from(html)}).status_code == 404
    assert token_row(db_session, own).revoked_at is None


def test_admins_see_and_revoke_every_token(app, seed, login_as, db_session):
    plaintext = ui_token(login_as("dept"), "部门令牌")
    row = token_row(db_session, plaintext)
    for key in ("dept", "dept_admin", "bureau", "vendor", "auditor"):
        assert login_as(key).get("/requests/tokens/all").status_code == 403, key

    admin = login_as("admin")
    html = admin.get("/requests/tokens/all").get_data(as_text=True)
    assert re.search(r"<td>a-user</td><td>部门令牌</td>", html)
    assert re.search(r"<td>b-user</td><td>seed</td>", html)  # the seeded token of department B
    assert f"/requests/tokens/{row.id}/revoke" in html
    response = admin.post(f"/requests/tokens/{row.id}/revoke", data={"csrf_token": csrf_token_from(html)})
    assert response.status_code == 302 and response.headers["Location"] == "/requests/tokens/all"
    assert app.test_client().get("/api/v1/requests", headers=bearer(plaintext)).status_code == 401
    revoked = events(db_session, "api_token.revoke", object_id=str(row.id))
    assert [(e.actor_username, e.after["user"], e.department_id) for e in revoked] == [
        ("admin1", "a-user", seed.dept_a)]
    # the admin's own page lists only the admin's tokens
    assert "部门令牌" not in admin.get("/requests/tokens").get_data(as_text=True)


def test_auditors_see_their_own_tokens_only(app, seed, login_as, db_session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["api-token", "create", "--username", "auditor1", "--name", "审计导出"])
    assert result.exit_code == 0, result.output
    auditor = login_as("auditor")
    html = auditor.get("/requests/tokens").get_data(as_text=True)
    assert "审计导出" in html and "seed" not in html
    assert 'id="token-form"' not in html and "/revoke" not in html
    assert post_token_form(auditor, "more").status_code == 403


def test_cli_days_and_scope(app, seed, db_session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["api-token", "create", "--username", "b-user", "--name", "nightly",
                                 "--days", "7", "--scope", "write"])
    assert result.exit_code == 0, result.output
    row = token_row(db_session, result.output.strip())
    assert row.scope == "write" and row.expires_at - row.created_at == timedelta(days=7)

    result = runner.invoke(args=["api-token", "create", "--username", "b-user", "--name", "default"])
    row = token_row(db_session, result.output.strip())
    assert row.scope == "read" and row.expires_at - row.created_at == timedelta(days=90)

    before = len(tokens_of(db_session, seed.user_ids["dept_b"]))
    for extra in (["--days", "366"], ["--days", "0"], ["--scope", "admin"]):
        result = runner.invoke(args=["api-token", "create", "--username", "b-user", "--name", "bad", *extra])
        assert result.exit_code == 2, (extra, result.output)
    result = runner.invoke(args=["api-token", "create", "--username", "b-user", "--name", "a\x01b"])
    assert result.exit_code == 1 and "内容含有控制字符。" in result.output
    assert len(tokens_of(db_session, seed.user_ids["dept_b"])) == before

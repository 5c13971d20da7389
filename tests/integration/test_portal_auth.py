"""Login, lock-out, rate limit, CSRF, session handling, password change, security headers."""
from sqlalchemy import func, select

from portal.models.accounts import User
from portal.models.audit import AuditEvent
from tests.conftest import PASSWORD, csrf_token_from, login


def events(db_session, action):
    return db_session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).all()


def test_login_success_is_audited_and_lands_on_home(client, seed, db_session):
    response = login(client, seed.users["bureau"])
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "市大数据管理局工作台" in home and "这是您第一次登录。" in home
    again = client.application.test_client()
    login(again, seed.users["bureau"])
    assert "上次登录：" in again.get("/").get_data(as_text=True)
    event = events(db_session, "auth.login")[0]
    assert event.actor_username == seed.users["bureau"] and event.actor_role == "bureau"
    assert event.outcome == "success" and event.request_id and event.remote_addr == "127.0.0.1"


def test_wrong_password_n_times_locks_the_account(app, client, seed, db_session):
    username = seed.users["dept"]
    for attempt in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        page = login(client, username, "wrong-password-1")
        assert page.status_code == 200
        assert "用户名或密码错误" in page.get_data(as_text=True)
    locked = login(client, username, "wrong-password-1")
    assert GENERIC in locked.get_data(as_text=True)
    # now even the right password is refused, until the lock expires
    refused = login(client, username, PASSWORD)
    assert refused.status_code == 200 and GENERIC in refused.get_data(as_text=True)
    assert client.get("/").status_code == 302
    user = db_session.scalars(select(User).where(User.username == username)).one()
    assert user.locked_until is not None
    assert len(events(db_session, "auth.lockout")) == 1
    assert len(events(db_session, "auth.login_locked")) == 1
    assert len(events(db_session, "auth.login_failed")) == app.config["LOGIN_MAX_FAILURES"]


GENERIC = "用户名或密码错误，或账号因多次登录失败已被暂时锁定。"


def _alert(page):
    text = page.get_data(as_text=True)
    return text[text.index('role="alert"'):].split("</div>")[0]


def test_the_lockout_does_not_tell_whether_a_username_exists(app, seed, db_session):
    """A locked account, a wrong password and an unknown username get one answer: same status,
    same message; the refusal of a locked account still checks a password (same work)."""
    known, unknown = app.test_client(), app.test_client()
    answers = []
    for attempt in range(app.config["LOGIN_MAX_FAILURES"] + 1):
        answers.append((login(known, seed.users["dept"], "wrong-password-1"),
                        login(unknown, "nobody-by-this-name", "wrong-password-1")))
    for mine, theirs in answers:
        assert mine.status_code == theirs.status_code == 200
        assert _alert(mine) == _alert(theirs) and GENERIC in _alert(mine)
    assert "锁定" not in _alert(answers[0][0]).replace(GENERIC, "")
    user = db_session.scalars(select(User).where(User.username == seed.users["dept"])).one()
    assert user.locked_until is not None  # the lock itself still holds


def test_lock_expires(app, client, seed, db_session):
    from datetime import timedelta

    from portal.database import utcnow
    user = db_session.scalars(select(User).where(User.username == seed.users["dept"])).one()
    user.locked_until = utcnow() - timedelta(seconds=1)
    db_session.commit()
    assert login(client, seed.users["dept"]).status_code == 302


def test_admin_lifts_a_lockout(app, client, seed, login_as, db_session):
    user = db_session.scalars(select(User).where(User.username == seed.users["dept"])).one()
    from portal.database import utcnow
    from datetime import timedelta
    user.locked_until = utcnow() + timedelta(minutes=10)
    db_session.commit()
    admin = login_as("admin")
    form = admin.get(f"/users/{user.id}/edit").get_data(as_text=True)
    response = admin.post(f"/users/{user.id}/edit", data={
        "csrf_token": csrf_token_from(form), "username": user.username, "full_name": "甲",
        "role": "department", "department_id": user.department_id, "is_active_account": "y",
        "unlock": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert login(client, seed.users["dept"]).status_code == 302


def test_rate_limit_per_address(app, client, seed):
    app.config.update(LOGIN_RATE_LIMIT=3, LOGIN_MAX_FAILURES=100)
    for _ in range(3):
        assert login(client, "nobody-at-all", "wrong").status_code == 200
    limited = login(client, seed.users["bureau"], PASSWORD)
    assert limited.status_code == 429
    assert "登录尝试过于频繁" in limited.get_data(as_text=True)


def test_unknown_user_gets_the_same_message(client):
    page = login(client, "no-such-user", "whatever")
    assert page.status_code == 200 and "用户名或密码错误" in page.get_data(as_text=True)


def test_post_without_csrf_token_is_400(client, seed, login_as, db_session):
    assert client.post("/login", data={"username": seed.users["bureau"], "password": PASSWORD}).status_code == 400
    bureau = login_as("bureau")
    before = db_session.scalar(select(func.count(AuditEvent.id)))
    response = bureau.post(f"/departments/{seed.dept_a}/contacts", data={"it_lead_name": "攻击者"})
    assert response.status_code == 400
    assert "表单已过期或并非来自本站" in response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.scalar(select(func.count(AuditEvent.id))) == before
    assert bureau.post("/logout").status_code == 400


def test_wrong_csrf_token_is_400(client, login_as, seed):
    bureau = login_as("bureau")
    assert bureau.post("/logout", data={"csrf_token": "forged"}).status_code == 400


def test_new_session_on_login_and_logout_ends_it(client, seed):
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by-attacker"
        old_token = session.get("csrf_token")
    login(client, seed.users["vendor"])
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("csrf_token") != old_token
        assert session.get("_user_id")
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).headers["Location"] == "/login"
    assert client.get("/").status_code == 302


def test_password_change_rotates_sessions(app, seed, login_as, db_session):
    first = login_as("auditor")
    second = login_as("auditor")
    page = first.get("/password").get_data(as_text=True)
    response = first.post("/password", data={
        "csrf_token": csrf_token_from(page), "current_password": PASSWORD,
        "new_password": "Brand-new-pass-99", "confirm": "Brand-new-pass-99"})
    assert response.status_code == 302
    assert first.get("/").status_code == 200  # the changing session continues
    assert second.get("/").status_code == 302  # every other session is gone
    assert len(events(db_session, "auth.password_change")) == 1


def test_password_change_rejects_wrong_current_and_weak_new(seed, login_as, db_session):
    client = login_as("vendor")
    page = client.get("/password").get_data(as_text=True)
    wrong = client.post("/password", data={"csrf_token": csrf_token_from(page), "current_password": "nope",
                                            "new_password": "Brand-new-pass-99", "confirm": "Brand-new-pass-99"})
    assert "当前密码不正确" in wrong.get_data(as_text=True)
    weak = client.post("/password", data={"csrf_token": csrf_token_from(page), "current_password": PASSWORD,
                                           "new_password": "short", "confirm": "short"})
    assert "密码至少需要 10 个字符" in weak.get_data(as_text=True)
    user = db_session.scalars(select(User).where(User.username == seed.users["vendor"])).one()
    from portal.passwords import Passwords
    assert Passwords(1, 8, 1).verify(user.password_hash, PASSWORD)


def test_disabled_account_cannot_log_in(seed, client, db_session):
    user = db_session.scalars(select(User).where(User.username == seed.users["vendor"])).one()
    user.is_active_account = False
    db_session.commit()
    assert "用户名或密码错误" in login(client, seed.users["vendor"]).get_data(as_text=True)


def test_open_redirect_after_login_is_refused(client, seed):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login?next=https://evil.example/", data={
        "username": seed.users["bureau"], "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_security_headers_and_cookie_flags(client, seed):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_pages_have_no_inline_script_or_style(login_as):
    html = login_as("admin").get("/").get_data(as_text=True)
    assert "<script>" not in html and "style=" not in html and "<style" not in html
    assert "http://" not in html and "https://" not in html  # no CDN

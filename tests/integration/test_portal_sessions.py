"""Issue 16 (MLPS level 3): server-side sessions that end, credentials that expire, TOTP second factor.

Time moves by setting the session's and the user's timestamps in the database, never by sleeping.
"""
import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from portal.database import utcnow
from portal.models.accounts import PasswordHistory, RecoveryCode, User, UserSession
from portal.models.audit import AuditEvent
from portal.services import accounts, sessions
from portal.services.audit import RequestInfo
from tests.conftest import PASSWORD, csrf_token_from, login

COOKIE = "govcloud_session"
NEW_PASSWORD = "Brand-new-pass-99"
CODES = re.compile(r"<li><code>([a-z0-9-]+)</code></li>")
DEFAULT_TOTP_ROLES = ["bureau", "vendor", "admin", "security", "auditor", "expert"]


def user_of(db_session, seed, key):
    db_session.expire_all()
    return db_session.scalars(select(User).where(User.username == seed.users[key])).one()


def sessions_of(db_session, user_id):
    db_session.expire_all()
    return db_session.scalars(select(UserSession).where(UserSession.user_id == user_id)
                              .order_by(UserSession.id)).all()


def events(db_session, action):
    return db_session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).all()


def post(client, url, data, page="/"):
    token = csrf_token_from(client.get(page, follow_redirects=True).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def change_password(client, current, new):
    return post(client, "/password", {"current_password": current, "new_password": new, "confirm": new},
                page="/password")


def redirected_to_login(response):
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


# --- server-side sessions -------------------------------------------------------------------------

def test_cookie_captured_before_logout_is_refused_after_it(app, seed, login_as, db_session):
    client = login_as("dept")
    captured = client.get_cookie(COOKIE).value
    assert client.get("/").status_code == 200
    post(client, "/logout", {})
    replay = app.test_client()
    replay.set_cookie(COOKIE, captured)
    assert redirected_to_login(replay.get("/"))
    [row] = sessions_of(db_session, seed.user_ids["dept"])
    assert row.revoked_at is not None and row.revoked_reason == "logout"


def test_each_login_gets_a_new_random_id_kept_only_as_its_hash(app, seed, db_session):
    ids = []
    for _ in range(2):
        client = app.test_client()
        login(client, seed.users["vendor"])
        with client.session_transaction() as flask_session:
            ids.append(flask_session["_user_id"])
    assert ids[0] != ids[1] and str(seed.user_ids["vendor"]) not in ids
    rows = sessions_of(db_session, seed.user_ids["vendor"])
    assert [r.id_hash for r in rows] == [sessions.id_hash(i) for i in ids]
    assert all(r.revoked_at is None and r.remote_addr == "127.0.0.1" for r in rows)
    assert rows[0].expires_at - rows[0].created_at == timedelta(hours=8)


def test_idle_session_ends(app, seed, login_as, db_session):
    client = login_as("bureau")
    [row] = sessions_of(db_session, seed.user_ids["bureau"])
    row.last_seen_at = utcnow() - timedelta(minutes=29)
    db_session.commit()
    assert client.get("/").status_code == 200  # 29 minutes: still alive, and now seen again
    row = sessions_of(db_session, seed.user_ids["bureau"])[0]
    assert utcnow() - row.last_seen_at < timedelta(seconds=5)
    row.last_seen_at = utcnow() - timedelta(minutes=31)
    db_session.commit()
    assert redirected_to_login(client.get("/"))
    assert sessions_of(db_session, seed.user_ids["bureau"])[0].revoked_reason == "idle"


def test_idle_timeout_is_a_setting(app, seed, login_as, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 5)
    client = login_as("bureau")
    [row] = sessions_of(db_session, seed.user_ids["bureau"])
    row.last_seen_at = utcnow() - timedelta(minutes=6)
    db_session.commit()
    assert redirected_to_login(client.get("/"))


def test_absolute_lifetime_ends_a_busy_session(app, seed, login_as, db_session):
    client = login_as("auditor")
    [row] = sessions_of(db_session, seed.user_ids["auditor"])
    row.created_at = utcnow() - timedelta(hours=8)
    row.expires_at = utcnow() - timedelta(seconds=1)  # used a second ago, but 8 hours old
    db_session.commit()
    assert redirected_to_login(client.get("/"))
    assert sessions_of(db_session, seed.user_ids["auditor"])[0].revoked_reason == "expired"


def test_last_seen_is_written_at_most_every_minute(app, seed, login_as, db_session):
    client = login_as("dept")
    seen = utcnow() - timedelta(seconds=30)
    [row] = sessions_of(db_session, seed.user_ids["dept"])
    row.last_seen_at = seen
    db_session.commit()
    for _ in range(3):
        assert client.get("/").status_code == 200
    assert sessions_of(db_session, seed.user_ids["dept"])[0].last_seen_at == seen
    row = sessions_of(db_session, seed.user_ids["dept"])[0]
    row.last_seen_at = utcnow() - timedelta(seconds=61)
    db_session.commit()
    client.get("/")
    assert utcnow() - sessions_of(db_session, seed.user_ids["dept"])[0].last_seen_at < timedelta(seconds=5)


def test_several_sessions_by_default_one_with_the_option(app, seed, login_as, monkeypatch, db_session):
    first, second = login_as("vendor"), login_as("vendor")
    assert first.get("/").status_code == 200 and second.get("/").status_code == 200
    monkeypatch.setitem(app.config, "SESSION_SINGLE_PER_USER", True)
    third = login_as("vendor")
    assert redirected_to_login(first.get("/")) and redirected_to_login(second.get("/"))
    assert third.get("/").status_code == 200
    reasons = [r.revoked_reason for r in sessions_of(db_session, seed.user_ids["vendor"])]
    assert reasons == ["single_session", "single_session", ""]


def test_password_change_gives_the_changing_session_a_new_id(app, seed, login_as, db_session):
    client = login_as("dept")
    before = client.get_cookie(COOKIE).value
    assert change_password(client, PASSWORD, NEW_PASSWORD).status_code == 302
    assert client.get("/").status_code == 200
    replay = app.test_client()
    replay.set_cookie(COOKIE, before)
    assert redirected_to_login(replay.get("/"))
    rows = sessions_of(db_session, seed.user_ids["dept"])
    assert [r.revoked_reason for r in rows] == ["password_change", ""]
    assert user_of(db_session, seed, "dept").previous_login_at is None  # a change is not a login


def test_disabling_an_account_ends_its_sessions(app, seed, login_as, db_session):
    member = login_as("dept_member")
    admin = login_as("admin")
    page = admin.get(f"/users/{seed.user_ids['dept_member']}/edit").get_data(as_text=True)
    response = admin.post(f"/users/{seed.user_ids['dept_member']}/edit", data={
        "csrf_token": csrf_token_from(page), "username": seed.users["dept_member"], "full_name": "m",
        "role": "department", "department_id": seed.dept_a})  # is_active_account unticked
    assert response.status_code == 302
    assert redirected_to_login(member.get("/"))
    assert sessions_of(db_session, seed.user_ids["dept_member"])[0].revoked_reason == "account_disabled"


def test_a_role_change_by_the_admin_ends_the_users_sessions(app, seed, login_as, db_session):
    vendor = login_as("vendor")
    admin = login_as("admin")
    page = admin.get(f"/users/{seed.user_ids['vendor']}/edit").get_data(as_text=True)
    response = admin.post(f"/users/{seed.user_ids['vendor']}/edit", data={
        "csrf_token": csrf_token_from(page), "username": seed.users["vendor"], "full_name": "v",
        "role": "bureau", "department_id": 0, "is_active_account": "y"})
    assert response.status_code == 302
    assert redirected_to_login(vendor.get("/"))
    assert sessions_of(db_session, seed.user_ids["vendor"])[0].revoked_reason == "role_changed"


def test_prune_removes_sessions_over_a_day_past_their_end(app, seed, login_as, db_session):
    login_as("dept")
    login_as("dept")
    old, fresh = sessions_of(db_session, seed.user_ids["dept"])
    old.expires_at = utcnow() - timedelta(days=2)
    db_session.commit()
    assert sessions.prune(db_session) == 1
    db_session.commit()
    assert [r.id for r in sessions_of(db_session, seed.user_ids["dept"])] == [fresh.id]


def test_prune_history_job_prunes_sessions(app, seed, login_as, db_session):
    from scheduler import housekeeping, runtime
    runtime.configure(app.config, app.extensions["govcloud_db"][0])
    login_as("dept")
    [row] = sessions_of(db_session, seed.user_ids["dept"])
    row.revoked_at = utcnow() - timedelta(days=2)
    db_session.commit()
    housekeeping.prune_history()
    assert sessions_of(db_session, seed.user_ids["dept"]) == []


def test_last_login_time_and_address_shown(app, seed, db_session):
    first = app.test_client()
    login(first, seed.users["dept"])
    assert "这是您第一次登录。" in first.get("/").get_data(as_text=True)
    second = app.test_client()
    token = csrf_token_from(second.get("/login").get_data(as_text=True))
    second.post("/login", data={"username": seed.users["dept"], "password": PASSWORD, "csrf_token": token},
                environ_base={"REMOTE_ADDR": "198.51.100.7"})
    third = app.test_client()
    login(third, seed.users["dept"])
    assert "来自 198.51.100.7" in third.get("/").get_data(as_text=True)
    user = user_of(db_session, seed, "dept")
    assert user.last_login_addr == "127.0.0.1" and user.previous_login_addr == "198.51.100.7"


# --- credentials ----------------------------------------------------------------------------------

def test_expired_password_forces_a_change_and_nothing_else(app, seed, db_session):
    user = user_of(db_session, seed, "dept")
    user.password_changed_at = utcnow() - timedelta(days=91)
    db_session.commit()
    client = app.test_client()
    assert login(client, seed.users["dept"]).status_code == 302
    for path in ("/", "/requests/", "/audit/", f"/departments/{seed.dept_a}"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/password", path
    page = client.get("/password").get_data(as_text=True)
    assert "您的密码由管理员设置或已过期" in page
    assert change_password(client, PASSWORD, NEW_PASSWORD).status_code == 302
    assert client.get("/").status_code == 200
    assert events(db_session, "auth.password_change")[-1].detail == "forced"


def test_password_younger_than_the_maximum_age_is_not_forced(app, seed, login_as, db_session):
    user = user_of(db_session, seed, "dept")
    user.password_changed_at = utcnow() - timedelta(days=89)
    db_session.commit()
    assert login_as("dept").get("/").status_code == 200


def test_first_login_of_a_created_user_forces_a_change(app, seed, login_as, db_session):
    admin = login_as("admin")
    response = post(admin, "/users/new", {"username": "newbie", "full_name": "新人", "role": "vendor",
                                          "department_id": 0, "password": "First-pass-123",
                                          "is_active_account": "y"}, page="/users/new")
    assert response.status_code == 302, response.get_data(as_text=True)
    client = app.test_client()
    assert login(client, "newbie", "First-pass-123").status_code == 302
    assert client.get("/").headers["Location"] == "/password"
    assert client.get("/users/").headers["Location"] == "/password"
    same = change_password(client, "First-pass-123", "First-pass-123")
    assert same.status_code == 200 and client.get("/").headers["Location"] == "/password"
    assert change_password(client, "First-pass-123", NEW_PASSWORD).status_code == 302
    assert client.get("/").status_code == 200
    db_session.expire_all()
    assert db_session.scalars(select(User).where(User.username == "newbie")).one().must_change_password is False


def test_admin_reset_ends_sessions_and_forces_a_change(app, seed, login_as, db_session):
    member = login_as("dept_member")
    admin = login_as("dept_admin")
    url = f"/users/{seed.user_ids['dept_member']}/edit"
    page = admin.get(url).get_data(as_text=True)
    response = admin.post(url, data={
        "csrf_token": csrf_token_from(page), "username": seed.users["dept_member"], "full_name": "m",
        "role": "department", "department_id": seed.dept_a, "is_active_account": "y",
        "new_password": "Reset-by-admin-7"})
    assert response.status_code == 302
    assert redirected_to_login(member.get("/"))
    assert sessions_of(db_session, seed.user_ids["dept_member"])[0].revoked_reason == "password_reset"
    client = app.test_client()
    assert login(client, seed.users["dept_member"], "Reset-by-admin-7").status_code == 302
    assert client.get("/requests/").headers["Location"] == "/password"
    assert change_password(client, "Reset-by-admin-7", NEW_PASSWORD).status_code == 302
    assert client.get("/requests/").status_code == 200


def test_password_history_refuses_reuse(app, seed, login_as, db_session):
    client = login_as("vendor")
    passwords = [f"History-pass-{i}x" for i in range(1, 5)]
    current = PASSWORD
    for new in passwords:
        assert change_password(client, current, new).status_code == 302
        current = new
    # the seed password is the 5th last: refused, with the message in Chinese
    refused = change_password(client, current, PASSWORD)
    assert refused.status_code == 200
    assert "新密码不能与最近 5 次使用过的密码相同。" in refused.get_data(as_text=True)
    refused = change_password(client, current, passwords[1])
    assert "新密码不能与最近 5 次使用过的密码相同。" in refused.get_data(as_text=True)
    # one more change: the seed password is now 6 changes back, and allowed again
    assert change_password(client, current, "History-pass-5x").status_code == 302
    assert change_password(client, "History-pass-5x", PASSWORD).status_code == 302
    # only what the rule needs is kept: the current hash and the 4 before it
    kept = db_session.scalars(select(PasswordHistory).where(
        PasswordHistory.user_id == seed.user_ids["vendor"])).all()
    assert len(kept) == 4


def test_unused_accounts_are_disabled_audited_and_can_be_enabled_again(app, seed, login_as, db_session):
    from scheduler import housekeeping, runtime
    runtime.configure(app.config, app.extensions["govcloud_db"][0])
    old = utcnow() - timedelta(days=91)
    for key in ("dept_member", "dept_b"):
        user = user_of(db_session, seed, key)
        user.created_at = old
        user.last_login_at = old if key == "dept_member" else utcnow() - timedelta(days=10)
        db_session.commit()
    result = housekeeping.disable_unused_accounts()
    assert result.summary == "1 accounts disabled"
    assert user_of(db_session, seed, "dept_member").is_active_account is False
    assert user_of(db_session, seed, "dept_b").is_active_account is True
    assert user_of(db_session, seed, "dept").is_active_account is True  # created today
    [event] = events(db_session, "user.disable_unused")
    assert event.object_id == str(seed.user_ids["dept_member"])
    assert "用户名或密码错误" in login(app.test_client(), seed.users["dept_member"]).get_data(as_text=True)
    # the admin enables it again: the next run leaves it alone
    admin = login_as("admin")
    url = f"/users/{seed.user_ids['dept_member']}/edit"
    page = admin.get(url).get_data(as_text=True)
    assert admin.post(url, data={
        "csrf_token": csrf_token_from(page), "username": seed.users["dept_member"], "full_name": "m",
        "role": "department", "department_id": seed.dept_a, "is_active_account": "y"}).status_code == 302
    housekeeping.disable_unused_accounts()
    assert user_of(db_session, seed, "dept_member").is_active_account is True
    assert login(app.test_client(), seed.users["dept_member"]).status_code == 302


def test_unused_accounts_never_disabled_when_the_setting_is_zero(app, seed, db_session):
    user = user_of(db_session, seed, "dept_member")
    user.created_at = utcnow() - timedelta(days=400)
    db_session.commit()
    assert accounts.disable_unused(db_session, RequestInfo(), 0) == 0
    assert accounts.disable_unused(db_session, RequestInfo(), 90) == 1


# --- TOTP second factor ---------------------------------------------------------------------------

@pytest.fixture
def totp_required(app, monkeypatch):
    """The production default: bureau, vendor, admin, security, auditor and the review experts
    (评审专家, who read the projects' documents) need a second factor."""
    monkeypatch.setitem(app.config, "TOTP_REQUIRED_ROLES", DEFAULT_TOTP_ROLES)


def enrol(client, db_session, seed, key):
    """Set up TOTP for the logged-in client's user; return (secret, recovery codes)."""
    page = client.get("/account/second-factor").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page
    secret = user_of(db_session, seed, key).totp_secret_sealed
    assert secret and secret in page
    wrong = client.post("/account/second-factor", data={"csrf_token": csrf_token_from(page),
                                                        "code": wrong_code(secret)})
    assert "动态口令错误或已过期。" in wrong.get_data(as_text=True)
    assert user_of(db_session, seed, key).totp_enabled_at is None
    done = client.post("/account/second-factor", data={"csrf_token": csrf_token_from(page),
                                                       "code": pyotp.TOTP(secret).now()})
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and "恢复码" in html
    codes = CODES.findall(html)
    assert len(codes) == 10
    return secret, codes


def wrong_code(secret):
    """A six-digit code that is none of the codes accepted around now."""
    near = {code_at(secret, s) for s in (-60, -30, 0, 30, 60)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444", "555555") if c not in near)


def code_at(secret, seconds_from_now):
    return pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=seconds_from_now))


def password_step(app, seed, key):
    client = app.test_client()
    response = login(client, seed.users[key])
    return client, response


def send_code(client, code):
    page = client.get("/login/code").get_data(as_text=True)
    return client.post("/login/code", data={"csrf_token": csrf_token_from(page), "code": code})


@pytest.mark.usefixtures("totp_required")
def test_required_role_is_sent_to_enrolment_and_reaches_nothing_else(app, seed, db_session):
    client, response = password_step(app, seed, "vendor")
    assert response.status_code == 302
    for path in ("/", "/requests/", "/password", "/provisioning/"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/account/second-factor", path
    assert client.get("/account/second-factor").status_code == 200
    enrol(client, db_session, seed, "vendor")
    assert client.get("/").status_code == 200
    assert [e.action for e in events(db_session, "auth.totp_enrol")] == ["auth.totp_enrol"]


@pytest.mark.usefixtures("totp_required")
@pytest.mark.parametrize("key,required", [("bureau", True), ("vendor", True), ("admin", True),
                                          ("auditor", True), ("expert", True), ("dept", False),
                                          ("dept_admin", False)])
def test_roles_that_require_a_second_factor(app, seed, key, required):
    client, _response = password_step(app, seed, key)
    response = client.get("/")
    if required:
        assert response.headers["Location"] == "/account/second-factor"
    else:
        assert response.status_code == 200


def test_departments_can_be_required_too_and_unknown_roles_are_accepted(app, seed, monkeypatch):
    monkeypatch.setitem(app.config, "TOTP_REQUIRED_ROLES", ["department", "security", "no-such-role"])
    client, _response = password_step(app, seed, "dept")
    assert client.get("/").headers["Location"] == "/account/second-factor"
    client, _response = password_step(app, seed, "bureau")
    assert client.get("/").status_code == 200


def test_settings_accept_a_comma_separated_role_list():
    from portal.settings import load_settings
    settings = load_settings({"TESTING": True}, environ={"GOVCLOUD_TOTP_REQUIRED_ROLES": "admin, department"})
    assert settings["TOTP_REQUIRED_ROLES"] == ["admin", "department"]
    assert load_settings({"TESTING": True}, environ={})["TOTP_REQUIRED_ROLES"] == DEFAULT_TOTP_ROLES


@pytest.mark.usefixtures("totp_required")
def test_login_with_totp_wrong_code_and_replay(app, seed, login_as, db_session):
    client, _response = password_step(app, seed, "bureau")
    secret, _codes = enrol(client, db_session, seed, "bureau")
    post(client, "/logout", {})

    client, response = password_step(app, seed, "bureau")
    assert response.headers["Location"] == "/login/code"
    assert redirected_to_login(client.get("/"))  # not logged in before the code
    wrong = send_code(client, wrong_code(secret))
    assert wrong.status_code == 200 and "动态口令错误或已被使用。" in wrong.get_data(as_text=True)
    assert user_of(db_session, seed, "bureau").failed_login_count == 1
    used = user_of(db_session, seed, "bureau").totp_last_step  # the step of the enrolment's code
    good = pyotp.TOTP(secret).generate_otp(used + 1)  # the next step (one step of drift is accepted)
    response = send_code(client, good)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert user_of(db_session, seed, "bureau").failed_login_count == 0
    post(client, "/logout", {})

    # the same code again (and the enrolment's, an older step) is refused: no replay
    client, _response = password_step(app, seed, "bureau")
    for code in (good, pyotp.TOTP(secret).generate_otp(used)):
        replay = send_code(client, code)
        assert "动态口令错误或已被使用。" in replay.get_data(as_text=True)
    assert redirected_to_login(client.get("/"))


@pytest.mark.usefixtures("totp_required")
def test_wrong_codes_lock_the_account(app, seed, db_session):
    client, _response = password_step(app, seed, "admin")
    secret, _codes = enrol(client, db_session, seed, "admin")
    client, _response = password_step(app, seed, "admin")
    for _ in range(4):
        assert send_code(client, wrong_code(secret)).status_code == 200
    locked = send_code(client, wrong_code(secret))
    assert redirected_to_login(locked)
    assert user_of(db_session, seed, "admin").locked_until is not None
    # even the right code and password no longer get in while locked
    client, response = password_step(app, seed, "admin")
    assert response.status_code == 200
    assert events(db_session, "auth.lockout")


@pytest.mark.usefixtures("totp_required")
def test_recovery_codes_work_once_each_and_can_be_regenerated(app, seed, db_session):
    client, _response = password_step(app, seed, "auditor")
    _secret, codes = enrol(client, db_session, seed, "auditor")
    post(client, "/logout", {})
    client, _response = password_step(app, seed, "auditor")
    response = send_code(client, codes[0].upper())  # case and the dash do not matter
    assert response.status_code == 302
    assert "还剩 9 个" in client.get("/").get_data(as_text=True)
    post(client, "/logout", {})
    client, _response = password_step(app, seed, "auditor")
    assert "动态口令错误或已被使用。" in send_code(client, codes[0]).get_data(as_text=True)
    assert send_code(client, codes[1].replace("-", "")).status_code == 302
    # new codes replace the old ones (an auditor may do this: it changes only its own account)
    page = client.get("/account/second-factor").get_data(as_text=True)
    assert "未使用的恢复码：8 个" in page
    wrong = client.post("/account/second-factor/recovery-codes",
                        data={"csrf_token": csrf_token_from(page), "password": "not-the-password"})
    assert "密码错误。" in wrong.get_data(as_text=True)
    fresh = client.post("/account/second-factor/recovery-codes",
                        data={"csrf_token": csrf_token_from(page), "password": PASSWORD})
    html = fresh.get_data(as_text=True)
    new_codes = CODES.findall(html)
    assert len(new_codes) == 10 and not set(new_codes) & set(codes)
    rows = db_session.scalars(select(RecoveryCode).where(
        RecoveryCode.user_id == seed.user_ids["auditor"])).all()
    assert len(rows) == 10 and all(r.used_at is None and len(r.code_hash) == 64 for r in rows)
    assert all(c.replace("-", "") not in {r.code_hash for r in rows} for c in new_codes)  # hashed
    post(client, "/logout", {})
    client, _response = password_step(app, seed, "auditor")
    assert "动态口令错误或已被使用。" in send_code(client, codes[2]).get_data(as_text=True)
    assert send_code(client, new_codes[0]).status_code == 302


def test_optional_second_factor_for_a_department_user(app, seed, login_as, db_session):
    client = login_as("dept")
    secret, _codes = enrol(client, db_session, seed, "dept")
    client, response = password_step(app, seed, "dept")
    assert response.headers["Location"] == "/login/code"
    # the code of enrolment's time step was used there: refused here; the next one passes
    used = user_of(db_session, seed, "dept").totp_last_step
    assert send_code(client, pyotp.TOTP(secret).generate_otp(used)).status_code == 200
    assert send_code(client, pyotp.TOTP(secret).generate_otp(used + 1)).status_code == 302


@pytest.mark.usefixtures("totp_required")
def test_pending_code_step_expires(app, seed, db_session):
    client, _response = password_step(app, seed, "vendor")
    enrol(client, db_session, seed, "vendor")
    client, _response = password_step(app, seed, "vendor")
    with client.session_transaction() as flask_session:
        flask_session["pending_login"] = {**flask_session["pending_login"],
                                          "at": flask_session["pending_login"]["at"] - 301}
    assert redirected_to_login(client.get("/login/code"))


@pytest.mark.usefixtures("totp_required")
def test_admin_resets_a_second_factor(app, seed, login_as, db_session):
    client, _response = password_step(app, seed, "vendor")
    enrol(client, db_session, seed, "vendor")
    admin_login, _response = password_step(app, seed, "admin")
    enrol(admin_login, db_session, seed, "admin")
    page = admin_login.get(f"/users/{seed.user_ids['vendor']}/edit").get_data(as_text=True)
    assert "重置双因素认证" in page
    response = admin_login.post(f"/users/{seed.user_ids['vendor']}/second-factor/reset",
                                data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 302
    vendor = user_of(db_session, seed, "vendor")
    assert vendor.totp_enabled_at is None and vendor.totp_secret_sealed is None
    assert db_session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == vendor.id)).all() == []
    [event] = events(db_session, "user.totp_reset")
    assert event.actor_username == seed.users["admin"] and event.object_id == str(vendor.id)
    # the vendor logs in with the password and must set it up again
    client, response = password_step(app, seed, "vendor")
    assert response.headers["Location"] == "/"
    assert client.get("/").headers["Location"] == "/account/second-factor"


def test_a_department_admin_cannot_reset_another_departments_user(app, seed, login_as):
    client = login_as("dept_admin")
    page = client.get("/").get_data(as_text=True)
    response = client.post(f"/users/{seed.user_ids['dept_b']}/second-factor/reset",
                           data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 404

"""三权分立 (issue 16): the system (admin), security (security) and audit (auditor) administrators are
each refused outside their duty, with 403 and nothing changed; nobody changes his own role; the last
active account of each of the three stays; every role change is audited with before and after."""
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.models.accounts import User
from portal.models.audit import AuditEvent
from portal.models.requests import ResourceRequest
from portal.services.api_tokens import create_token
from portal.services.audit import RequestInfo
from tests.conftest import PASSWORD, csrf_token_from, login

NEW_USER = {"full_name": "新账号", "email": "", "phone": "", "department_id": 0,
            "password": "Good-password-1", "is_active_account": "y"}


def post(client, url, data, form_url=None):
    """POST data with a CSRF token taken from form_url (or the home page)."""
    token = csrf_token_from(client.get(form_url or "/").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def snapshot(db_session):
    """Every account's (role, active, department) and the number of audit events."""
    db_session.expire_all()
    accounts = {u.username: (u.role, u.is_active_account, u.department_id, u.locked_until)
                for u in db_session.scalars(select(User))}
    # refusals are recorded (access.denied, <action>.failed): every other event counts
    changes = select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action != "access.denied", AuditEvent.action.not_like("%.failed"))
    return accounts, db_session.scalar(changes)


def events(db_session, action):
    db_session.expire_all()
    return list(db_session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def add_user(db_session, app, username, role, department_id=None):
    user = User(username=username, full_name=username, role=role, department_id=department_id,
                password_hash=app.extensions["govcloud_passwords"].hash(PASSWORD))
    db_session.add(user)
    db_session.commit()
    return user


def refused(response, *texts):
    html = response.get_data(as_text=True)
    response.close()
    assert response.status_code == 403, html[:500]
    for text in texts:
        assert text in html
    return html


# -- the system administrator ---------------------------------------------------------------------

def test_admin_does_not_read_search_or_export_the_audit_log(login_as, db_session):
    admin = login_as("admin")
    before = snapshot(db_session)
    for url in ("/audit/", "/audit/?action=auth.login", "/audit/export.csv", "/audit/export.csv?outcome=success"):
        refused(admin.get(url))
    assert snapshot(db_session) == before  # not even an audit.export event
    home = admin.get("/").get_data(as_text=True)
    assert 'href="/audit/' not in home and "近期操作" not in home  # no link, no recent operations


def test_admin_does_not_create_or_grant_the_three_administrator_roles(app, login_as, seed, db_session):
    admin = login_as("admin")
    listing = admin.get("/users/").get_data(as_text=True)
    assert f'/users/{seed.user_ids["vendor"]}/edit' in listing and f'/users/{seed.user_ids["auditor"]}/edit' not in listing
    assert "/role" not in listing
    form = admin.get("/users/new").get_data(as_text=True)
    assert 'value="vendor"' in form and 'value="auditor"' not in form and 'value="security"' not in form
    before = snapshot(db_session)
    for role in ("admin", "security", "auditor"):
        refused(post(admin, "/users/new", {**NEW_USER, "username": f"new-{role}", "role": role}, "/users/new"),
                "只有安全管理员可以授予或撤销系统管理员、安全管理员和审计管理员角色")
    # an auditor's, a security administrator's, another admin's and his own account are not his to edit
    other_admin = add_user(db_session, app, "admin2", "admin")
    before = snapshot(db_session)
    for key in ("auditor", "security", "admin"):
        url = f"/users/{seed.user_ids[key]}/edit"
        refused(admin.get(url))
        refused(post(admin, url, {"username": seed.users[key], "full_name": "x", "role": "vendor",
                                  "department_id": 0, "is_active_account": ""}))
    refused(admin.get(f"/users/{other_admin.id}/edit"))
    # nor may he make a vendor an auditor (or an admin, or a security administrator)
    vendor_url = f"/users/{seed.user_ids['vendor']}/edit"
    for role in ("auditor", "admin", "security"):
        refused(post(admin, vendor_url, {"username": "vendor1", "full_name": "x", "role": role,
                                         "department_id": 0, "is_active_account": "y"}, vendor_url))
    # the role assignment page is the security administrator's
    refused(admin.get(f"/users/{seed.user_ids['vendor']}/role"))
    refused(post(admin, f"/users/{seed.user_ids['vendor']}/role", {"role": "auditor", "is_active_account": "y"}))
    assert snapshot(db_session) == before


def test_admin_changes_business_roles_and_the_change_is_audited(login_as, seed, db_session):
    admin = login_as("admin")
    url = f"/users/{seed.user_ids['vendor']}/edit"
    response = post(admin, url, {"username": "vendor1", "full_name": "运维", "role": "bureau",
                                 "department_id": 0, "is_active_account": "y"}, url)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert db_session.get(User, seed.user_ids["vendor"]).role == "bureau"
    (event,) = events(db_session, "user.role_changed")
    assert event.actor_username == "admin1" and event.object_id == str(seed.user_ids["vendor"])
    assert event.before["role"] == "vendor" and event.after["role"] == "bureau"


# -- the security administrator -------------------------------------------------------------------

def test_security_grants_and_revokes_administrator_roles_audited(login_as, seed, db_session):
    security = login_as("security")
    vendor_id = seed.user_ids["vendor"]
    listing = security.get("/users/").get_data(as_text=True)
    assert f"/users/{vendor_id}/role" in listing and f'/users/{seed.user_ids["admin"]}/role' in listing
    assert f'/users/{seed.user_ids["security"]}/role' not in listing and "/edit" not in listing
    vendor_client = login_as("vendor")
    url = f"/users/{vendor_id}/role"
    response = post(security, url, {"role": "auditor", "department_id": 0, "is_active_account": "y"}, url)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert db_session.get(User, vendor_id).role == "auditor"
    (event,) = events(db_session, "user.role_changed")
    assert event.actor_username == "security1" and event.actor_role == "security"
    assert (event.before["role"], event.after["role"]) == ("vendor", "auditor")
    # the promoted user's old session ends with the role it was opened with
    assert vendor_client.get("/").status_code == 302
    # and back, then into a department
    post(security, url, {"role": "vendor", "department_id": 0, "is_active_account": "y"}, url).close()
    post(security, url, {"role": "department", "department_id": seed.dept_a, "is_active_account": "y"}, url).close()
    user = db_session.get(User, vendor_id)
    db_session.refresh(user)
    assert (user.role, user.department_id) == ("department", seed.dept_a)
    assert [(e.before["role"], e.after["role"]) for e in events(db_session, "user.role_changed")] == [
        ("vendor", "auditor"), ("auditor", "vendor"), ("vendor", "department")]
    # a department user needs a department: a form error, nothing changed
    response = post(security, url, {"role": "department", "department_id": 0, "is_active_account": "y"}, url)
    assert response.status_code == 200 and "使用部门(单位)用户必须属于一个部门。" in response.get_data(as_text=True)


def test_security_creates_administrators_only(login_as, db_session):
    security = login_as("security")
    form = security.get("/users/new").get_data(as_text=True)
    assert 'value="auditor"' in form and 'value="vendor"' not in form and 'name="department_id"' not in form
    response = post(security, "/users/new", {**NEW_USER, "username": "audit2", "role": "auditor"}, "/users/new")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert db_session.scalars(select(User).where(User.username == "audit2")).one().role == "auditor"
    before = snapshot(db_session)
    for role in ("vendor", "department", "bureau"):
        refused(post(security, "/users/new", {**NEW_USER, "username": f"x-{role}", "role": role}, "/users/new"),
                "安全管理员只能创建系统管理员、安全管理员和审计管理员。")
    # the edit page (profile, password) is the system administrator's
    refused(security.get("/users/{}/edit".format(db_session.scalars(select(User.id).where(User.username == "audit2")).one())))
    assert snapshot(db_session) == before


def test_security_unlocks_an_account(login_as, seed, db_session):
    from datetime import timedelta

    from portal.database import utcnow
    admin = db_session.get(User, seed.user_ids["admin"])
    admin.locked_until, admin.failed_login_count = utcnow() + timedelta(minutes=10), 5
    db_session.commit()
    security = login_as("security")
    assert 'id="locked-count">1<' in security.get("/").get_data(as_text=True)
    url = f"/users/{admin.id}/role"
    response = post(security, url, {"role": "admin", "department_id": 0, "is_active_account": "y", "unlock": "y"}, url)
    assert response.status_code == 302
    db_session.refresh(admin)
    assert admin.locked_until is None and admin.failed_login_count == 0 and admin.role == "admin"
    (event,) = events(db_session, "user.update")
    assert event.after["unlocked"] is True and events(db_session, "user.role_changed") == []


def test_security_approves_no_business_and_reads_no_audit_log(login_as, seed, db_session):
    draft_id = seed.extra["request_id"][0]
    request = db_session.get(ResourceRequest, draft_id)
    request.state = "under_review"
    db_session.commit()
    security = login_as("security")
    before = snapshot(db_session)
    for url in (f"/reviews/{draft_id}/approve", f"/reviews/{draft_id}/reject", f"/provisioning/{draft_id}/retry",
                f"/grants/{seed.extra['grant_id'][0]}/decide",
                f"/backups/extractions/{seed.extra['extraction_id'][0]}/decide",
                f"/backups/policies/{seed.extra['policy_id'][0]}/run"):
        refused(post(security, url, {"decision": "approve", "comment": "ok"}))
    for url in ("/audit/", "/audit/export.csv", "/reviews/", f"/requests/{draft_id}", "/requests/",
                "/backups/", "/grants/", "/departments/", "/billing/"):
        refused(security.get(url))
    db_session.refresh(request)
    assert request.state == "under_review" and snapshot(db_session) == before
    nav = security.get("/").get_data(as_text=True)
    assert "/audit/" not in nav and "/requests/" not in nav and "/security/policy" in nav


def test_security_api_token_reads_nothing(app, seed, db_session):
    from portal.extensions import db
    with app.app_context():
        user = db.session.get(User, seed.user_ids["security"])
        token = create_token(db.session, RequestInfo(actor=user), user, "t", scope="read", days=1)[1]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    for url in ("/api/v1/audit/events", "/api/v1/audit/events/export", "/api/v1/requests", "/api/v1/grants",
                "/api/v1/backups/policies"):
        response = client.get(url, headers=headers)
        assert response.status_code == 403, (url, response.status_code)
        assert response.get_json()["message"] == "安全管理员的职责在门户页面上办理，不在 API 中。"
        response.close()


def test_nobody_changes_his_own_role(login_as, seed, db_session):
    security = login_as("security")
    own = f"/users/{seed.user_ids['security']}/role"
    before = snapshot(db_session)
    refused(security.get(own))
    refused(post(security, own, {"role": "admin", "department_id": 0, "is_active_account": "y"}),
            "任何人都不能更改自己的角色或账号")
    refused(post(security, own, {"role": "security", "department_id": 0, "is_active_account": ""}))
    admin = login_as("admin")
    url = f"/users/{seed.user_ids['admin']}/edit"
    refused(post(admin, url, {"username": "admin1", "full_name": "x", "role": "bureau", "department_id": 0,
                              "is_active_account": "y"}))
    auditor = login_as("auditor")
    refused(post(auditor, f"/users/{seed.user_ids['auditor']}/role", {"role": "admin", "is_active_account": "y"}))
    refused(post(auditor, f"/users/{seed.user_ids['auditor']}/edit", {"role": "admin", "is_active_account": "y"}))
    assert snapshot(db_session)[0] == before[0]  # the accounts (the log has the logins)


def test_the_last_of_each_administrator_role_stays(app, login_as, seed, db_session):
    security = login_as("security")
    before = snapshot(db_session)
    for key in ("auditor", "admin"):
        url = f"/users/{seed.user_ids[key]}/role"
        refused(post(security, url, {"role": "vendor", "department_id": 0, "is_active_account": "y"}, url),
                "是该角色最后一个启用的账号")
        refused(post(security, url, {"role": key, "department_id": 0, "is_active_account": ""}, url),
                "是该角色最后一个启用的账号")
    assert snapshot(db_session) == before
    # with a second auditor the first may go; then the second is the last one
    add_user(db_session, app, "auditor2", "auditor")
    url = f"/users/{seed.user_ids['auditor']}/role"
    response = post(security, url, {"role": "auditor", "department_id": 0, "is_active_account": ""}, url)
    assert response.status_code == 302
    second = db_session.scalars(select(User).where(User.username == "auditor2")).one()
    refused(post(security, f"/users/{second.id}/role", {"role": "bureau", "department_id": 0,
                                                         "is_active_account": "y"}, url))
    # a second security administrator may demote the first, never himself: one always stays
    add_user(db_session, app, "security2", "security")
    client = app.test_client()
    assert login(client, "security2").status_code == 302
    url = f"/users/{seed.user_ids['security']}/role"
    assert post(client, url, {"role": "vendor", "department_id": 0, "is_active_account": "y"}, url).status_code == 302
    refused(post(client, "/users/{}/role".format(db_session.scalars(select(User.id).where(
        User.username == "security2")).one()), {"role": "vendor", "is_active_account": "y"}))
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(User).where(
        User.role == "security", User.is_active_account.is_(True))) == 1


# -- administrators' profiles and passwords: the security administrator's, never the admin's --------

PROFILE_REFUSED = "安全管理员只能编辑系统管理员、安全管理员和审计管理员的账号"


def accounts(db_session):
    """Every account's profile, password and role fields, and the number of change events."""
    db_session.expire_all()
    rows = {u.username: (u.full_name, u.email, u.phone, u.password_hash, u.must_change_password, u.role,
                         u.is_active_account) for u in db_session.scalars(select(User))}
    return rows, snapshot(db_session)[1]


def test_security_edits_an_auditors_profile_audited_with_phone_and_email_masked(login_as, seed, db_session):
    security = login_as("security")
    auditor_id = seed.user_ids["auditor"]
    listing = security.get("/users/").get_data(as_text=True)
    assert f"/users/{auditor_id}/profile" in listing and f"/users/{seed.user_ids['admin']}/profile" in listing
    assert f"/users/{seed.user_ids['security']}/profile" not in listing  # not his own
    assert f"/users/{seed.user_ids['vendor']}/profile" not in listing  # not a business account
    url = f"/users/{auditor_id}/profile"
    page = security.get(url).get_data(as_text=True)
    assert "个人信息与密码" in page and 'name="new_password"' in page and 'name="role"' not in page
    old_hash = db_session.get(User, auditor_id).password_hash
    response = post(security, url, {"full_name": "审计 李", "email": "li.audit@example.gov.cn",
                                    "phone": "13912345678", "new_password": ""}, url)
    assert response.status_code == 302, response.get_data(as_text=True)
    db_session.expire_all()
    auditor = db_session.get(User, auditor_id)
    assert (auditor.full_name, auditor.email, auditor.phone) == ("审计 李", "li.audit@example.gov.cn", "13912345678")
    assert auditor.password_hash == old_hash and auditor.must_change_password is False
    (event,) = events(db_session, "user.update")
    assert event.actor_username == "security1" and event.object_id == str(auditor_id)
    assert event.before["full_name"] == "auditor1" and event.after["full_name"] == "审计 李"
    assert event.after["email"] == "l***@example.gov.cn" and event.after["phone"] == "139****5678"
    assert event.after["password_reset"] is False
    assert "li.audit@" not in str(event.after) and "13912345678" not in str(event.after)


def test_security_resets_an_admins_password_which_ends_his_sessions_and_forces_a_change(app, login_as, seed,
                                                                                       db_session):
    from portal.models.accounts import UserSession
    admin = login_as("admin")
    assert admin.get("/users/").status_code == 200
    security = login_as("security")
    admin_id = seed.user_ids["admin"]
    url = f"/users/{admin_id}/profile"
    weak = post(security, url, {"full_name": "admin1", "new_password": "short"}, url)
    assert weak.status_code == 200 and 'name="new_password"' in weak.get_data(as_text=True)
    assert admin.get("/users/").status_code == 200  # a refused reset changes nothing
    response = post(security, url, {"full_name": "admin1", "email": "", "phone": "",
                                    "new_password": "Reset-by-security-8"}, url)
    assert response.status_code == 302, response.get_data(as_text=True)
    old = admin.get("/users/")
    assert old.status_code == 302 and old.headers["Location"].startswith("/login")  # his session ended
    db_session.expire_all()
    ended = db_session.scalars(select(UserSession).where(UserSession.user_id == admin_id)).all()
    assert ended and all(s.revoked_reason == "password_reset" for s in ended)
    assert db_session.get(User, admin_id).must_change_password is True
    (event,) = events(db_session, "user.update")
    assert event.actor_username == "security1" and event.after["password_reset"] is True
    assert "Reset-by-security-8" not in str(event.after)
    client = app.test_client()
    assert login(client, "admin1").status_code != 302  # the old password is gone
    assert login(client, "admin1", "Reset-by-security-8").status_code == 302
    assert client.get("/users/").headers["Location"] == "/password"  # forced to change it first


def test_security_does_not_edit_business_accounts_or_his_own(login_as, seed, db_session):
    security = login_as("security")
    before = accounts(db_session)
    for key in ("dept_member", "vendor", "bureau"):
        url = f"/users/{seed.user_ids[key]}/profile"
        refused(security.get(url), PROFILE_REFUSED)
        refused(post(security, url, {"full_name": "x", "email": "x@example.org", "phone": "13900000000",
                                     "new_password": "Taken-over-by-sec-1"}), PROFILE_REFUSED)
        refused(post(security, f"/users/{seed.user_ids[key]}/edit",
                     {"username": seed.users[key], "full_name": "x", "role": "vendor", "department_id": 0,
                      "is_active_account": "y", "new_password": "Taken-over-by-sec-1"}))
    own = f"/users/{seed.user_ids['security']}/profile"
    refused(security.get(own), "任何人都不能更改自己的角色或账号")
    refused(post(security, own, {"full_name": "x", "new_password": "Own-reset-by-me-1"}), "任何人都不能更改自己的角色或账号")
    assert accounts(db_session) == before


def test_admin_does_not_edit_or_reset_administrators(login_as, seed, db_session):
    admin, auditor = login_as("admin"), login_as("auditor")
    before = accounts(db_session)
    for key in ("auditor", "security", "admin"):
        refused(admin.get(f"/users/{seed.user_ids[key]}/profile"))
        refused(post(admin, f"/users/{seed.user_ids[key]}/profile",
                     {"full_name": "x", "email": "x@example.org", "new_password": "Taken-over-by-adm-1"}))
        refused(post(admin, f"/users/{seed.user_ids[key]}/edit",
                     {"username": seed.users[key], "full_name": "x", "role": key, "department_id": 0,
                      "is_active_account": "y", "new_password": "Taken-over-by-adm-1"}))
    refused(post(auditor, f"/users/{seed.user_ids['admin']}/profile", {"full_name": "x", "new_password": "Aud-reset-1x"}))
    assert accounts(db_session) == before


def test_nobody_resets_his_own_password_through_an_administrators_reset(app, login_as, seed, db_session):
    from portal.errors import Forbidden
    from portal.extensions import db
    from portal.services import users
    dept_admin = login_as("dept_admin")
    before = accounts(db_session)
    url = f"/users/{seed.user_ids['dept_admin']}/edit"
    response = post(dept_admin, url, {"username": seed.users["dept_admin"], "full_name": "a-admin",
                                      "role": "department", "department_id": seed.dept_a,
                                      "is_department_admin": "y", "is_active_account": "y",
                                      "new_password": "Own-reset-by-me-1"}, url)
    assert response.status_code == 200 and "请在修改密码页面用当前密码修改自己的密码" in response.get_data(as_text=True)
    assert accounts(db_session) == before
    with app.app_context():
        security = db.session.get(User, seed.user_ids["security"])
        with pytest.raises(Forbidden):
            users.update_profile(db.session, RequestInfo(actor=security), security.id, {"full_name": "x"},
                                 new_password="Own-reset-by-me-1", policy=None, passwords=None)
        db.session.rollback()
    assert accounts(db_session) == before


# -- the audit administrator ----------------------------------------------------------------------

def test_auditor_reads_and_exports_the_log_and_changes_nothing(login_as, seed, db_session):
    auditor = login_as("auditor")
    assert auditor.get("/audit/").status_code == 200
    export = auditor.get("/audit/export.csv")
    assert export.status_code == 200 and export.get_data(as_text=True).startswith("\ufeff序号,")  # the page's, in Chinese
    export.close()
    before = snapshot(db_session)
    for url, data in (("/users/new", {**NEW_USER, "username": "x", "role": "auditor"}),
                      (f"/users/{seed.user_ids['vendor']}/role", {"role": "auditor", "is_active_account": "y"}),
                      (f"/users/{seed.user_ids['vendor']}/edit", {"username": "vendor1", "role": "vendor"}),
                      ("/departments/new", {"name": "x", "code": "X"}),
                      (f"/departments/{seed.dept_a}/contacts", {"it_lead_name": "x"})):
        refused(post(auditor, url, data))
    for url in ("/security/policy", "/security/keys", f"/users/{seed.user_ids['vendor']}/role"):
        refused(auditor.get(url))
    after = snapshot(db_session)
    assert after[0] == before[0]


def test_auditor_verifies_the_log_and_the_check_is_audited(login_as, db_session):
    auditor = login_as("auditor")
    page = auditor.get("/audit/verify").get_data(as_text=True)
    assert "立即校验" in page and 'id="verify-report"' not in page and events(db_session, "audit.verify") == []
    intact = auditor.get("/audit/verify?run=1").get_data(as_text=True)
    assert 'id="verify-ok"' in intact and "审计日志完整。" in intact
    (event,) = events(db_session, "audit.verify")
    assert event.actor_username == "auditor1" and event.outcome == "success" and event.after["problems"] == 0
    # a row written beside the chain (INSERT, as any database user could) is found and named
    db_session.execute(AuditEvent.__table__.insert().values(action="auth.login", actor_username="ghost",
                                                            occurred_at=event.occurred_at))
    db_session.commit()
    broken = auditor.get("/audit/verify?run=1").get_data(as_text=True)
    assert 'id="verify-broken"' in broken and "事件不在哈希链中" in broken
    assert events(db_session, "audit.verify")[-1].outcome == "failure"
    for key in ("admin", "security", "bureau", "dept"):
        refused(login_as(key).get("/audit/verify?run=1"))
    assert len(events(db_session, "audit.verify")) == 2


# -- the security administrator's own pages -------------------------------------------------------

def test_security_policy_and_keys_pages(login_as, app):
    security = login_as("security")
    policy = security.get("/security/policy").get_data(as_text=True)
    assert "LOGIN_MAX_FAILURES" in policy and "账号锁定前允许的登录失败次数" in policy
    assert "PASSWORD_MIN_LENGTH" in policy and "SECRET_KEY" not in policy
    keys = security.get("/security/keys").get_data(as_text=True)
    assert "审计摘要签名密钥" in keys
    from portal import audit_chain
    from portal.services.security_policy import fingerprint
    key = audit_chain.load_key(app.config, create=True)
    keys = security.get("/security/keys").get_data(as_text=True)
    assert fingerprint(key) in keys and key.decode() not in keys


def test_the_role_constraint_knows_security_and_nothing_else(app, db_session):
    add_user(db_session, app, "security9", "security")
    db_session.add(User(username="root9", full_name="x", role="root", password_hash="x"))
    with pytest.raises(IntegrityError):
        db_session.commit()
    db_session.rollback()


def test_migration_0011c_downgrade_keeps_a_security_administrator_as_a_disabled_auditor(tmp_path):
    from alembic import command
    from sqlalchemy import create_engine, text

    from portal import migrate
    url = f"sqlite:///{tmp_path / 'm.db'}"
    command.upgrade(migrate.alembic_config(url), "0011c")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO user_account (username, full_name, email, phone, role, is_department_admin, "
                          "password_hash, is_active_account, session_token, failed_login_count, created_at, "
                          "last_login_addr, previous_login_addr, must_change_password) "
                          "VALUES ('s1', 's', '', '', 'security', 0, 'x', 1, 't1', 0, '2026-12-01 00:00:00', "
                          "'', '', 0)"))
    command.downgrade(migrate.alembic_config(url), "0011b")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT role, is_active_account FROM user_account")).one() == ("auditor", 0)
        with pytest.raises(IntegrityError):
            conn.execute(text("UPDATE user_account SET role = 'security'"))
    migrate.upgrade(url)
    engine.dispose()

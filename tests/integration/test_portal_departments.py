"""Departments registry and user management through the web pages: scoping, forms, audit."""
from sqlalchemy import func, select

from portal.models.accounts import Department, User
from portal.models.audit import AuditEvent
from tests.conftest import csrf_token_from

CONTACTS = {"security_officer_name": "钱安全", "security_officer_phone": "0571-8888",
            "it_lead_name": "孙信息", "it_lead_phone": "13811112222", "it_lead_email": "it@x.gov.cn",
            "emergency_contact_name": "李应急", "emergency_contact_phone": "13933334444"}


def post_form(client, url, data):
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def count(db_session, model):
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model))


def test_bureau_registers_a_sub_unit(login_as, seed, db_session):
    bureau = login_as("bureau")
    response = post_form(bureau, "/departments/new", {
        "name": "丙县教育局", "code": "COUNTY-C-EDU", "level": "sub_unit", "parent_id": seed.county,
        **CONTACTS})
    assert response.status_code == 302, response.get_data(as_text=True)
    department = db_session.scalars(select(Department).where(Department.code == "COUNTY-C-EDU")).one()
    assert department.parent_id == seed.county and department.openstack_project_id is None
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "department.create")).one()
    assert event.after["code"] == "COUNTY-C-EDU" and event.actor_role == "bureau"
    detail = bureau.get(response.headers["Location"]).get_data(as_text=True)
    assert "丙县教育局" in detail and "丙县人民政府" in detail and "下属单位" in detail


def test_bad_department_input_shows_the_form_again_in_chinese_and_stores_nothing(login_as, seed, db_session):
    bureau = login_as("bureau")
    before = count(db_session, Department), count(db_session, AuditEvent)
    response = post_form(bureau, "/departments/new", {
        "name": "", "code": "bad code", "level": "sub_unit", "parent_id": 0,
        **{**CONTACTS, "it_lead_phone": "call me", "it_lead_email": "not-an-email"}})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="department-form"' in html
    assert "此项为必填项。" in html
    assert "只能使用大写字母、数字、- 和 _。" in html
    assert "请输入电话号码（数字、+、-）。" in html
    assert "请输入有效的电子邮箱地址。" in html
    assert "is-invalid" in html
    assert (count(db_session, Department), count(db_session, AuditEvent)) == before


def test_business_rule_errors_come_back_on_the_field(login_as, seed, db_session):
    bureau = login_as("bureau")
    before = count(db_session, Department)
    no_parent = post_form(bureau, "/departments/new", {
        "name": "无上级单位", "code": "ORPHAN", "level": "sub_unit", "parent_id": 0, **CONTACTS})
    assert "下属单位必须选择上级部门。" in no_parent.get_data(as_text=True)
    duplicate = post_form(bureau, "/departments/new", {
        "name": "另一个局", "code": "DEPT-A", "level": "city", "parent_id": 0, **CONTACTS})
    assert "该值已被其他部门使用。" in duplicate.get_data(as_text=True)
    assert count(db_session, Department) == before


def test_department_user_edits_its_own_contacts_only(login_as, seed, db_session):
    user = login_as("dept")
    response = post_form(user, f"/departments/{seed.dept_a}/contacts", CONTACTS)
    assert response.status_code == 302
    department = db_session.get(Department, seed.dept_a)
    assert department.it_lead_name == "孙信息"
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "department.contacts_update")).one()
    assert event.before["it_lead_name"] == "李信息" and event.after["it_lead_name"] == "孙信息"
    assert event.department_id == seed.dept_a and event.actor_role == "department"
    assert user.get(f"/departments/{seed.dept_b}/contacts").status_code == 404
    assert user.get(f"/departments/{seed.dept_a}/edit").status_code == 403


def test_department_lists_are_scoped(login_as, seed):
    user = login_as("dept")
    html = user.get("/departments/").get_data(as_text=True)
    assert "甲局" in html and "乙局" not in html
    bureau_html = login_as("bureau").get("/departments/?level=city").get_data(as_text=True)
    assert "甲局" in bureau_html and "乙局" in bureau_html and "丙县人民政府" not in bureau_html


def test_audit_log_is_scoped_for_departments(login_as, seed):
    login_as("dept_b")  # b's login is an event of department B
    html = login_as("dept").get("/audit/").get_data(as_text=True)
    assert "a-user" in html and "b-user" not in html
    assert "b-user" in login_as("auditor").get("/audit/").get_data(as_text=True)


def test_pagination(app, login_as, seed, db_session):
    for i in range(25):
        db_session.add(Department(name=f"分页测试局{i:02}", code=f"PAGE-{i:02}", level="city"))
    db_session.commit()
    bureau = login_as("bureau")
    first = bureau.get("/departments/?q=PAGE-").get_data(as_text=True)
    assert "PAGE-00" in first and "PAGE-19" in first and "PAGE-20" not in first
    assert "第 1 页，共 2 页" in first and "共 25 条" in first
    second = bureau.get("/departments/?q=PAGE-&page=2").get_data(as_text=True)
    assert "PAGE-20" in second and "PAGE-24" in second and "PAGE-00" not in second


def test_department_admin_manages_only_its_members(login_as, seed, db_session):
    admin = login_as("dept_admin")
    users_page = admin.get("/users/").get_data(as_text=True)
    assert "a-member" in users_page and "b-user" not in users_page and "bureau1" not in users_page
    # the admin role and another department are not even choices
    forged = post_form(admin, "/users/new", {
        "username": "a-new", "full_name": "新同事", "role": "admin", "department_id": seed.dept_b,
        "password": "Welcome-2024-ok", "is_active_account": "y"})
    assert forged.get_data(as_text=True).count("不是有效的选择。") == 2
    assert db_session.scalars(select(User).where(User.username == "a-new")).one_or_none() is None
    response = post_form(admin, "/users/new", {
        "username": "a-new", "full_name": "新同事", "role": "department", "department_id": seed.dept_a,
        "is_department_admin": "y", "password": "Welcome-2024-ok", "is_active_account": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    user = db_session.scalars(select(User).where(User.username == "a-new")).one()
    assert user.role == "department" and user.department_id == seed.dept_a and user.is_department_admin
    assert admin.get(f"/users/{seed.user_ids['dept_b']}/edit").status_code == 404


def test_bad_user_input_is_refused_in_chinese(login_as, seed, db_session):
    admin = login_as("admin")
    before = count(db_session, User)
    response = post_form(admin, "/users/new", {
        "username": "Bad Name", "full_name": "", "role": "department", "department_id": 0,
        "password": "short"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="user-form"' in html
    assert "只能使用小写字母、数字、.、- 和 _。" in html and "此项为必填项。" in html
    weak = post_form(admin, "/users/new", {
        "username": "okname", "full_name": "好名字", "role": "bureau", "department_id": 0,
        "password": "alllettersnodigits"})
    assert "密码必须同时包含字母和数字。" in weak.get_data(as_text=True)
    no_department = post_form(admin, "/users/new", {
        "username": "okname", "full_name": "好名字", "role": "department", "department_id": 0,
        "password": "Good-password-1"})
    assert "使用部门(单位)用户必须属于一个部门。" in no_department.get_data(as_text=True)
    taken = post_form(admin, "/users/new", {
        "username": "a-user", "full_name": "重名", "role": "bureau", "department_id": 0,
        "password": "Good-password-1"})
    assert "该用户名已被使用。" in taken.get_data(as_text=True)
    assert count(db_session, User) == before


def test_admin_creates_users_of_the_business_roles(login_as, seed, db_session):
    """The system administrator creates bureau and vendor accounts; the three administrator roles are
    the security administrator's to grant (test_separation_of_duties.py)."""
    admin = login_as("admin")
    for role in ("bureau", "vendor"):
        response = post_form(admin, "/users/new", {
            "username": f"new-{role}", "full_name": role, "role": role, "department_id": seed.dept_a,
            "is_department_admin": "y", "password": "Good-password-1", "is_active_account": "y"})
        assert response.status_code == 302
        user = db_session.scalars(select(User).where(User.username == f"new-{role}")).one()
        assert user.department_id is None and not user.is_department_admin
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "user.create")) == 2


def test_admin_cannot_demote_itself(login_as, seed, db_session):
    admin = login_as("admin")
    url = f"/users/{seed.user_ids['admin']}/edit"
    response = post_form(admin, url, {"username": "admin1", "full_name": "x", "role": "bureau",
                                      "department_id": 0, "is_active_account": "y"})
    assert response.status_code == 403
    assert "只有安全管理员可以授予或撤销系统管理员" in response.get_data(as_text=True)
    assert db_session.get(User, seed.user_ids["admin"]).role == "admin"


def test_department_admin_cannot_demote_itself(login_as, seed, db_session):
    admin = login_as("dept_admin")
    url = f"/users/{seed.user_ids['dept_admin']}/edit"
    response = post_form(admin, url, {"username": "a-admin", "full_name": "x", "role": "department",
                                      "department_id": seed.dept_a, "is_active_account": "y"})
    assert "不能更改自己的角色或停用自己的账号。" in response.get_data(as_text=True)
    assert db_session.get(User, seed.user_ids["dept_admin"]).is_department_admin


def test_english_is_selectable_and_sticks(login_as):
    client = login_as("bureau")
    assert "市大数据管理局工作台" in client.get("/").get_data(as_text=True)
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    response = client.post("/language", data={"csrf_token": token, "lang": "en", "next": "/departments/"})
    assert response.headers["Location"] == "/departments/"
    html = client.get("/").get_data(as_text=True)
    assert "Big-data bureau workspace" in html and '<html lang="en">' in html

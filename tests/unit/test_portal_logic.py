"""Pure logic of the portal: password rules, redirects, paging, scoping SQL, labels, policy."""
import pytest
from sqlalchemy.dialects import sqlite

from portal.auth.views import safe_next
from portal.errors import ValidationFailed
from portal.labels import ACTION_LABELS, LEVEL_LABELS, ROLE_LABELS
from portal.models.accounts import Department, DepartmentLevel, Role, User
from portal.pagination import Page
from portal.passwords import Passwords
from portal.scoping import scoped
from portal.services.accounts import LoginPolicy, check_password_strength


@pytest.mark.parametrize("password,ok", [
    ("short1", False), ("onlyletterslong", False), ("1234567890123", False),
    ("Good-password-1", True), ("has-alice-1234", False)])
def test_password_strength(password, ok):
    if ok:
        check_password_strength(password, LoginPolicy(), "alice")
    else:
        with pytest.raises(ValidationFailed):
            check_password_strength(password, LoginPolicy(), "alice")


def test_argon2_hash_and_verify():
    hasher = Passwords(1, 8, 1)
    hashed = hasher.hash("Good-password-1")
    assert hashed.startswith("$argon2id$")
    assert hasher.verify(hashed, "Good-password-1")
    assert not hasher.verify(hashed, "wrong")
    assert not hasher.verify("garbage", "wrong")
    assert not hasher.verify_dummy("anything")


@pytest.mark.parametrize("target,expected", [
    ("/departments/", "/departments/"), ("/a?b=1", "/a?b=1"), ("https://evil.example/", None),
    ("//evil.example/", None), ("javascript:alert(1)", None), ("", None), (None, None)])
def test_safe_next(target, expected):
    assert safe_next(target) == expected


def test_page_properties():
    page = Page(items=[], page=2, per_page=20, total=45)
    assert page.pages == 3 and page.has_prev and page.has_next
    assert Page(items=[], page=1, per_page=20, total=0).pages == 1


class _FakeUser:
    is_authenticated = True

    def __init__(self, role, department_id=None):
        self.role, self.department_id = role, department_id


def _sql(stmt):
    return str(stmt.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))


def test_scoped_filters_department_users_on_the_scope_column():
    assert "department.id = 7" in _sql(scoped(Department, _FakeUser(Role.DEPARTMENT, 7)))
    assert "user_account.department_id = 7" in _sql(scoped(User, _FakeUser(Role.DEPARTMENT, 7)))
    for role in (Role.BUREAU, Role.VENDOR, Role.AUDITOR, Role.ADMIN):
        assert "WHERE" not in _sql(scoped(Department, _FakeUser(role)))
    assert "WHERE false" in _sql(scoped(Department, None)) or "WHERE 0 = 1" in _sql(scoped(Department, None))


def test_every_role_and_level_has_a_label():
    assert set(ROLE_LABELS) == set(Role) and set(LEVEL_LABELS) == set(DepartmentLevel)


def test_every_audited_action_has_a_label():
    import pathlib
    import re
    root = pathlib.Path(__file__).resolve().parents[2] / "portal"
    actions = set()
    for path in root.rglob("*.py"):
        actions |= set(re.findall(r'record_event\([^"]*"([a-z_]+\.[a-z_]+)"', path.read_text(), re.S))
    assert actions and actions <= set(ACTION_LABELS), actions - set(ACTION_LABELS)

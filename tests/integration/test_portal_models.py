"""Models and migrations agree, constraints hold, services scope and audit, the CLI works."""
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import migrate
from portal.errors import NotFound
from portal.models.accounts import Department, User
from portal.models.audit import AuditEvent
from portal.passwords import Passwords
from portal.scoping import get_scoped, scoped
from portal.services import users
from portal.services.accounts import LoginPolicy
from portal.services.audit import RequestInfo, record_event


def test_models_and_migrations_agree(app):
    engine = app.extensions["govcloud_db"][0]
    assert migrate.current_revision(engine) is not None
    assert migrate.pending_differences(engine) == []


def test_a_model_change_without_migration_is_detected(app):
    """The agreement check is not vacuous: an extra column shows up as a difference."""
    from sqlalchemy import Column, MetaData, String, Table
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from portal.database import Base

    metadata = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(metadata)
    Table("department", metadata, Column("extra_field", String(10)), extend_existing=True)
    with app.extensions["govcloud_db"][0].connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d[0] for d in diffs] == ["add_column"]


def test_constraints_hold(db_session, seed):
    db_session.add(User(username="orphan", role="department", department_id=None, password_hash="x"))
    with pytest.raises(IntegrityError):
        db_session.commit()
    db_session.rollback()
    db_session.add(User(username="wrongflag", role="bureau", is_department_admin=True, password_hash="x"))
    with pytest.raises(IntegrityError):
        db_session.commit()
    db_session.rollback()
    db_session.add(Department(name="无上级", code="NOPARENT", level="sub_unit"))
    with pytest.raises(IntegrityError):
        db_session.commit()
    db_session.rollback()
    db_session.add(Department(name="错级别", code="BADLEVEL", level="province"))
    with pytest.raises(IntegrityError):
        db_session.commit()
    db_session.rollback()


def test_scoped_restricts_department_users_only(db_session, seed):
    dept_user = db_session.get(User, seed.user_ids["dept"])
    bureau = db_session.get(User, seed.user_ids["bureau"])
    assert {d.id for d in db_session.scalars(scoped(Department, dept_user))} == {seed.dept_a}
    assert {u.department_id for u in db_session.scalars(scoped(User, dept_user))} == {seed.dept_a}
    assert len(db_session.scalars(scoped(Department, bureau)).all()) == 3
    assert db_session.scalars(scoped(Department, None)).all() == []
    with pytest.raises(NotFound):
        get_scoped(db_session, Department, seed.dept_b, dept_user)
    assert get_scoped(db_session, Department, seed.dept_b, bureau).id == seed.dept_b


def test_service_keeps_department_admins_in_their_department(db_session, seed):
    """Even called with forged values the service creates a department user of the admin's department."""
    admin = db_session.get(User, seed.user_ids["dept_admin"])
    ctx = RequestInfo(actor=_Authenticated(admin), correlation_id="t")
    user = users.create_user(db_session, ctx, {"username": "forged", "role": "admin",
                                               "department_id": seed.dept_b}, "Good-password-1",
                             policy=LoginPolicy(), passwords=Passwords(1, 8, 1))
    assert user.role == "department" and user.department_id == seed.dept_a


def test_record_event_keeps_every_field(db_session, seed):
    actor = db_session.get(User, seed.user_ids["bureau"])
    ctx = RequestInfo(actor=_Authenticated(actor), correlation_id="req-1", remote_addr="10.0.0.1")
    record_event(db_session, ctx, "department.update", object_type="department", object_id=seed.dept_a,
                 department_id=seed.dept_a, before={"name": "旧"}, after={"name": "新"})
    db_session.commit()
    event = db_session.scalars(select(AuditEvent)).one()
    assert (event.actor_username, event.actor_role, event.request_id, event.remote_addr) == \
        ("bureau1", "bureau", "req-1", "10.0.0.1")
    assert event.before == {"name": "旧"} and event.after == {"name": "新"} and event.object_id == str(seed.dept_a)
    assert event.occurred_at.tzinfo is not None and event.outcome == "success"


def test_cli_upgrade_create_admin_and_load_demo_twice(app, tmp_path, db_session, monkeypatch):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["db", "check"]).exit_code == 0
    result = runner.invoke(args=["create-admin", "--username", "root-admin"])
    assert result.exit_code == 0 and "password (shown once): " in result.output
    result = runner.invoke(args=["create-user", "--username", "cli-dept", "--role", "department",
                                 "--department", "DEPT-A"])
    assert result.exit_code == 0, result.output
    # the first security and audit administrators (三权分立) come from the command line too
    for role in ("security", "auditor"):
        result = runner.invoke(args=["create-user", "--username", f"first-{role}", "--role", role])
        assert result.exit_code == 0 and f"created {role} user first-{role}" in result.output, result.output
    assert {u.username: u.role for u in db_session.scalars(select(User).where(User.username.like("first-%")))} \
        == {"first-security": "security", "first-auditor": "auditor"}
    logins = tmp_path / "logins.txt"
    first = runner.invoke(args=["load-demo", "--credentials-file", str(logins)])
    assert first.exit_code == 0, first.output
    assert first.output.count("demo login (shown once") == 9
    second = runner.invoke(args=["load-demo", "--credentials-file", str(logins)])
    assert second.exit_code == 0 and "already loaded" in second.output
    assert len(logins.read_text().splitlines()) == 9
    roles = {u.role for u in db_session.scalars(select(User).where(User.username.in_(
        ["edu-admin", "edu-user", "psb-user", "bureau", "vendor", "expert", "auditor", "admin", "security"])))}
    assert roles == {"department", "bureau", "vendor", "expert", "auditor", "admin", "security"}
    from portal.models.projects import Project
    demo = db_session.scalars(select(Project).where(Project.number == "XM-DEMO-0001")).one()
    assert (demo.state, demo.department.code) == ("design_approved", "EDU")  # its systems may request resources
    assert db_session.scalars(select(Department).where(Department.code == "QX-WJ")).one().parent.code == "QX"
    # the printed demo password logs in
    username, password = logins.read_text().splitlines()[0].split()
    client = app.test_client()
    from tests.conftest import login
    assert login(client, username, password).status_code == 302


class _Authenticated:
    """Wrap a user so it looks logged in (as current_user does in a request)."""

    is_authenticated = True

    def __init__(self, user):
        self._user = user

    def __getattr__(self, name):
        return getattr(self._user, name)

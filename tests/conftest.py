"""Fixtures of the portal tests: app (on SQLite and on PostgreSQL), client, seeded users, login_as."""
import copy
import os
import re
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

BACKENDS = ["sqlite", "postgresql"]
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/govcloud_test"
PASSWORD = "Test-password-2024"
# argon2 at its cheapest: the tests hash many passwords; production keeps the defaults.
CHEAP_HASH = {"PASSWORD_HASH_TIME_COST": 1, "PASSWORD_HASH_MEMORY_KIB": 8, "PASSWORD_HASH_PARALLELISM": 1}
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                     r'type="hidden" name="csrf_token" value="([^"]+)"|'
                     r'name="csrf_token" value="([^"]+)"')


def pg_url():
    return os.environ.get("GOVCLOUD_TEST_PG_URL") or DEFAULT_PG_URL


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def ensure_pg_database(url):
    """Create the test database when absent and a schema of this run in it; return the run's URL.

    Each run gets its own schema (search_path), so runs on one machine do not disturb each other;
    schemas of runs whose process is gone are dropped. A PostgreSQL that does not answer fails.
    """
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                  {"n": parsed.database}).scalar()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        admin.dispose()
    schema = f"run_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    engine = create_engine(parsed, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for (name,) in conn.execute(text("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'run\\_%'")):
            pid = name.split("_")[1]
            if pid.isdigit() and not _pid_alive(int(pid)):
                conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    # application_name marks this run's connections, so teardown can find the ones left open
    run_url = parsed.update_query_dict({"options": f"-csearch_path={schema}",
                                        "application_name": schema})
    return run_url.render_as_string(hide_password=False), schema


def drop_pg_schema(url, schema):
    """Drop the run's schema; first end the run's connections still open (they would block it)."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        leaked = conn.execute(text(
            "SELECT pid, state, left(query, 160) FROM pg_stat_activity "
            "WHERE application_name = :name AND pid <> pg_backend_pid()"), {"name": schema}).all()
        for pid, state, query in leaked:
            sys.stderr.write(f"\nconnection left open by a test ({state}): {query}\n")
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def database_url_for(backend, tmp_path_factory):
    """Return (url, cleanup) for a fresh, empty database of backend."""
    if backend == "sqlite":
        return "sqlite:///" + str(tmp_path_factory.mktemp("sqlite") / "govcloud-test.db"), lambda: None
    url, schema = ensure_pg_database(pg_url())
    return url, lambda: drop_pg_schema(pg_url(), schema)


def make_test_app(database_url, instance_path, **overrides):
    from portal import create_app
    # the seeded users log in with the password alone; tests of the second factor turn it on;
    # /metrics renders at each scrape (test_metrics_cache.py turns the cache on)
    config = {"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
              "TOTP_REQUIRED_ROLES": [], "METRICS_RENDER_SECONDS": 0, **CHEAP_HASH,
              # the request tests make systems without projects; tests/integration/test_projects_flow.py
              # turns the gate of 附件1 第七条(七) on (production: on by default)
              "PROJECT_GATE": False}
    config.update(overrides)
    os.environ["GOVCLOUD_INSTANCE_PATH"] = str(instance_path)
    try:
        return create_app(config)
    finally:
        del os.environ["GOVCLOUD_INSTANCE_PATH"]


def single_backend_app(backend, tmp_path_factory):
    """Yield a migrated app on one backend (for a module whose cloud tests are too slow to run twice)."""
    from portal import migrate
    url, drop = database_url_for(backend, tmp_path_factory)
    app = make_test_app(url, tmp_path_factory.mktemp("instance"))
    migrate.upgrade(app.config["DATABASE_URL"])
    app.backend = backend
    yield app
    app.extensions["govcloud_db"][0].dispose()
    drop()


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_app(request, tmp_path_factory):
    """An app whose database (SQLite file or PostgreSQL) is migrated to the newest revision."""
    from portal import migrate
    url, cleanup = database_url_for(request.param, tmp_path_factory)
    app = make_test_app(url, tmp_path_factory.mktemp("instance"))
    migrate.upgrade(app.config["DATABASE_URL"])
    app.backend = request.param
    yield app
    app.extensions["govcloud_db"][0].dispose()
    cleanup()


@dataclass
class Seed:
    """Ids and usernames of the seeded rows."""

    dept_a: int = 0
    dept_b: int = 0
    county: int = 0
    users: dict = field(default_factory=dict)  # key -> username
    user_ids: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)  # URL argument -> (id in dept_a, id in dept_b)


# key -> (username, role, department key, department admin)
SEED_USERS = {
    "dept": ("a-user", "department", "dept_a", False),
    "dept_member": ("a-member", "department", "dept_a", False),
    "dept_admin": ("a-admin", "department", "dept_a", True),
    "dept_b": ("b-user", "department", "dept_b", False),
    "dept_b_admin": ("b-admin", "department", "dept_b", True),
    "bureau": ("bureau1", "bureau", None, False),
    "vendor": ("vendor1", "vendor", None, False),
    "auditor": ("auditor1", "auditor", None, False),
    "admin": ("admin1", "admin", None, False),
    "security": ("security1", "security", None, False),
    "expert": ("expert1", "expert", None, False),
}


@contextmanager
def audit_guard_suspended(session):
    """Switch the audit log's refusing triggers off in session's transaction, as only someone with
    the database superuser's rights can (PostgreSQL: replica mode; SQLite: the triggers dropped and
    re-created): the tests' reset, and intruders whose rewrites verification must still name."""
    from portal import audit_guard
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        try:
            yield
            session.flush()
        finally:
            conn.execute(text("SET LOCAL session_replication_role = DEFAULT"))
    else:
        audit_guard.drop_triggers(conn)
        try:
            yield
            session.flush()
        finally:
            audit_guard.install_triggers(conn)


# Seeding takes ~0.17 s; thousands of tests each start from the seed (test_portal_access alone ~8,800).
# So the seeded rows and files are kept after seeding and put back as they were, until the copy is
# older than this: the seeded times (due dates, "updated at") then stay within seconds of now.
SEED_SNAPSHOT_SECONDS = 20


@dataclass
class SeedSnapshot:
    taken: float
    seed: "Seed"
    rows: dict  # table name -> PostgreSQL COPY text, or SQLite (columns, rows)
    files: dict  # path -> bytes written by the seed
    sealed_with: tuple  # _sealing_key() when it was taken


def reset_and_seed(app):
    """Empty every table and add two departments, a county and one user per role (and what the
    *_seed modules add): from the snapshot of the last seeding while it is fresh, else afresh."""
    snapshot = getattr(app, "seed_snapshot", None)
    if (snapshot is not None and time.monotonic() - snapshot.taken < SEED_SNAPSHOT_SECONDS
            and snapshot.sealed_with == _sealing_key()):
        _restore_snapshot(app, snapshot)
        return copy.deepcopy(snapshot.seed)
    before = _upload_files(app)
    seed = _seed_afresh(app)
    files = {path: _read(path) for path, mtime in _upload_files(app).items() if before.get(path) != mtime}
    app.seed_snapshot = SeedSnapshot(time.monotonic(), copy.deepcopy(seed), _table_rows(app), files, _sealing_key())
    return seed


def _sealing_key():
    """The key the process seals with now: a snapshot sealed with another (a test rotated the ring or
    configured another app's) would hold values the process cannot read or did not expect."""
    from portal.crypto import keyring
    ring = keyring.current(required=False)
    return (keyring.configured_suite().name, ring.active_id if ring else None, id(ring))


def _read(path):
    with open(path, "rb") as fh:
        return fh.read()


def _upload_files(app):
    found = {}
    for folder, _, names in os.walk(os.path.join(app.instance_path, "uploads")):
        for name in names:
            path = os.path.join(folder, name)
            found[path] = os.stat(path).st_mtime_ns
    return found


def _empty_tables(session):
    """Delete every row (inside audit_guard_suspended: the audit tables refuse DELETE otherwise)."""
    from portal.database import Base
    for table in reversed(Base.metadata.sorted_tables):
        if table.name == "department":  # sub-units before their parents
            session.execute(table.delete().where(table.c.parent_id.is_not(None)))
        if table.name == "resource_request":  # changes and decommissions before their system (RESTRICT)
            session.execute(table.delete().where(table.c.system_id.is_not(None)))
        session.execute(table.delete())


def _table_rows(app):
    """Every table's rows as the database holds them (no type conversions, sealed columns stay sealed)."""
    from portal.database import Base
    from portal.extensions import db
    rows = {}
    with app.app_context():
        conn = db.session.connection()
        for table in Base.metadata.sorted_tables:
            if conn.dialect.name == "postgresql":
                with conn.connection.driver_connection.cursor() as cursor:
                    with cursor.copy(f'COPY "{table.name}" TO STDOUT') as out:
                        data = b"".join(bytes(block) for block in out)
                if data:
                    rows[table.name] = data
            else:
                result = conn.exec_driver_sql(f'SELECT * FROM "{table.name}" ORDER BY rowid')
                found = [tuple(row) for row in result]
                if found:
                    rows[table.name] = (list(result.keys()), found)
        db.session.rollback()
    return rows


def _restore_snapshot(app, snapshot):
    from portal.database import Base
    from portal.extensions import db
    with app.app_context():
        session = db.session
        with audit_guard_suspended(session):  # no trigger refuses the deletes or rewrites a restored row
            _empty_tables(session)
            conn = session.connection()
            for table in Base.metadata.sorted_tables:
                data = snapshot.rows.get(table.name)
                if data is None:
                    continue
                if conn.dialect.name == "postgresql":
                    with conn.connection.driver_connection.cursor() as cursor:
                        with cursor.copy(f'COPY "{table.name}" FROM STDIN') as into:
                            into.write(data)
                else:
                    columns, found = data
                    names = ", ".join(f'"{c}"' for c in columns)
                    marks = ", ".join("?" * len(columns))
                    conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', found)
        session.commit()
    for path, content in snapshot.files.items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(content)


def _seed_afresh(app):
    from portal.extensions import db
    from portal.models.accounts import Department, User

    with app.app_context():
        session = db.session
        with audit_guard_suspended(session):
            _empty_tables(session)
        session.commit()
        hasher = app.extensions["govcloud_passwords"]
        password_hash = hasher.hash(PASSWORD)
        contacts = dict(security_officer_name="王安全", security_officer_phone="0571-1",
                        it_lead_name="李信息", it_lead_phone="138", emergency_contact_name="赵应急",
                        emergency_contact_phone="139")
        a = Department(name="甲局", code="DEPT-A", level="city", **contacts)
        b = Department(name="乙局", code="DEPT-B", level="city", **contacts)
        county = Department(name="丙县人民政府", code="COUNTY-C", level="county", **contacts)
        session.add_all([a, b, county])
        session.flush()
        seed = Seed(dept_a=a.id, dept_b=b.id, county=county.id)
        ids = {"dept_a": a.id, "dept_b": b.id}
        for key, (username, role, dept, is_admin) in SEED_USERS.items():
            user = User(username=username, full_name=username, role=role,
                        department_id=ids.get(dept), is_department_admin=is_admin,
                        password_hash=password_hash)
            session.add(user)
            session.flush()
            seed.users[key] = username
            seed.user_ids[key] = user.id
        session.commit()
        from tests.requests_seed import seed_requests
        seed.extra.update(seed_requests(session, seed, app.instance_path))
        from tests.monitoring_seed import seed_monitoring
        seed.extra.update(seed_monitoring(session, seed))
        from tests.billing_seed import seed_billing
        seed.extra.update(seed_billing(session, seed))
        from tests.grants_seed import seed_grants
        seed.extra.update(seed_grants(session, seed))
        from tests.backups_seed import seed_backups
        seed.extra.update(seed_backups(session, seed))
        from tests.inventory_seed import seed_inventory
        seed.extra.update(seed_inventory(session, seed))
        from tests.duties_seed import seed_duties
        seed.extra.update(seed_duties(session, seed, app.instance_path))
        from tests.evaluation_seed import seed_evaluation
        seed.extra.update(seed_evaluation(session, seed))
        from tests.contacts_seed import seed_contacts
        seed.extra.update(seed_contacts(session, seed, app.instance_path))
        from tests.projects_seed import seed_projects
        seed.extra.update(seed_projects(session, seed, app.instance_path))
    return seed


@pytest.fixture
def app(migrated_app):
    """The migrated app with freshly seeded data (runs once per backend)."""
    from portal.audit_hooks import DenialLimiter
    migrated_app.seed = reset_and_seed(migrated_app)
    # the denials counted by earlier tests are of users whose ids the reset gives out again
    migrated_app.extensions["govcloud_audit_denials"] = DenialLimiter(
        migrated_app.config["AUDIT_DENIAL_INTERVAL_SECONDS"])
    migrated_app.config.update(WTF_CSRF_ENABLED=True, LOGIN_RATE_LIMIT=30, LOGIN_MAX_FAILURES=5)
    return migrated_app


@pytest.fixture
def seed(app):
    return app.seed


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token_from(html):
    match = CSRF_RE.search(html)
    assert match, "no csrf_token in page"
    return next(g for g in match.groups() if g)


def login(client, username, password=PASSWORD):
    """Log in through the real form (with its CSRF token); return the response."""
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


@pytest.fixture
def login_as(app, seed):
    """login_as(key) -> a test client logged in as the seeded user under key (see SEED_USERS)."""
    def _login_as(key):
        client = app.test_client()
        response = login(client, seed.users[key])
        assert response.status_code == 302, response.get_data(as_text=True)
        return client
    return _login_as


@pytest.fixture
def db_session(app):
    """A session of its own on the app's database (no app context kept pushed between requests)."""
    from sqlalchemy.orm import Session
    with Session(app.extensions["govcloud_db"][0], expire_on_commit=False) as session:
        yield session


# The longest files, started first so that `pytest -n N --dist loadfile` (make test) ends them
# alongside the rest instead of after it; measured with --durations, longest first.
SLOW_FILES = ("test_scheduler_ha.py", "test_provisioner_crash.py", "test_api_schema.py", "test_provisioner_workers.py",
              "test_provisioner_faults.py", "test_requests_cloud_flow.py", "test_devcloud.py",
              "test_backup_engine.py", "test_backup_restore.py", "test_provisioner_operations.py",
              "test_billing_devcloud.py", "test_backup_extraction_devcloud.py", "test_inventory_devcloud.py",
              "test_container_image.py", "test_projects_flow.py", "test_drills_devcloud.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(SLOW_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOW_FILES)))  # stable: keeps the rest's order

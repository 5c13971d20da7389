"""Alembic, driven from code: the migrations live in portal/migrations."""
import os

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from .database import Base, make_engine

MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")


def alembic_config(url):
    """Return an Alembic Config for the database at url."""
    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


MIGRATION_LOCK = int.from_bytes(b"govcloud", "big")  # a PostgreSQL advisory lock of the migrations


def upgrade(url, revision="head"):
    """Bring the database at url to revision. On PostgreSQL under an advisory lock: portals started
    together (Compose, a Kubernetes rollout) migrate one after the other, the later ones find it done."""
    cfg = alembic_config(url)
    engine = make_engine(url)
    try:
        if engine.dialect.name != "postgresql":
            engine.dispose()
            command.upgrade(cfg, revision)
            return
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            conn.commit()  # the lock is the session's: it outlives the transaction
            try:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                conn.commit()
            finally:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
                conn.commit()
    finally:
        engine.dispose()


def upgrade_as_owner(runtime_url, owner_url=None, revision="head"):
    """Migrate as the owner (owner_url; without it runtime_url), then grant the runtime role what
    it needs and, on the audit tables, no more than SELECT and INSERT (see grant_runtime)."""
    upgrade(owner_url or runtime_url, revision)
    return grant_runtime(runtime_url, owner_url) if owner_url else False


def grant_runtime(runtime_url, owner_url):
    """Connect as the owner and (re)grant the runtime role of runtime_url; idempotent. Returns
    False where there is nothing to grant (SQLite, or both URLs naming one role)."""
    from sqlalchemy.engine import make_url

    from . import audit_guard
    from .database import make_engine, normalize_url
    runtime_role = make_url(normalize_url(runtime_url)).username
    owner = make_url(normalize_url(owner_url))
    if owner.get_backend_name() != "postgresql" or not runtime_role or runtime_role == owner.username:
        return False
    engine = make_engine(owner_url)
    try:
        with engine.begin() as conn:
            return audit_guard.grant_runtime(conn, runtime_role)
    finally:
        engine.dispose()


def pending_differences(engine):
    """Return the differences between the models and the migrated database (empty: in sync)."""
    import portal.models  # noqa: F401  (registers the tables)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return compare_metadata(ctx, Base.metadata)


def head_revision():
    """Return the newest revision of portal/migrations."""
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def current_revision(engine):
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()

"""Alembic, driven from code: the migrations live in portal/migrations."""
import os

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from .database import Base

MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")


def alembic_config(url):
    """Return an Alembic Config for the database at url."""
    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url, revision="head"):
    """Bring the database at url to revision."""
    command.upgrade(alembic_config(url), revision)


def pending_differences(engine):
    """Return the differences between the models and the migrated database (empty: in sync)."""
    import portal.models  # noqa: F401  (registers the tables)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return compare_metadata(ctx, Base.metadata)


def current_revision(engine):
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()

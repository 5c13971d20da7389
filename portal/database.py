"""Database engine, session and declarative base (plain SQLAlchemy 2.x, no Flask needed)."""
from datetime import datetime, timezone

from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import DeclarativeBase, scoped_session, sessionmaker
from sqlalchemy.types import TypeDecorator

from .audit_guard import register_sqlite_function
from .errors import ConfigError

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SUPPORTED_DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg",
                     "postgresql+psycopg": "postgresql+psycopg"}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use utcnow()")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def utcnow():
    """Return the current time, aware, in UTC."""
    return datetime.now(timezone.utc)


def normalize_url(url):
    """Check a database URL and return it with the supported driver spelled out."""
    if not url or not isinstance(url, str):
        raise ConfigError("DATABASE_URL", "is empty; set GOVCLOUD_DATABASE_URL")
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError("DATABASE_URL", f"is malformed ({exc})") from None
    driver = SUPPORTED_DRIVERS.get(parsed.drivername)
    if driver is None:
        raise ConfigError(
            "DATABASE_URL",
            f"backend {parsed.drivername!r} is not supported; use sqlite:/// or postgresql+psycopg://")
    if driver.startswith("postgresql") and not parsed.database:
        raise ConfigError("DATABASE_URL", "names no database")
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def make_engine(url, echo=False):
    """Create an engine; SQLite gets foreign keys switched on and the audit purge switch."""
    url = normalize_url(url)
    kwargs = {"echo": echo, "future": True}
    if url.startswith("postgresql"):
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
            register_sqlite_function(dbapi_connection, _record)
    return engine


def make_session_factory(engine):
    """Return a thread-scoped session registry bound to engine."""
    return scoped_session(sessionmaker(bind=engine, expire_on_commit=False))

"""What the scheduler's jobs run with: the portal's settings and a database session factory."""
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import sessionmaker

from portal.database import make_engine


@dataclass
class Runtime:
    settings: dict
    engine: object
    sessions: sessionmaker


_runtime = None


def configure(settings, engine=None):
    """Set the runtime of this process from the portal's settings (a mapping like app.config)."""
    global _runtime
    engine = engine or make_engine(settings["DATABASE_URL"])
    _runtime = Runtime(settings=dict(settings), engine=engine,
                       sessions=sessionmaker(bind=engine, expire_on_commit=False))
    return _runtime


def configure_from_portal():
    """Load the portal's configuration (defaults, TOML, GOVCLOUD_* variables) and configure."""
    from portal.app import create_app
    app = create_app()
    return configure(app.config, app.extensions["govcloud_db"][0])


def current():
    if _runtime is None:
        raise RuntimeError("monitoring.runtime.configure() was not called in this process")
    return _runtime


@contextmanager
def session_scope():
    """A session of the configured database, closed at the end."""
    session = current().sessions()
    try:
        yield session
    finally:
        session.close()

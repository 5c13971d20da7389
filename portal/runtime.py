"""What every govcloud process runs with: its settings, one database engine, one Cloud.

The web app (create_app), the provisioning worker and the scheduler each build one Runtime at
start-up; none of them needs the others' framework (the worker and the scheduler import no Flask).
"""
import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from provisioner.cloud import Cloud

from .crypto import keyring
from .database import make_engine
from .errors import ConfigError
from .services import crypto_keys
from .settings import is_production, load_settings, require_clouds_yaml

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: dict
    engine: object
    sessions: sessionmaker
    _cloud: Cloud | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def name_prefix(self):
        return self.settings["CLOUD_NAME_PREFIX"]

    def cloud(self):
        """The process's one Cloud (connections are made on first use)."""
        with self._lock:
            if self._cloud is None:
                self._cloud = Cloud.from_config(self.settings)
            return self._cloud

    @contextmanager
    def session(self):
        """A session of the database, closed at the end."""
        session = self.sessions()
        try:
            yield session
        finally:
            session.close()

    def close_cloud(self):
        with self._lock:
            if self._cloud is not None:
                self._cloud.close()
                self._cloud = None

    def close(self):
        self.close_cloud()
        self.engine.dispose()


def build(settings=None, *, engine=None, needs_cloud=False):
    """Return a Runtime of settings (loaded when None); needs_cloud: a process that works on the
    cloud stops at start-up in production when its clouds.yaml is not named or missing."""
    settings = load_settings() if settings is None else settings
    if needs_cloud and is_production(settings):
        require_clouds_yaml(settings)
    try:  # sealed fields and signatures of every process use this ring
        keyring.configure_from_settings(settings, create=True)
    except (keyring.KeyRingError, OSError) as exc:
        raise ConfigError("CRYPTO_KEY_FILE", str(exc)) from None
    own_engine = engine is None
    engine = engine or make_engine(settings["DATABASE_URL"], echo=settings.get("SQLALCHEMY_ECHO", False))
    try:
        check_key_ring(settings, engine)
    except ConfigError:
        if own_engine:
            engine.dispose()
        raise
    return Runtime(settings=settings, engine=engine, sessions=sessionmaker(bind=engine, expire_on_commit=False))


def check_key_ring(settings, engine):
    """Stop a production process whose key ring cannot open what the database holds sealed (its
    key file lost or replaced: new values would be sealed with a new key beside old ones nobody
    can read any more); elsewhere say so in the log. A database not migrated yet is skipped."""
    ring = keyring.current(required=False)
    if ring is None:
        return
    try:
        with Session(engine) as session:
            missing = crypto_keys.missing_keys(session, ring)
    except SQLAlchemyError:
        return
    if not missing:
        return
    message = (f"the database holds {sum(missing.values())} values sealed with key(s) "
               f"{', '.join(sorted(missing))}, which the key ring {ring.source or '(memory)'} does not hold: "
               "restore the key ring file from its backup (never start with a new one)")
    if is_production(settings):
        raise ConfigError("CRYPTO_KEY_FILE", message)
    log.error(message)

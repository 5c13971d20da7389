"""What every govcloud process runs with: its settings, one database engine, one Cloud.

The web app (create_app), the provisioning worker and the scheduler each build one Runtime at
start-up; none of them needs the others' framework (the worker and the scheduler import no Flask).
"""
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.orm import sessionmaker

from provisioner.cloud import Cloud

from .crypto import keyring
from .database import make_engine
from .errors import ConfigError
from .settings import is_production, load_settings, require_clouds_yaml


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
    engine = engine or make_engine(settings["DATABASE_URL"], echo=settings.get("SQLALCHEMY_ECHO", False))
    return Runtime(settings=settings, engine=engine, sessions=sessionmaker(bind=engine, expire_on_commit=False))

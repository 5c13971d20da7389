"""The runtime of the scheduler process and its jobs (portal.runtime.Runtime, set once at start)."""
from portal import runtime as portal_runtime

_runtime = None


def configure(settings, engine=None):
    """Set the runtime of this process from settings (a mapping like portal.settings.load_settings())."""
    global _runtime
    if _runtime is not None:
        _runtime.close_cloud()  # the cloud of the settings replaced
    _runtime = portal_runtime.build(dict(settings), engine=engine)
    return _runtime


def configure_from_settings():
    """Load the settings (defaults, TOML, GOVCLOUD_* variables) and configure; in production a
    missing clouds.yaml stops the scheduler here."""
    global _runtime
    _runtime = portal_runtime.build(needs_cloud=True)
    return _runtime


def current():
    if _runtime is None:
        raise RuntimeError("scheduler.runtime.configure() was not called in this process")
    return _runtime


def session_scope():
    """A session of the configured database, closed at the end."""
    return current().session()

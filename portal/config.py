"""The web app's configuration: the settings of portal.settings, in app.config."""
from .settings import load_settings


def load_config(app, overrides=None):
    """Fill app.config with the checked settings; raise ConfigError with a clear message."""
    overrides = dict(overrides or {})
    if app.debug:
        overrides.setdefault("DEBUG", True)
    app.config.update(load_settings(overrides, instance_path=app.instance_path))
    if app.config["TESTING"]:
        app.testing = True

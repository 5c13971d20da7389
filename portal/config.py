"""Configuration: defaults -> TOML file (GOVCLOUD_CONFIG) -> GOVCLOUD_* env -> overrides."""
import os
import tomllib
from datetime import timedelta

from .database import normalize_url
from .errors import ConfigError

DEFAULTS = {
    "SECRET_KEY": None,
    "DATABASE_URL": None,  # None: SQLite file in the instance folder
    "SQLALCHEMY_ECHO": False,
    "BABEL_DEFAULT_LOCALE": "zh_CN",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    "LANGUAGES": ["zh_CN", "en"],
    "PAGE_SIZE": 20,
    # number of reverse proxies in front of the portal whose X-Forwarded-For/-Proto to trust
    "PROXY_FIX_X_FOR": 0,
    # accounts
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_LOCKOUT_MINUTES": 15,
    "LOGIN_RATE_LIMIT": 30,  # failed logins per address ...
    "LOGIN_RATE_WINDOW_MINUTES": 10,  # ... within this window
    "PASSWORD_MIN_LENGTH": 10,
    "PASSWORD_HASH_TIME_COST": 3,
    "PASSWORD_HASH_MEMORY_KIB": 65536,
    "PASSWORD_HASH_PARALLELISM": 4,
    # session cookie
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": None,  # None: Secure unless debug or testing
    "SESSION_COOKIE_NAME": "govcloud_session",
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
    "REMEMBER_COOKIE_DURATION": 0,
    "WTF_CSRF_TIME_LIMIT": 8 * 3600,
    # usage metering (issue 9): sample interval; a longer pause than the tolerance is a marked gap
    "METERING_INTERVAL_SECONDS": 300,
    "METERING_GAP_TOLERANCE_SECONDS": 900,
    # monitoring (issue 6): scheduler intervals, probes, notifications, /metrics
    "PROBE_INTERVAL_SECONDS": 60,
    "PROBE_TIMEOUT_SECONDS": 5,
    "COLLECT_INTERVAL_SECONDS": 300,
    "NOTIFY_INTERVAL_SECONDS": 30,
    "NOTIFY_MAX_ATTEMPTS": 5,
    "SMTP_HOST": None,  # None: no e-mail notifications
    "SMTP_PORT": 25,
    "SMTP_FROM": "govcloud@localhost",
    "SMTP_STARTTLS": False,
    "SMTP_USERNAME": None,
    "SMTP_PASSWORD": None,
    "NOTIFY_WEBHOOK_URL": None,  # None: no webhook notifications
    "METRICS_BEARER_TOKEN": None,  # None: /metrics open (restrict it at the proxy or firewall)
    "SLA_TARGET_RATIO": 0.999,
    "ESCALATE_AFTER_MINUTES": 30,  # 第二十五条: unresolved incidents go up after this long
    "ESCALATION_EMAIL": None,  # the bureau's duty desk, also told of escalations
    # audit digests are signed with AUDIT_HMAC_KEY, else the key in AUDIT_KEY_FILE (None:
    # audit-hmac.key in the instance folder); keep the key out of the database and its backups
    "AUDIT_HMAC_KEY": None,
    "AUDIT_KEY_FILE": None,
    # private keys of live vendor access grants (None: grant-keys/ in the instance folder)
    "GRANT_KEY_DIR": None,
    # backups (issue 7): scheduler intervals, retries, SSH hooks (private keys of the hooks are files
    # in BACKUP_SSH_KEY_DIR, None: backup-keys/ in the instance folder), extraction link lifetime
    "BACKUP_DUE_INTERVAL_SECONDS": 60,
    "BACKUP_TRACK_INTERVAL_SECONDS": 15,
    "BACKUP_MAX_ATTEMPTS": 3,
    "BACKUP_RETRY_SECONDS": 300,
    "BACKUP_HOOK_TIMEOUT_SECONDS": 300,
    "BACKUP_SSH_KEY_DIR": None,
    "BACKUP_EXTRACTION_LINK_HOURS": 24,
}


def load_config(app, overrides=None):
    """Fill app.config in order and check it; raise ConfigError with a clear message."""
    app.config.from_mapping(DEFAULTS)
    path = os.environ.get("GOVCLOUD_CONFIG")
    if path:
        try:
            app.config.from_file(path, load=tomllib.load, text=False)
        except FileNotFoundError:
            raise ConfigError("GOVCLOUD_CONFIG", f"file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("GOVCLOUD_CONFIG", f"file {path} is not valid TOML ({exc})") from None
    app.config.from_prefixed_env("GOVCLOUD")
    if overrides:
        app.config.update(overrides)
    _finish(app)


def is_production(app):
    return not (app.debug or app.testing)


def _finish(app):
    cfg = app.config
    if cfg.get("TESTING"):
        app.testing = True
    if not cfg.get("DATABASE_URL"):
        cfg["DATABASE_URL"] = "sqlite:///" + os.path.join(app.instance_path, "govcloud.db")
    cfg["DATABASE_URL"] = normalize_url(cfg["DATABASE_URL"])
    if not cfg.get("AUDIT_KEY_FILE"):
        cfg["AUDIT_KEY_FILE"] = os.path.join(app.instance_path, "audit-hmac.key")
    if not cfg.get("GRANT_KEY_DIR"):
        cfg["GRANT_KEY_DIR"] = os.path.join(app.instance_path, "grant-keys")
    if not cfg.get("BACKUP_SSH_KEY_DIR"):
        cfg["BACKUP_SSH_KEY_DIR"] = os.path.join(app.instance_path, "backup-keys")
    if cfg.get("SECRET_KEY") is not None and not isinstance(cfg["SECRET_KEY"], str):
        cfg["SECRET_KEY"] = str(cfg["SECRET_KEY"])  # from_prefixed_env parsed it as JSON
    if not cfg.get("SECRET_KEY"):
        if is_production(app):
            raise ConfigError("SECRET_KEY", "is required in production; set GOVCLOUD_SECRET_KEY "
                              "or SECRET_KEY in the file named by GOVCLOUD_CONFIG")
        cfg["SECRET_KEY"] = "dev-only-not-secret"
    if cfg.get("SESSION_COOKIE_SECURE") is None:
        cfg["SESSION_COOKIE_SECURE"] = is_production(app)
    if isinstance(cfg["PERMANENT_SESSION_LIFETIME"], (int, float)):
        cfg["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=cfg["PERMANENT_SESSION_LIFETIME"])
    cfg["REMEMBER_COOKIE_HTTPONLY"] = True
    cfg["REMEMBER_COOKIE_SECURE"] = cfg["SESSION_COOKIE_SECURE"]
    if not isinstance(cfg["PROXY_FIX_X_FOR"], int) or cfg["PROXY_FIX_X_FOR"] < 0:
        raise ConfigError("PROXY_FIX_X_FOR", f"must be 0 or a positive integer, got {cfg['PROXY_FIX_X_FOR']!r}")
    for key in ("LOGIN_MAX_FAILURES", "LOGIN_LOCKOUT_MINUTES", "PAGE_SIZE", "PASSWORD_MIN_LENGTH"):
        if not isinstance(cfg[key], int) or cfg[key] < 1:
            raise ConfigError(key, f"must be a positive integer, got {cfg[key]!r}")
    if cfg["BABEL_DEFAULT_LOCALE"] not in cfg["LANGUAGES"]:
        raise ConfigError("BABEL_DEFAULT_LOCALE", f"must be one of {cfg['LANGUAGES']}")

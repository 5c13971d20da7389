"""Settings of every govcloud process (portal, worker, scheduler, CLI), without Flask.

Read in order: the defaults below -> the TOML file named by GOVCLOUD_CONFIG -> GOVCLOUD_* environment
variables -> overrides given in code. Each key has a type; a value of the wrong type stops the
process with a ConfigError that names the key. config/govcloud.example.toml explains them for
operators.
"""
import ipaddress
import json
import os
import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from .audit_guard import RETENTION_FLOOR_DAYS
from .database import normalize_url
from .errors import ConfigError

ENV_PREFIX = "GOVCLOUD_"
PACKAGE_ROOT = Path(__file__).resolve().parents[1]
DEV_CLOUDS_YAML = str(PACKAGE_ROOT / ".devcloud" / "clouds.yaml")


@dataclass(frozen=True)
class Setting:
    type: type
    default: object
    doc: str = ""
    optional: bool = False  # None is allowed (and means "off" or "derived")


def _s(type_, default, doc="", optional=False):
    return Setting(type_, default, doc, optional)


SETTINGS = {
    "SECRET_KEY": _s(str, None, "signs sessions and CSRF tokens; required in production", True),
    "DATABASE_URL": _s(str, None, "None: SQLite file in the instance folder", True),
    # PostgreSQL: the owner runs migrations and grants DATABASE_URL's role no more than SELECT and
    # INSERT on the audit tables (portal/audit_guard.py); None: DATABASE_URL migrates
    "DATABASE_OWNER_URL": _s(str, None, "the role that owns the tables (migrations, audit purge)", True),
    "SQLALCHEMY_ECHO": _s(bool, False),
    "TESTING": _s(bool, False),
    "DEBUG": _s(bool, False),
    "LOG_LEVEL": _s(str, "INFO"),
    "BABEL_DEFAULT_LOCALE": _s(str, "zh_CN"),
    "BABEL_DEFAULT_TIMEZONE": _s(str, "Asia/Shanghai"),
    "LANGUAGES": _s(list, ["zh_CN", "en"]),
    "PAGE_SIZE": _s(int, 20),
    "PROXY_FIX_X_FOR": _s(int, 0, "reverse proxies in front whose X-Forwarded-For/-Proto to trust"),
    # input bounds (issue 15): every form and API body is checked against these before any work
    "MAX_CONTENT_LENGTH": _s(int, 12 * 1024 * 1024, "bytes of any request body (uploads of 10 MB fit)"),
    "MAX_FORM_MEMORY_SIZE": _s(int, 256 * 1024, "bytes of one form field that is not a file"),
    "API_MAX_BODY_BYTES": _s(int, 256 * 1024, "bytes of a JSON body sent to /api/v1"),
    "REQUEST_MAX_SERVERS": _s(int, 50, "servers of one request, every group together"),
    "REQUEST_MAX_COUNT": _s(int, 20, "servers of one group of a request"),
    "REQUEST_MAX_VOLUME_GB": _s(int, 2000, "GB of one volume"),
    "REQUEST_MAX_TOTAL_GB": _s(int, 20000, "GB of every volume of one request"),
    "REQUEST_MAX_SERVER_VCPUS": _s(int, 32, "vCPUs of one server's flavor"),
    "REQUEST_MAX_SERVER_RAM_MB": _s(int, 131072, "MB of memory of one server's flavor"),
    # accounts
    "LOGIN_MAX_FAILURES": _s(int, 5),
    "LOGIN_LOCKOUT_MINUTES": _s(int, 15),
    "LOGIN_RATE_LIMIT": _s(int, 30, "failed logins per address ..."),
    "LOGIN_RATE_WINDOW_MINUTES": _s(int, 10, "... within this window"),
    "PASSWORD_MIN_LENGTH": _s(int, 10),
    "PASSWORD_HASH_TIME_COST": _s(int, 3),
    "PASSWORD_HASH_MEMORY_KIB": _s(int, 65536),
    "PASSWORD_HASH_PARALLELISM": _s(int, 4),
    # sessions and credentials (issue 16, MLPS level 3): server-side sessions that end
    "SESSION_IDLE_MINUTES": _s(int, 30, "a session unused this long ends"),
    "SESSION_ABSOLUTE_HOURS": _s(int, 8, "a session ends this long after its login, used or not"),
    "SESSION_SINGLE_PER_USER": _s(bool, False, "a new login ends the user's other sessions"),
    "PASSWORD_MAX_AGE_DAYS": _s(int, 90, "after this the password must be changed; 0: never"),
    "PASSWORD_HISTORY": _s(int, 5, "a new password may not be one of this many last ones"),
    "ACCOUNT_MAX_IDLE_DAYS": _s(int, 90, "accounts unused this long are disabled daily; 0: never"),
    # second factor (TOTP, RFC 6238): required for these roles (unknown names are accepted);
    # add "department" to require it of department users too
    "TOTP_REQUIRED_ROLES": _s(list, ["bureau", "vendor", "admin", "security", "auditor", "expert"]),
    "TOTP_ISSUER": _s(str, "govcloud", "the name authenticator apps show"),
    # session cookie
    "SESSION_COOKIE_HTTPONLY": _s(bool, True),
    "SESSION_COOKIE_SAMESITE": _s(str, "Lax"),
    "SESSION_COOKIE_SECURE": _s(bool, None, "None: Secure unless debug or testing", True),
    "SESSION_COOKIE_NAME": _s(str, "govcloud_session"),
    "PERMANENT_SESSION_LIFETIME": _s(int, 8 * 3600, "seconds"),
    # the cookie is sent again only when the session changed: a background request (the live
    # estimate) answered after a form's redirect would otherwise overwrite the message it left
    "SESSION_REFRESH_EACH_REQUEST": _s(bool, False),
    "REMEMBER_COOKIE_DURATION": _s(int, 0),
    "WTF_CSRF_TIME_LIMIT": _s(int, 8 * 3600),
    # the cloud (openstacksdk's clouds.yaml; never credentials in these settings)
    "CLOUDS_YAML": _s(str, None, "required in production; the dev cloud's otherwise", True),
    "CLOUD": _s(str, "devcloud"),
    "CLOUD_NAME_PREFIX": _s(str, "gc", "first part of the name of every resource govcloud creates"),
    # usage metering (issue 9): sample interval; a longer pause than the tolerance is a marked gap
    "METERING_INTERVAL_SECONDS": _s(int, 300),
    "METERING_GAP_TOLERANCE_SECONDS": _s(int, 900),
    # scheduler, probes, notifications, /metrics (issue 6)
    "JOB_MISFIRE_GRACE_SECONDS": _s(int, 30, "runs a new leader still catches up (at least 4 leases)"),
    # several scheduler processes on PostgreSQL: one leads while its lease lasts (issue 21)
    "SCHEDULER_LEASE_SECONDS": _s(int, 10, "a stand-by takes over at most this long after the leader stops"),
    "SCHEDULER_JOBS": _s(str, "", "comma-separated job ids this scheduler runs; empty: every job"),
    "PROBE_INTERVAL_SECONDS": _s(int, 60),
    "PROBE_TIMEOUT_SECONDS": _s(float, 5),
    "COLLECT_INTERVAL_SECONDS": _s(int, 300),
    # the live inventory (issue 18): changes every N seconds, a full resync nightly; server actions per user
    "INVENTORY_SYNC_INTERVAL_SECONDS": _s(int, 60),
    "SERVER_ACTIONS_PER_MINUTE": _s(int, 6),
    # 第八条: the share of each pool kept free for emergencies; the capacity page warns below it
    "EMERGENCY_RESERVE_PERCENT": _s(int, 10),
    "RECONCILE_INTERVAL_SECONDS": _s(int, 900),
    "NOTIFY_INTERVAL_SECONDS": _s(int, 30),
    "NOTIFY_MAX_ATTEMPTS": _s(int, 5),
    "SMTP_HOST": _s(str, None, "None: no e-mail notifications", True),
    "SMTP_PORT": _s(int, 25),
    "SMTP_FROM": _s(str, "govcloud@localhost"),
    "SMTP_STARTTLS": _s(bool, False),
    "SMTP_USERNAME": _s(str, None, optional=True),
    "SMTP_PASSWORD": _s(str, None, "plain, or sealed by `govcloud crypto seal` (v1:...)", True),
    "SMTP_PASSWORD_FILE": _s(str, None, "a file holding the SMTP password (plain or sealed)", True),
    "SMTP_TIMEOUT_SECONDS": _s(float, 10),
    "NOTIFY_WEBHOOK_URL": _s(str, None, "None: no webhook notifications", True),
    "WEBHOOK_TIMEOUT_SECONDS": _s(float, 10),
    # /metrics answers a scrape with this bearer token, or from an address in the allow-list (else 401)
    "METRICS_BEARER_TOKEN": _s(str, None, "None or empty: no token is accepted", True),
    "METRICS_BEARER_TOKEN_FILE": _s(str, None, "a file holding the token (read at each scrape)", True),
    "METRICS_ALLOWED_NETWORKS": _s(list, ["127.0.0.1/32", "::1/128"], "CIDRs scraping without a token"),
    "METRICS_RENDER_SECONDS": _s(int, 15, "the /metrics text is rendered this often (and after a change) and "
                                 "served from memory; 0: rendered at every scrape"),
    "METRICS_RENDER_PROCESS": _s(bool, True, "render the database's metrics in a child process of each web "
                                 "worker (a scrape then never waits on a rendering); off: in a thread"),
    # Alertmanager (issue 22): its webhook posts alerts with this bearer token (none set: refused);
    # govcloud silences approved maintenance windows through ALERTMANAGER_URL's API v2
    "ALERT_WEBHOOK_TOKEN": _s(str, None, "None or empty: the alert webhook accepts no token", True),
    "ALERT_WEBHOOK_TOKEN_FILE": _s(str, None, "a file holding the webhook's token (read at each call)", True),
    "ALERT_WEBHOOK_MAX_BYTES": _s(int, 1024 * 1024, "largest alert message accepted (413 above)"),
    "ALERTMANAGER_URL": _s(str, None, "None: no silences for maintenance windows", True),
    "ALERTMANAGER_TIMEOUT_SECONDS": _s(float, 10),
    "ALERT_SILENCE_INTERVAL_SECONDS": _s(int, 60),
    "SLA_TARGET_RATIO": _s(float, 0.999),
    "ESCALATE_AFTER_MINUTES": _s(int, 30, "第二十五条: unresolved incidents go up after this long"),
    "ESCALATION_EMAIL": _s(str, None, "the bureau's duty desk, also told of escalations", True),
    # audit digests are signed with AUDIT_HMAC_KEY, else the key in AUDIT_KEY_FILE; keep the key
    # out of the database and its backups
    "AUDIT_HMAC_KEY": _s(str, None, optional=True),
    "AUDIT_KEY_FILE": _s(str, None, "None: audit-hmac.key in the instance folder", True),
    "AUDIT_DIGEST_INTERVAL_SECONDS": _s(int, 3600),
    # cryptography (issue 16): the suite of new hashes, signatures and sealed fields, and the key
    # ring (a JSON key ring in CRYPTO_KEYS, else the file CRYPTO_KEY_FILE, created 0600 on first use)
    "CRYPTO_SUITE": _s(str, "international", "international (SHA-256, AES-256-GCM, Ed25519) or sm "
                       "(商用密码: SM3, SM4-GCM, SM2)"),
    "CRYPTO_KEY_FILE": _s(str, None, "None: crypto-keys.json in the instance folder", True),
    "CRYPTO_KEYS": _s(str, None, "the key ring as JSON (instead of the file)", True),
    # every signed digest is also appended outside the database: a file opened O_APPEND (one JSON
    # line a digest) and, when set, syslog ("/dev/log" or "host:port")
    "AUDIT_DIGEST_FILE": _s(str, None, "None: audit-digests.jsonl in the instance folder", True),
    "AUDIT_DIGEST_SYSLOG": _s(str, "", "empty: no syslog"),
    # 网络安全法 第二十一条: logs are kept six months at least; older events are archived, then purged
    "AUDIT_RETENTION_DAYS": _s(int, 180, "never below 180"),
    # a denied request (403) is recorded once per user and endpoint in this window, with a count
    "AUDIT_DENIAL_INTERVAL_SECONDS": _s(int, 60),
    # informatization projects (issue 19, regulation 附件1)
    "PROJECT_GATE": _s(bool, True, "a new system's resource request must name a project that passed the "
                       "design review (附件1 第七条(七))"),
    "PROJECT_DECLARATION_MONTHS": _s(list, [9], "months (Beijing time) of the annual declaration window for "
                                     "the next year (第七条(一)); an urgent project any time (第八条)"),
    # vendor access grants (issue 8)
    "GRANT_KEY_DIR": _s(str, None, "None: grant-keys/ in the instance folder", True),
    "GRANT_EXPIRY_INTERVAL_SECONDS": _s(int, 60),
    # backups (issue 7); the hooks' private keys are the departments' own (department_ssh_key, issue 16)
    "BACKUP_DUE_INTERVAL_SECONDS": _s(int, 60),
    "BACKUP_TRACK_INTERVAL_SECONDS": _s(int, 15),
    "BACKUP_MAX_ATTEMPTS": _s(int, 3),
    "BACKUP_RETRY_SECONDS": _s(int, 300),
    "BACKUP_HOOK_TIMEOUT_SECONDS": _s(int, 300),
    "BACKUP_EXTRACTION_LINK_HOURS": _s(int, 24),
    # 办理时限 (issue 17): working days (Chinese work calendar) each step may take; a reminder goes to
    # whoever must act TIME_LIMIT_REMIND_DAYS working days before (0: on the last day), an escalation
    # to the bureau once a step is overdue; checked every TIME_LIMIT_INTERVAL_SECONDS
    "TIME_LIMIT_REVIEW_DAYS": _s(int, 5, "working days for the bureau to review a request"),
    "TIME_LIMIT_PROVISIONING_DAYS": _s(int, 3, "working days for the vendor to provision an approved request"),
    "TIME_LIMIT_EXTRACTION_DAYS": _s(int, 3, "working days for the bureau to decide a backup extraction"),
    "TIME_LIMIT_GRANT_DAYS": _s(int, 2, "working days for a department to decide a vendor access grant"),
    "TIME_LIMIT_REMIND_DAYS": _s(int, 1, "remind this many working days before a step is due"),
    "TIME_LIMIT_INTERVAL_SECONDS": _s(int, 3600),
    # emergency drills and rectification (issue 20): the drill_reminders job's interval
    "DRILL_REMINDER_INTERVAL_SECONDS": _s(int, 3600),
    # the vendor's evaluation (第二十八条) and annual assessment (第四条(三), 第二十七条); security monitoring
    # reports (第六条(五)) to each department
    "EVALUATION_WINDOW_DAYS": _s(int, 30, "days after a quarter ends in which departments rate the vendor"),
    "EVALUATION_LOW_SCORE": _s(int, 2, "an aspect scored at or below this (1-5) needs a reason"),
    "EVALUATION_WEIGHTS": _s(dict, {"sla": 30, "response": 15, "resolution": 15, "drills": 10,
                                    "rectifications": 10, "ratings": 20},
                             "points of each indicator of the annual assessment (sum 100)"),
    "EVALUATION_RESPONSE_TARGET_MINUTES": _s(int, 30, "an incident acknowledged within this counts as on time"),
    "EVALUATION_RESOLUTION_TARGET_MINUTES": _s(int, 240, "an incident resolved within this counts as on time"),
    "EVALUATION_DRILLS_PER_YEAR": _s(int, 2, "drills the vendor owes a year (第六条(四))"),
    "SECURITY_REPORT_MONTHS": _s(int, 1, "months of a security monitoring report: 1 (monthly), 3, 6 or 12"),
    # issue 20: departments confirm their contacts every CONTACT_CONFIRM_MONTHS months, reminded the
    # days before listed in CONTACT_REMIND_DAYS (each once); agreements are reminded AGREEMENT_REMIND_DAYS
    # before they expire; the job contact_confirmations checks daily
    "CONTACT_CONFIRM_MONTHS": _s(int, 6, "months between a department's confirmations of its contacts"),
    "CONTACT_REMIND_DAYS": _s(str, "30,7", "days before a confirmation is due to remind (comma-separated)"),
    "AGREEMENT_REMIND_DAYS": _s(str, "60,30,7", "days before an agreement expires to remind (comma-separated)"),
    # issue 19 (附件1 第十六条): the warranty_reminders job tells the department and the bureau this
    # many days (Beijing calendar days, comma-separated) before a project's warranty ends, once each
    "WARRANTY_REMIND_DAYS": _s(str, "90,30", "days before a project's warranty ends to remind, e.g. 90,30"),
}
DEFAULTS = {key: spec.default for key, spec in SETTINGS.items()}
POSITIVE = ("LOGIN_MAX_FAILURES", "LOGIN_LOCKOUT_MINUTES", "PAGE_SIZE", "PASSWORD_MIN_LENGTH",
            "MAX_CONTENT_LENGTH", "MAX_FORM_MEMORY_SIZE", "API_MAX_BODY_BYTES", "REQUEST_MAX_SERVERS",
            "REQUEST_MAX_COUNT", "REQUEST_MAX_VOLUME_GB", "REQUEST_MAX_TOTAL_GB", "REQUEST_MAX_SERVER_VCPUS",
            "REQUEST_MAX_SERVER_RAM_MB", "SESSION_IDLE_MINUTES", "SESSION_ABSOLUTE_HOURS",
            "PASSWORD_HISTORY", "TIME_LIMIT_REVIEW_DAYS", "TIME_LIMIT_PROVISIONING_DAYS",
            "TIME_LIMIT_EXTRACTION_DAYS", "TIME_LIMIT_GRANT_DAYS", "TIME_LIMIT_INTERVAL_SECONDS",
            "DRILL_REMINDER_INTERVAL_SECONDS",
            "EVALUATION_WINDOW_DAYS", "EVALUATION_RESPONSE_TARGET_MINUTES", "EVALUATION_RESOLUTION_TARGET_MINUTES",
            "CONTACT_CONFIRM_MONTHS")


def default_instance_path():
    """GOVCLOUD_INSTANCE_PATH, else instance/ beside the package (Flask's choice for this layout)."""
    return os.path.abspath(os.environ.get("GOVCLOUD_INSTANCE_PATH") or PACKAGE_ROOT / "instance")


def _from_file(path):
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError("GOVCLOUD_CONFIG", f"file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("GOVCLOUD_CONFIG", f"file {path} is not valid TOML ({exc})") from None
    return {k: v for k, v in data.items() if k.isupper()}


def _from_env(environ):
    """GOVCLOUD_* variables; a known key's text is read as its type, another's as JSON or text."""
    values = {}
    for name, text in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        key = name[len(ENV_PREFIX):]
        spec = SETTINGS.get(key)
        if spec is not None and spec.type is str:
            values[key] = text
            continue
        try:
            values[key] = json.loads(text)
        except ValueError:
            values[key] = text
    return values


TRUE, FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0", ""}


def _typed(key, value):
    spec = SETTINGS.get(key)
    if spec is not None and spec.type is bool and not isinstance(value, bool) and value is not None:
        text = str(value).strip().lower()
        if text not in TRUE | FALSE:
            raise ConfigError(key, f"must be true or false, got {value!r}")
        return text in TRUE
    if key == "PERMANENT_SESSION_LIFETIME" and isinstance(value, timedelta):
        return value
    if spec is None or value is None:
        if value is None and spec is not None and not spec.optional and spec.default is not None:
            raise ConfigError(key, "must be set")
        return value
    if spec.type is list and isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]  # e.g. "a,b" in the environment
    if spec.type is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if spec.type is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # e.g. SECRET_KEY = 12345 in the file
    if spec.type is int and isinstance(value, bool) or not isinstance(value, spec.type):
        raise ConfigError(key, f"must be {spec.type.__name__}, got {value!r}")
    return value


def is_production(settings):
    return not (settings.get("DEBUG") or settings.get("TESTING"))


def load_settings(overrides=None, *, instance_path=None, environ=None):
    """Return the settings as a dict (defaults, file, environment, overrides), checked and completed."""
    environ = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    path = environ.get("GOVCLOUD_CONFIG")
    if path:
        settings.update(_from_file(path))
    settings.update(_from_env(environ))
    settings.update(overrides or {})
    for key in SETTINGS:
        settings[key] = _typed(key, settings[key])
    return _finish(settings, instance_path or default_instance_path())


def _finish(cfg, instance_path):
    cfg["INSTANCE_PATH"] = instance_path
    if not cfg.get("DATABASE_URL"):
        cfg["DATABASE_URL"] = "sqlite:///" + os.path.join(instance_path, "govcloud.db")
    cfg["DATABASE_URL"] = normalize_url(cfg["DATABASE_URL"])
    if cfg.get("DATABASE_OWNER_URL"):
        cfg["DATABASE_OWNER_URL"] = normalize_url(cfg["DATABASE_OWNER_URL"])
    for key, name in (("AUDIT_KEY_FILE", "audit-hmac.key"), ("AUDIT_DIGEST_FILE", "audit-digests.jsonl"),
                      ("CRYPTO_KEY_FILE", "crypto-keys.json"), ("GRANT_KEY_DIR", "grant-keys")):
        if not cfg.get(key):
            cfg[key] = os.path.join(instance_path, name)
    production = is_production(cfg)
    if not cfg.get("SECRET_KEY"):
        if production:
            raise ConfigError("SECRET_KEY", "is required in production; set GOVCLOUD_SECRET_KEY "
                              "or SECRET_KEY in the file named by GOVCLOUD_CONFIG")
        cfg["SECRET_KEY"] = "dev-only-not-secret"
    if not cfg.get("CLOUDS_YAML") and not production:
        cfg["CLOUDS_YAML"] = DEV_CLOUDS_YAML
    if cfg.get("SESSION_COOKIE_SECURE") is None:
        cfg["SESSION_COOKIE_SECURE"] = production
    if isinstance(cfg["PERMANENT_SESSION_LIFETIME"], (int, float)):
        cfg["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=cfg["PERMANENT_SESSION_LIFETIME"])
    cfg["REMEMBER_COOKIE_HTTPONLY"] = True
    cfg["REMEMBER_COOKIE_SECURE"] = cfg["SESSION_COOKIE_SECURE"]
    if cfg["PROXY_FIX_X_FOR"] < 0:
        raise ConfigError("PROXY_FIX_X_FOR", f"must be 0 or a positive integer, got {cfg['PROXY_FIX_X_FOR']!r}")
    for key in POSITIVE:
        if cfg[key] < 1:
            raise ConfigError(key, f"must be a positive integer, got {cfg[key]!r}")
    if cfg["SECURITY_REPORT_MONTHS"] not in (1, 3, 6, 12):
        raise ConfigError("SECURITY_REPORT_MONTHS", f"must be 1, 3, 6 or 12, got {cfg['SECURITY_REPORT_MONTHS']!r}")
    if cfg["BABEL_DEFAULT_LOCALE"] not in cfg["LANGUAGES"]:
        raise ConfigError("BABEL_DEFAULT_LOCALE", f"must be one of {cfg['LANGUAGES']}")
    for key in ("PASSWORD_MAX_AGE_DAYS", "ACCOUNT_MAX_IDLE_DAYS"):
        if cfg[key] < 0:
            raise ConfigError(key, f"must be 0 (never) or a positive integer, got {cfg[key]!r}")
    cfg["TOTP_REQUIRED_ROLES"] = [str(r).strip() for r in cfg["TOTP_REQUIRED_ROLES"] if str(r).strip()]
    _check_metrics_access(cfg, production)
    if cfg["CRYPTO_SUITE"] not in ("international", "sm"):
        raise ConfigError("CRYPTO_SUITE", f"must be international or sm, got {cfg['CRYPTO_SUITE']!r}")
    if cfg.get("SMTP_PASSWORD") and cfg.get("SMTP_PASSWORD_FILE"):
        raise ConfigError("SMTP_PASSWORD", "set it or SMTP_PASSWORD_FILE, not both")
    _check_audit(cfg)
    return cfg


def _check_audit(cfg):
    if cfg["AUDIT_RETENTION_DAYS"] < RETENTION_FLOOR_DAYS:
        raise ConfigError("AUDIT_RETENTION_DAYS", f"must be at least {RETENTION_FLOOR_DAYS} (网络安全法 第二十一条: "
                          f"logs are kept six months at least), got {cfg['AUDIT_RETENTION_DAYS']!r}")
    if cfg["AUDIT_DENIAL_INTERVAL_SECONDS"] < 1:
        raise ConfigError("AUDIT_DENIAL_INTERVAL_SECONDS", "must be a positive integer")
    target = cfg["AUDIT_DIGEST_SYSLOG"].strip()
    if target and not target.startswith("/"):
        host, _, port = target.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError("AUDIT_DIGEST_SYSLOG", f"must be empty, a socket path such as /dev/log or "
                              f"host:port, got {target!r}")
    cfg["AUDIT_DIGEST_SYSLOG"] = target


def _check_metrics_access(cfg, production):
    """One token source at most; the allow-list as normalized CIDRs, never "everyone" in production."""
    for key in ("METRICS_BEARER_TOKEN", "ALERT_WEBHOOK_TOKEN"):
        if cfg.get(key) and cfg.get(key + "_FILE"):
            raise ConfigError(key, f"set it or {key}_FILE, not both")
    networks = []
    for text in cfg["METRICS_ALLOWED_NETWORKS"]:
        try:
            network = ipaddress.ip_network(str(text).strip())
        except ValueError:
            raise ConfigError("METRICS_ALLOWED_NETWORKS", f"{text!r} is not a network such as 10.0.0.0/8 "
                              "(host bits must be zero)") from None
        if production and network.prefixlen == 0:
            raise ConfigError("METRICS_ALLOWED_NETWORKS", f"{text!r} lets every address scrape; "
                              "give the scraper a bearer token (METRICS_BEARER_TOKEN_FILE) instead")
        networks.append(str(network))
    cfg["METRICS_ALLOWED_NETWORKS"] = networks


def require_clouds_yaml(settings):
    """Return the clouds.yaml path of settings; in production it must be named and exist."""
    path = settings.get("CLOUDS_YAML")
    if not path:
        raise ConfigError("CLOUDS_YAML", "is required in production: set GOVCLOUD_CLOUDS_YAML or CLOUDS_YAML "
                          "in the file named by GOVCLOUD_CONFIG to the cloud's clouds.yaml")
    if not os.path.isfile(path):
        raise ConfigError("CLOUDS_YAML", f"file {path} does not exist")
    return path

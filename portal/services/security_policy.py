"""What the security administrator (安全管理员) sees: the login, password and session policy in effect
and the keys in use, by fingerprint. Read-only: the policy is set in the configuration
(config/govcloud.example.toml); a secret itself is never shown, only a short SHA-256 fingerprint."""
import hashlib
import os
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from .. import audit_chain
from ..crypto import keyring
from ..models.accounts import ROLE_LABELS, Department
from ..models.backups import DepartmentSshKey
from ..settings import SETTINGS
from ..text import _l

# the settings that make the policy: every setting whose name starts with one of these (so settings
# added later, e.g. TOTP_* or SESSION_*, are shown too); secrets never
POLICY_PREFIXES = ("LOGIN_", "PASSWORD_", "PERMANENT_SESSION_", "SESSION_", "TOTP_", "ACCOUNT_", "IDLE_",
                   "CRYPTO_SUITE", "AUDIT_RETENTION_", "AUDIT_DENIAL_")
POLICY_LABELS = {
    "LOGIN_MAX_FAILURES": _l("Failed logins before the account is locked"),
    "LOGIN_LOCKOUT_MINUTES": _l("Lock-out (minutes)"),
    "LOGIN_RATE_LIMIT": _l("Failed logins allowed per address"),
    "LOGIN_RATE_WINDOW_MINUTES": _l("… within (minutes)"),
    "PASSWORD_MIN_LENGTH": _l("Minimum password length"),
    "PASSWORD_HASH_TIME_COST": _l("Password hash (Argon2id) time cost"),
    "PASSWORD_HASH_MEMORY_KIB": _l("Password hash (Argon2id) memory (KiB)"),
    "PASSWORD_HASH_PARALLELISM": _l("Password hash (Argon2id) parallelism"),
    "PERMANENT_SESSION_LIFETIME": _l("Session cookie lifetime (minutes)"),
    "SESSION_IDLE_MINUTES": _l("A session ends after this long without a request (minutes)"),
    "SESSION_ABSOLUTE_HOURS": _l("A session ends this long after its login (hours)"),
    "SESSION_SINGLE_PER_USER": _l("One session per user (a new login ends the others)"),
    "PASSWORD_MAX_AGE_DAYS": _l("A password expires after (days; 0: never)"),
    "PASSWORD_HISTORY": _l("Earlier passwords that may not be used again"),
    "ACCOUNT_MAX_IDLE_DAYS": _l("Accounts unused for this long are disabled (days; 0: never)"),
    "TOTP_REQUIRED_ROLES": _l("Roles that must log in with a second factor"),
    "TOTP_ISSUER": _l("Name shown in the authenticator app"),
    "CRYPTO_SUITE": _l("Cryptographic suite (sm: 商用密码 SM2/SM3/SM4)"),
    "AUDIT_RETENTION_DAYS": _l("Audit log kept at least (days)"),
    "AUDIT_DENIAL_INTERVAL_SECONDS": _l("A denied request is recorded once per user and page within (seconds)"),
    "SESSION_COOKIE_SECURE": _l("Session cookie only over HTTPS"),
    "SESSION_COOKIE_HTTPONLY": _l("Session cookie hidden from scripts"),
    "SESSION_COOKIE_SAMESITE": _l("Session cookie SameSite"),
    "SESSION_COOKIE_NAME": _l("Session cookie name"),
    "SESSION_REFRESH_EACH_REQUEST": _l("Session cookie sent again with every answer"),
}
FINGERPRINT_HEX = 16
MAX_KEY_FILE_BYTES = 64 * 1024


@dataclass(frozen=True)
class PolicyItem:
    key: str
    label: object
    value: object


@dataclass(frozen=True)
class KeyItem:
    name: object       # what the key is for
    source: str        # where it is kept (a setting, a file, a folder)
    fingerprint: str   # "" when absent
    detail: object = ""
    revoked: bool = False


def _secret(key):
    return "SECRET" in key or key.endswith(("_KEY", "_KEYS", "_TOKEN"))


def _shown(value, key=""):
    if key == "TOTP_REQUIRED_ROLES":
        return "、".join(str(ROLE_LABELS.get(r, r)) for r in value or ())
    if isinstance(value, timedelta):
        return int(value.total_seconds() // 60)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return value


def effective_policy(config):
    """Return the login, password and session settings in effect, in the settings' order."""
    return [PolicyItem(key, POLICY_LABELS.get(key, key), _shown(config.get(key), key))
            for key in SETTINGS if key.startswith(POLICY_PREFIXES) and not _secret(key) and key in config]


def fingerprint(data):
    """Return a short SHA-256 fingerprint of a secret (bytes): it names the key, it does not reveal it."""
    digest = hashlib.sha256(data).hexdigest()[:FINGERPRINT_HEX]
    return "SHA256:" + ":".join(digest[i:i + 4] for i in range(0, FINGERPRINT_HEX, 4))


def _file_fingerprint(path):
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_KEY_FILE_BYTES + 1)
    except OSError:
        return ""
    return fingerprint(data) if data and len(data) <= MAX_KEY_FILE_BYTES else ""


def _folder(name, path):
    """One row per key file in a folder of keys (not descending into sub-folders)."""
    try:
        with os.scandir(path) as found:
            entries = sorted((e for e in found if e.is_file(follow_symlinks=False)), key=lambda e: e.name)
    except OSError:
        return [KeyItem(name, path, "", _l("The folder does not exist yet."))]
    if not entries:
        return [KeyItem(name, path, "", _l("No key files."))]
    return [KeyItem(name, os.path.join(path, e.name), _file_fingerprint(e.path)) for e in entries]


def _ring_items():
    """The sealing and signing keys of the key ring (商用密码 or international suite), by key id."""
    ring = keyring.current(required=False)
    if ring is None:
        return [KeyItem(_l("Encryption and signing key ring"), "", "", _l("Not created yet."))]
    items = []
    for key_id, key in ring.keys.items():
        detail = _l("active") if key_id == ring.active_id else _l("kept to open older values")
        items.append(KeyItem(_l("Encryption and signing key ring"), ring.source or "CRYPTO_KEYS",
                             f"{key_id} ({detail})"))
    items += [KeyItem(_l("Encryption and signing key ring"), ring.source or "CRYPTO_KEYS",
                      f"{key_id} ({_l('retired: verifies older signatures only')})") for key_id in ring.retired]
    return items


def _department_ssh_keys(session):
    """Each department's backup hook SSH keys (kept sealed in the database), revoked ones marked."""
    rows = session.execute(select(DepartmentSshKey, Department.name)
                           .join(Department, Department.id == DepartmentSshKey.department_id)
                           .order_by(Department.name, DepartmentSshKey.name)).all()
    return [KeyItem(_l("Backup hook SSH key of %(department)s: %(name)s", department=dept, name=key.name),
                    "department_ssh_key", key.fingerprint, "",
                    revoked=key.revoked_at is not None) for key, dept in rows]


def key_inventory(session, config):
    """Return the keys in use by fingerprint or id: the audit digests' HMAC key, the key ring, the
    grant key folder and the departments' SSH keys."""
    key = audit_chain.load_key(config)
    if config.get("AUDIT_HMAC_KEY"):
        source = "AUDIT_HMAC_KEY"
    else:
        source = config.get("AUDIT_KEY_FILE") or ""
    items = [KeyItem(_l("Audit digest signing key (HMAC-SHA256)"), source,
                     fingerprint(key) if key else "", "" if key else _l("Not created yet."))]
    items += _folder(_l("Vendor access grant keys"), config.get("GRANT_KEY_DIR") or "")
    items += _ring_items()
    items += _department_ssh_keys(session)
    return items

"""The key ring: keys with ids, one active (seals new values, signs), older ones kept to open
what they sealed until a rotation has re-sealed it; retired keys keep only their public
signing key (old audit digests still verify).

The ring is a JSON document, in the file CRYPTO_KEY_FILE (created 0600 on first use) or in the
variable CRYPTO_KEYS:
    {"format": 1, "active": "sm-20261201-3fa9c1",
     "keys": [{"id": ..., "suite": "sm", "secret": "<base64 32 bytes>", "created": ...}],
     "retired": [{"id": ..., "suite": ..., "public": "<hex>"}]}

The model layer reads the process's ring through current() (set by configure(), which
runtime.build calls for the web app, the worker, the scheduler and the CLI). A ring read from a
file is read again when the file changes (checked at most every RELOAD_SECONDS): after
`govcloud crypto rotate` every running process opens and seals with the new key without a
restart.
"""
import base64
import json
import logging
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from . import suites

log = logging.getLogger(__name__)
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
PREFIX = {suites.INTERNATIONAL: "intl", suites.SM: "sm"}


class KeyRingError(Exception):
    """The key ring is missing, malformed or lacks a key; the message says which."""


@dataclass(frozen=True)
class Key:
    id: str
    suite: str
    secret: bytes | None  # None: retired, public parts only
    publics: dict          # signature algorithm -> public key (of every suite: a suite switch keeps signing)
    created: str = ""

    @property
    def algorithms(self):
        return suites.get(self.suite)


@dataclass
class KeyRing:
    active_id: str
    keys: dict = field(default_factory=dict)      # id -> Key (with its secret)
    retired: dict = field(default_factory=dict)   # id -> Key (public only)
    source: str = ""                              # the file, or "CRYPTO_KEYS"

    @property
    def active(self):
        return self.keys[self.active_id]

    def key(self, key_id):
        try:
            return self.keys[key_id]
        except KeyError:
            raise KeyRingError(f"key {key_id!r} is not in the key ring ({self.source or 'memory'})") from None

    def public(self, key_id, algorithm):
        """The public key of key_id for a signature algorithm, also of a retired key (None: unknown)."""
        key = self.keys.get(key_id) or self.retired.get(key_id)
        return key.publics.get(algorithm) if key else None

    def to_json(self):
        return json.dumps({
            "format": 1, "active": self.active_id,
            "keys": [{"id": k.id, "suite": k.suite, "created": k.created,
                      "secret": base64.b64encode(k.secret).decode()} for k in self.keys.values()],
            "retired": [{"id": k.id, "suite": k.suite, "created": k.created,
                         "public": {name: value.hex() for name, value in k.publics.items()}}
                        for k in self.retired.values()],
        }, indent=2)

    def with_new_key(self, suite):
        """Return a copy with a new active key of suite (the others kept)."""
        key = new_key(suite)
        return KeyRing(key.id, {**self.keys, key.id: key}, dict(self.retired), self.source)

    def without(self, key_id):
        """Return a copy with key_id retired (its public signing key kept)."""
        if key_id == self.active_id:
            raise KeyRingError(f"key {key_id} is the active key; rotate first")
        old = self.key(key_id)
        keys = {k: v for k, v in self.keys.items() if k != key_id}
        retired = {**self.retired, key_id: Key(old.id, old.suite, None, old.publics, old.created)}
        return KeyRing(self.active_id, keys, retired, self.source)


def publics_of(secret):
    return {s.signature_name: s.public_key(secret) for s in suites.SUITES.values()}


def new_key(suite):
    suite = suites.get(suite).name
    secret = secrets.token_bytes(32)
    now = datetime.now(timezone.utc)
    key_id = f"{PREFIX[suite]}-{now:%Y%m%d}-{secrets.token_hex(4)}"
    return Key(key_id, suite, secret, publics_of(secret), now.isoformat(timespec="seconds"))


def parse(text, source=""):
    """Return the KeyRing of a JSON text; KeyRingError says what is wrong."""
    try:
        data = json.loads(text)
        keys, retired = {}, {}
        for item in data.get("keys", []):
            suite = suites.get(item["suite"])
            secret = base64.b64decode(item["secret"], validate=True)
            if len(secret) != 32 or not KEY_ID.match(item["id"]):
                raise ValueError(f"key {item['id']!r} is malformed")
            keys[item["id"]] = Key(item["id"], suite.name, secret, publics_of(secret), item.get("created", ""))
        for item in data.get("retired", []):
            retired[item["id"]] = Key(item["id"], suites.get(item["suite"]).name, None,
                                      {n: bytes.fromhex(v) for n, v in item["public"].items()},
                                      item.get("created", ""))
        active = data["active"]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise KeyRingError(f"the key ring in {source} is malformed ({exc})") from None
    if active not in keys:
        raise KeyRingError(f"the key ring in {source} names active key {active!r} but does not hold it")
    return KeyRing(active, keys, retired, source)


def write_file(ring, path):
    """Write ring to path atomically, readable by the owner only."""
    tmp = f"{path}.new"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(ring.to_json())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    ring.source = path


def load(settings, create=False):
    """The ring of settings: CRYPTO_KEYS, else the file CRYPTO_KEY_FILE (made when create and
    missing, with one key of CRYPTO_SUITE). None when neither exists."""
    text = settings.get("CRYPTO_KEYS")
    if text:
        return parse(text, "CRYPTO_KEYS")
    path = settings.get("CRYPTO_KEY_FILE")
    if not path:
        return None
    if not os.path.exists(path):
        if not create:
            return None
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        key = new_key(settings.get("CRYPTO_SUITE") or suites.INTERNATIONAL)
        ring = KeyRing(key.id, {key.id: key})
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(ring.to_json())
            log.warning("created a new key ring in %s: keep a copy outside this machine", path)
    if os.stat(path).st_mode & 0o077:
        log.warning("the key ring %s is readable by others than its owner: chmod 600 it", path)
    with open(path) as f:
        return parse(f.read(), path)


# --- the process's ring ---------------------------------------------------------------------

RELOAD_SECONDS = 1.0
_lock = threading.Lock()
_current = {"ring": None, "suite": suites.INTERNATIONAL, "mtime": None, "checked": 0.0}
_known = {}  # every key configured in this process, by id: values sealed before a re-configure


def configure(ring, suite=None):
    """Make ring the process's ring (and suite the configured CRYPTO_SUITE)."""
    with _lock:
        _current["ring"] = ring
        _current["mtime"] = _mtime(ring)
        _current["checked"] = time.monotonic()
        if suite is not None:
            _current["suite"] = suites.get(suite).name
        if ring is not None:
            _known.update(ring.keys)


def _mtime(ring):
    if ring is None or not ring.source or ring.source == "CRYPTO_KEYS":
        return None
    try:
        return os.stat(ring.source).st_mtime_ns
    except OSError:
        return None


def _reload_if_changed():
    ring = _current["ring"]
    if ring is None or _current["mtime"] is None or time.monotonic() - _current["checked"] < RELOAD_SECONDS:
        return
    _current["checked"] = time.monotonic()
    if _mtime(ring) == _current["mtime"]:
        return
    try:
        with open(ring.source) as f:
            fresh = parse(f.read(), ring.source)
    except (OSError, KeyRingError) as exc:
        log.error("the key ring %s changed but cannot be read again (%s); keeping the one loaded", ring.source, exc)
        _current["mtime"] = _mtime(ring)
        return
    log.info("the key ring %s changed: active key now %s", ring.source, fresh.active_id)
    configure(fresh)


def configure_from_settings(settings, create=True):
    ring = load(settings, create=create)
    configure(ring, settings.get("CRYPTO_SUITE") or suites.INTERNATIONAL)
    return ring


def ensure(settings):
    """Make settings' ring the process's unless it already is (a process running several apps,
    as tests do, switches between them; one app costs a comparison)."""
    expected = "CRYPTO_KEYS" if settings.get("CRYPTO_KEYS") else settings.get("CRYPTO_KEY_FILE")
    ring = _current["ring"]
    if ring is None or ring.source != expected or _current["suite"] != settings.get("CRYPTO_SUITE"):
        configure_from_settings(settings, create=False)


def current(required=True):
    _reload_if_changed()
    ring = _current["ring"]
    if ring is None and required:
        raise KeyRingError("no key ring is configured (CRYPTO_KEY_FILE or CRYPTO_KEYS); "
                           "sealed fields cannot be read or written")
    return ring


def configured_suite():
    """The suite named by CRYPTO_SUITE (of hashes and signatures written from now on)."""
    return suites.get(_current["suite"])


def opening_key(key_id):
    """The key that opens values sealed with key_id: the ring's, else one known to this process."""
    ring = current()
    key = ring.keys.get(key_id) or _known.get(key_id)
    if key is None:
        ring.key(key_id)  # raises with the ring's source named
    return key

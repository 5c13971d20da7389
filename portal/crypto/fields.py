"""Sealed database fields: SealedText encrypts on write and decrypts on read.

A sealed value is "v1:<suite>:<key id>:<base64 nonce>:<base64 ciphertext+tag>", with a fresh
random nonce per write; the header is the AEAD's associated data, so suite and key id cannot be
swapped. None and "" are stored as they are (nothing to hide). A value without the "v1:" prefix
is plain text written before its column was sealed: it reads as it is, and the next write or
`govcloud crypto rotate` seals it.
"""
import base64
import binascii
import os

import sqlalchemy as sa
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

from . import keyring, suites

VERSION = "v1"


def is_sealed(raw):
    return isinstance(raw, str) and raw.startswith(VERSION + ":")


def key_id_of(raw):
    """The key id a raw column value is sealed with (None: plain text or empty)."""
    if not is_sealed(raw):
        return None
    parts = raw.split(":")
    return parts[2] if len(parts) == 5 else None


def seal(plaintext, ring=None):
    """Seal plaintext (str) with the ring's active key."""
    key = (ring or keyring.current()).active
    header = f"{VERSION}:{key.suite}:{key.id}"
    nonce = os.urandom(suites.NONCE_BYTES)
    ciphertext = key.algorithms.encrypt(key.secret, nonce, plaintext.encode("utf-8"), header.encode())
    return f"{header}:{base64.b64encode(nonce).decode()}:{base64.b64encode(ciphertext).decode()}"


def unseal(raw, ring=None):
    """Return the plaintext of a sealed value (a plain value as it is)."""
    if not is_sealed(raw):
        return raw
    try:
        version, suite, key_id, nonce, ciphertext = raw.split(":")
        nonce, ciphertext = base64.b64decode(nonce, validate=True), base64.b64decode(ciphertext, validate=True)
    except (ValueError, binascii.Error):
        raise suites.DecryptionError("the sealed value is malformed") from None
    key = ring.key(key_id) if ring is not None else keyring.opening_key(key_id)
    if key.suite != suite:
        raise suites.DecryptionError(f"the sealed value names suite {suite} but key {key_id} is {key.suite}")
    header = f"{version}:{suite}:{key_id}".encode()
    return key.algorithms.decrypt(key.secret, nonce, ciphertext, header).decode("utf-8")


class SealedText(TypeDecorator):
    """Text encrypted at rest with the process's key ring (portal.crypto.keyring.current()).

    length bounds the plaintext (the column itself is TEXT: the sealed form is longer).
    """

    impl = Text
    cache_ok = True

    def __init__(self, length=None, **kwargs):
        super().__init__(**kwargs)
        self.max_length = length

    def process_bind_param(self, value, dialect):
        if value is None or value == "":
            return value
        if not isinstance(value, str):
            raise TypeError("SealedText holds text")
        if self.max_length is not None and len(value) > self.max_length:
            raise ValueError(f"value longer than {self.max_length} characters")
        return seal(value)

    def process_result_value(self, value, dialect):
        return unseal(value) if value else value


def read_secret(settings, name):
    """The secret setting name (e.g. SMTP_PASSWORD): its value, else the content of the file
    named by name_FILE; a sealed value ("v1:...") is opened with the process's key ring."""
    value = settings.get(name)
    path = settings.get(f"{name}_FILE")
    if not value and path:
        with open(path, encoding="utf-8") as f:
            value = f.read().strip()
    return unseal(value) if value else value


# --- for migrations that seal (or unseal) the values of existing columns --------------------

def rewrite_rows(bind, table_name, columns, transform, wanted, ring):
    """Set every value v of columns (in table_name, keyed by id) for which wanted(v) holds to
    transform(v, ring); return how many rows changed."""
    table = sa.table(table_name, sa.column("id", sa.Integer), *(sa.column(c, sa.Text) for c in columns))
    changed = 0
    for row in bind.execute(sa.select(table)).mappings().all():
        changes = {c: transform(row[c], ring) for c in columns if row[c] and wanted(row[c])}
        if changes:
            bind.execute(table.update().where(table.c.id == row["id"]).values(changes))
            changed += 1
    return changed


def any_row(bind, table_name, columns, wanted):
    table = sa.table(table_name, *(sa.column(c, sa.Text) for c in columns))
    return any(row[c] and wanted(row[c]) for row in bind.execute(sa.select(table)).mappings().all()
               for c in columns)


def is_plain(raw):
    return not is_sealed(raw)


def seal_existing(bind, table_name, columns, ring=None):
    """Seal the plain values of columns (e.g. in the migration that makes them SealedText)."""
    if ring is None and any_row(bind, table_name, columns, is_plain):
        ring = keyring.current()
    return rewrite_rows(bind, table_name, columns, seal, is_plain, ring)

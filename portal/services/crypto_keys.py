"""Key rotation and the key ring's status: which key seals how many values of the database.

Every column typed SealedText (in any model) is covered. A rotation adds a new active key to the
ring file first (the old keys stay), then re-seals every value sealed with another key, or still
in plain text, in batches, one transaction each; an old key can be retired once it seals nothing.
"""
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Text, and_, select, type_coerce

from .. import models  # noqa: F401  (registers every table, so every sealed column is found)
from ..crypto import fields, keyring
from ..database import Base

PLAIN = "(plain text)"


def sealed_columns():
    """[(table, column)] of every SealedText column of the models."""
    return [(table, column) for table in Base.metadata.sorted_tables for column in table.columns
            if isinstance(column.type, fields.SealedText)]


def _raw(column):
    return type_coerce(column, Text)


def count_by_key(session):
    """{column name: Counter(key id or PLAIN -> values)} of the non-empty sealed values."""
    counts = {}
    for table, column in sealed_columns():
        counter = Counter()
        raw = _raw(column)
        for (value,) in session.execute(select(raw).where(raw.is_not(None), raw != "")):
            counter[fields.key_id_of(value) or PLAIN] += 1
        counts[f"{table.name}.{column.name}"] = counter
    return counts


def missing_keys(session, ring):
    """Counter(key id -> values) of the values sealed with keys that ring cannot open: a key ring
    file lost or replaced (a new one made at start-up) while the database kept its values."""
    missing = Counter()
    for counter in count_by_key(session).values():
        for key_id, n in counter.items():
            if key_id != PLAIN and key_id not in ring.keys:
                missing[key_id] += n
    return missing


@dataclass
class Resealed:
    values: int = 0
    by_column: dict = field(default_factory=dict)


def reseal(session, ring=None, batch=500):
    """Re-seal with the ring's active key every value sealed with another key or not sealed yet;
    commit after each batch. A value changed meanwhile by someone else is left to its writer
    (who sealed it with the active key)."""
    ring = ring or keyring.current()
    active = ring.active_id
    result = Resealed()
    for table, column in sealed_columns():
        pk = list(table.primary_key.columns)[0]
        raw = _raw(column)
        last, done = None, 0
        while True:
            stmt = select(pk, raw).where(raw.is_not(None), raw != "").order_by(pk).limit(batch)
            if last is not None:
                stmt = stmt.where(pk > last)
            rows = session.execute(stmt).all()
            if not rows:
                break
            for key, value in rows:
                if fields.key_id_of(value) == active:
                    continue
                plaintext = fields.unseal(value, ring)
                outcome = session.execute(
                    table.update().where(and_(pk == key, raw == value))
                    .values({column.name: type_coerce(fields.seal(plaintext, ring), Text)}))
                done += outcome.rowcount
            session.commit()
            last = rows[-1][0]
        result.by_column[f"{table.name}.{column.name}"] = done
        result.values += done
    return result


def rotate(session, settings, batch=500):
    """Add a new active key of CRYPTO_SUITE to the ring file, then re-seal everything with it.
    Return (new ring, Resealed)."""
    path = settings.get("CRYPTO_KEY_FILE")
    if settings.get("CRYPTO_KEYS"):
        raise keyring.KeyRingError("the key ring comes from CRYPTO_KEYS: add a key there, or move the ring "
                                   "to CRYPTO_KEY_FILE to rotate it with govcloud")
    ring = keyring.load(settings, create=True)
    ring = ring.with_new_key(settings.get("CRYPTO_SUITE") or "international")
    keyring.write_file(ring, path)      # the new key is safe on disk before anything uses it
    keyring.configure(ring, settings.get("CRYPTO_SUITE"))
    return ring, reseal(session, ring, batch)


def retire(session, settings, key_id):
    """Drop key_id's secret from the ring file (its public signing keys stay); refused while it
    still seals a value."""
    if settings.get("CRYPTO_KEYS"):
        raise keyring.KeyRingError("the key ring comes from CRYPTO_KEYS: remove the key there")
    ring = keyring.load(settings)
    if ring is None:
        raise keyring.KeyRingError("no key ring to change")
    ring.key(key_id)
    if key_id == ring.active_id:
        raise keyring.KeyRingError(f"key {key_id} is the active key; rotate first")
    still = sum(counter[key_id] for counter in count_by_key(session).values())
    if still:
        raise keyring.KeyRingError(f"key {key_id} still seals {still} values: run `govcloud crypto rotate` first")
    ring = ring.without(key_id)
    keyring.write_file(ring, settings["CRYPTO_KEY_FILE"])
    keyring.configure(ring)
    return ring

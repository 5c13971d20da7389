"""`Idempotency-Key` on creating POSTs: the first answer is kept and replayed; nothing is created twice.

The key is claimed (a row with status 0, committed) before the call runs, so of two calls with one
key exactly one runs; the other is told 409 while the first runs and gets its answer afterwards.
A call refused with a 4xx or 5xx releases the key: nothing was created, the client may retry.
"""
import hashlib
import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..database import utcnow
from ..models.api import IdempotencyKey
from .errors import ApiError

KEY_RE = re.compile(r"[\x21-\x7e]{1,128}")


def claim(session, user, key, method, path, body):
    """Return the stored row to replay, or a new claimed row for the call to fill with finish()."""
    if not KEY_RE.fullmatch(key):
        raise ApiError(400, "invalid", "idempotency_key_invalid")
    digest = hashlib.sha256(body).hexdigest()
    for _ in range(2):
        row = session.scalar(select(IdempotencyKey).where(IdempotencyKey.user_id == user.id,
                                                          IdempotencyKey.key == key))
        if row is not None:
            if (row.method, row.path, row.body_sha256) != (method, path[:200], digest):
                raise ApiError(422, "idempotency_key_reused", "idempotency_key_reused")
            if row.status == 0:
                raise ApiError(409, "idempotency_key_busy", "idempotency_key_busy")
            return row
        row = IdempotencyKey(user_id=user.id, key=key, method=method, path=path[:200], body_sha256=digest,
                             status=0, created_at=utcnow())
        session.add(row)
        try:
            session.commit()
        except IntegrityError:  # another call claimed the key between the read and the insert
            session.rollback()
            continue
        return row
    raise ApiError(409, "idempotency_key_busy", "idempotency_key_busy")


def finish(session, row_id, status, body):
    """Keep a success's answer for replay; release the key after a failure."""
    session.rollback()  # whatever the failed call left open
    row = session.get(IdempotencyKey, row_id)
    if row is None:
        return
    if 200 <= status < 300:
        row.status, row.response = status, body
    else:
        session.delete(row)
    session.commit()

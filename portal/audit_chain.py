"""Tamper evidence for the audit log: a hash chain sealed at commit, and signed digests.

Every AuditEvent gets, in the transaction that writes it, a chain position `seq`, the
previous event's hash and its own hash over its canonical content (SHA-256). The chain head
lives in one row that is locked while sealing, so concurrent writers on PostgreSQL append in
a single order. Digests sign the head (HMAC-SHA256 with a key kept outside the database):
whoever rewrites the chain after a digest cannot re-sign it.
"""
import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import event, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .database import utcnow
from .models.audit import AuditChainHead, AuditDigest, AuditEvent

log = logging.getLogger(__name__)

GENESIS = "0" * 64
HASHED_FIELDS = ("id", "seq", "occurred_at", "actor_id", "actor_username", "actor_role",
                 "department_id", "action", "object_type", "object_id", "before", "after",
                 "outcome", "request_id", "remote_addr", "detail", "prev_hash")
_UNSEALED = "audit_unsealed"


def canonical(ev):
    """Return the bytes an event's hash covers: its fields as sorted, compact JSON."""
    data = {}
    for name in HASHED_FIELDS:
        value = getattr(ev, name)
        if isinstance(value, datetime):
            value = value.isoformat(timespec="microseconds")
        data[name] = value
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str).encode()


def hash_bytes(data):
    """The chain's hash function (SHA-256), hex: events, archive files. One place to swap it."""
    return hashlib.sha256(data).hexdigest()


def event_hash(ev):
    return hash_bytes(canonical(ev))


def track(session, ev):
    """Hold ev (not yet in session) to be inserted, already sealed, when session commits.

    Events are never inserted unsealed and never updated: the database refuses UPDATE of
    audit_event rows (portal/audit_guard.py). An event recorded inside a savepoint that is rolled
    back is dropped with it.
    """
    if not session.in_transaction():
        session.begin()  # so that a rollback before any SQL still drops ev
    session.info.setdefault(_UNSEALED, []).append((ev, session.get_nested_transaction()))


@event.listens_for(Session, "before_commit")
def _seal_on_commit(session):
    pending = session.info.pop(_UNSEALED, None)
    if pending:
        seal(session, [ev for ev, _tx in pending])


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session, previous_transaction):
    if not previous_transaction.nested:
        session.info.pop(_UNSEALED, None)
        return
    pending = session.info.get(_UNSEALED)
    if pending:
        pending[:] = [(ev, tx) for ev, tx in pending if not _within(tx, previous_transaction)]


def _within(tx, ancestor):
    while tx is not None:
        if tx is ancestor:
            return True
        tx = tx.parent
    return False


def _lock_head(session):
    query = select(AuditChainHead).where(AuditChainHead.id == 1).with_for_update()
    head = session.execute(query).scalar_one_or_none()
    if head is None:  # an empty log (migrations create the row; tests may delete it)
        try:
            with session.begin_nested():
                session.add(AuditChainHead(id=1, seq=0, hash=GENESIS))
        except IntegrityError:
            pass  # a concurrent writer created it first
        head = session.execute(query).scalar_one()
    return head


def _allocate_ids(session, n):
    """Return n new audit_event ids (the hash covers the id, so it is known before the INSERT)."""
    if session.get_bind().dialect.name == "postgresql":
        return sorted(session.execute(text(
            "SELECT nextval(pg_get_serial_sequence('audit_event', 'id')) FROM generate_series(1, :n)"),
            {"n": n}).scalars())
    # SQLite: one writer at a time holds the database; rowids follow the largest
    last = session.execute(select(func.coalesce(func.max(AuditEvent.id), 0))).scalar_one()
    return list(range(last + 1, last + 1 + n))


def _apply_defaults(ev):
    for column in AuditEvent.__table__.columns:
        if getattr(ev, column.key) is None and column.default is not None and column.default.is_scalar:
            setattr(ev, column.key, column.default.arg)
    if ev.occurred_at is None:
        ev.occurred_at = utcnow()


def seal(session, events):
    """Insert events with their chain positions and hashes, in order, under the head's lock,
    then move the head forward (the only UPDATE the audit tables allow)."""
    events = [ev for ev in events if ev not in session and ev.seq is None]
    if not events:
        return
    session.flush()
    head = _lock_head(session)
    seq, prev = head.seq, head.hash
    for ev, event_id in zip(events, _allocate_ids(session, len(events))):
        _apply_defaults(ev)
        ev.id = event_id
        seq += 1
        ev.seq, ev.prev_hash = seq, prev
        ev.hash = prev = event_hash(ev)
    session.add_all(events)
    session.flush()  # the events first: the head may only point at an event that exists
    head.seq, head.hash = seq, prev
    session.flush()


def load_key(config, create=False):
    """Return the HMAC key: AUDIT_HMAC_KEY, else the file AUDIT_KEY_FILE (made when create)."""
    if config.get("AUDIT_HMAC_KEY"):
        return config["AUDIT_HMAC_KEY"].encode()
    path = config.get("AUDIT_KEY_FILE")
    if not path:
        return None
    if not os.path.exists(path):
        if not create:
            return None
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        log.warning("created a new audit key in %s: keep a copy outside this machine", path)
    with open(path) as f:
        return f.read().strip().encode()


# --- digests --------------------------------------------------------------------------------

def _signature(key, seq, chain_hash, created_at):
    msg = f"{seq}|{chain_hash}|{created_at.isoformat(timespec='microseconds')}".encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def write_digest(session, key):
    """Sign the current chain head and store the digest; return it (None if the log is empty)."""
    head = _lock_head(session)
    if head.seq == 0:
        return None
    created_at = utcnow()
    digest = AuditDigest(created_at=created_at, seq=head.seq, hash=head.hash,
                         signature=_signature(key, head.seq, head.hash, created_at))
    session.add(digest)
    session.flush()
    return digest


# --- verification ---------------------------------------------------------------------------

@dataclass
class Problem:
    kind: str       # altered | deleted | inserted | reordered | digest
    seq: int | None
    event_id: int | None
    message: str


@dataclass
class Report:
    events: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    digests: int = 0
    problems: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.problems


def verify(session, key=None, *, since=None, until=None, batch=5000):
    """Walk the chain (or the part of it between two times) and report every break found."""
    report = Report()
    stmt = select(AuditEvent).where(AuditEvent.seq.is_not(None)).order_by(AuditEvent.seq)
    if since is not None:
        stmt = stmt.where(AuditEvent.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(AuditEvent.occurred_at < until)
    prev_seq, prev_hash = None, None
    hashes_at = {}
    digests = list(session.execute(select(AuditDigest).order_by(AuditDigest.seq)).scalars())
    wanted = {d.seq for d in digests}
    for ev in session.execute(stmt.execution_options(yield_per=batch)).scalars():
        if prev_seq is None:
            prev_seq, prev_hash = _predecessor(session, ev.seq)
        if ev.seq != prev_seq + 1:
            report.problems.append(Problem(
                "deleted", prev_seq + 1, None,
                f"events {prev_seq + 1}..{ev.seq - 1} are missing before event id {ev.id}"))
        elif ev.prev_hash != prev_hash:
            report.problems.append(Problem(
                "inserted", ev.seq, ev.id,
                f"event id {ev.id} (seq {ev.seq}) does not follow the previous event's hash"))
        if event_hash(ev) != ev.hash:
            report.problems.append(Problem(
                "altered", ev.seq, ev.id,
                f"event id {ev.id} (seq {ev.seq}) was changed after it was written"))
        if ev.seq in wanted:
            hashes_at[ev.seq] = ev.hash
        report.events += 1
        report.first_seq = report.first_seq or ev.seq
        report.last_seq = ev.seq
        prev_seq, prev_hash = ev.seq, ev.hash
        session.expunge(ev)
    if since is None and until is None:
        unsealed = session.execute(
            select(AuditEvent.id).where(AuditEvent.seq.is_(None)).order_by(AuditEvent.id)
        ).scalars().all()
        for event_id in unsealed:
            report.problems.append(Problem(
                "inserted", None, event_id, f"event id {event_id} is not part of the chain"))
        head = session.get(AuditChainHead, 1)
        if head is not None and report.last_seq is not None and head.seq != report.last_seq:
            report.problems.append(Problem(
                "deleted", report.last_seq + 1, None,
                f"the chain head is at {head.seq} but the last event is {report.last_seq}"))
    if key is not None:
        for d in digests:
            if d.seq not in hashes_at and not (report.first_seq or 0) <= d.seq <= (
                    report.last_seq or 0):
                continue  # outside the verified range
            report.digests += 1
            if not hmac.compare_digest(d.signature,
                                       _signature(key, d.seq, d.hash, d.created_at)):
                report.problems.append(Problem(
                    "digest", d.seq, None, f"digest {d.id} at seq {d.seq} has a bad signature"))
            elif hashes_at.get(d.seq) != d.hash:
                report.problems.append(Problem(
                    "digest", d.seq, None,
                    f"the chain at seq {d.seq} no longer matches digest {d.id} signed "
                    f"{d.created_at:%Y-%m-%d %H:%M:%S} UTC"))
    report.problems.sort(key=lambda p: (p.seq is None, p.seq or 0, p.event_id or 0))
    return report


def _predecessor(session, seq):
    """Return (seq, hash) of the event just before seq, or the genesis."""
    if seq <= 1:
        return 0, GENESIS
    prev = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.seq < seq)
        .order_by(AuditEvent.seq.desc()).limit(1)).first()
    return (prev.seq, prev.hash) if prev else (0, GENESIS)

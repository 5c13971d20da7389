"""Tamper evidence for the audit log: a hash chain sealed at commit, and signed digests.

Every AuditEvent gets, in the transaction that writes it, a chain position `seq`, the
previous event's hash and its own hash over its canonical content (SHA-256, or SM3 when
CRYPTO_SUITE is sm; hash_alg records which). The chain head lives in one row that is locked
while sealing, so concurrent writers on PostgreSQL append in a single order. Digests sign the
head (HMAC-SHA256 with a key kept outside the database, or SM2 with the key ring's active key;
algorithm and key_id record which): whoever rewrites the chain after a digest cannot re-sign it.
"""
import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .crypto import signing
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


def event_hash(ev):
    return signing.chain_hash(getattr(ev, "hash_alg", None), canonical(ev))


def track(session, ev):
    """Mark ev to be sealed into the chain when session commits."""
    session.info.setdefault(_UNSEALED, []).append(ev)


@event.listens_for(Session, "before_commit")
def _seal_on_commit(session):
    pending = session.info.pop(_UNSEALED, None)
    if pending:
        seal(session, pending)


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session, previous_transaction):
    if not previous_transaction.nested:  # a savepoint's events are dropped by seal()
        session.info.pop(_UNSEALED, None)


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


def seal(session, events):
    """Give events their chain positions and hashes, in order, under the head's lock."""
    session.flush()  # ids and defaults (occurred_at) are part of the hash
    events = [ev for ev in events if ev in session and ev.seq is None]
    if not events:
        return
    head = _lock_head(session)
    for ev in events:
        ev.seq = head.seq + 1
        ev.prev_hash = head.hash
        ev.hash_alg = signing.chain_hash_algorithm()
        ev.hash = event_hash(ev)
        head.seq, head.hash = ev.seq, ev.hash
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

def _message(seq, chain_hash, created_at):
    return f"{seq}|{chain_hash}|{created_at.isoformat(timespec='microseconds')}".encode()


def write_digest(session, key):
    """Sign the current chain head and store the digest; return it (None if the log is empty)."""
    head = _lock_head(session)
    if head.seq == 0:
        return None
    created_at = utcnow()
    algorithm, key_id, signature = signing.sign_digest(key, _message(head.seq, head.hash, created_at))
    digest = AuditDigest(created_at=created_at, seq=head.seq, hash=head.hash, signature=signature,
                         algorithm=algorithm, key_id=key_id)
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
    # HMAC digests are checked with key (skipped without it), SM2 ones with the key ring
    for d in digests:
        if d.seq not in hashes_at and not (report.first_seq or 0) <= d.seq <= (
                report.last_seq or 0):
            continue  # outside the verified range
        signed = signing.verify_digest(key, d.algorithm, d.key_id,
                                       _message(d.seq, d.hash, d.created_at), d.signature)
        if signed is None:
            continue  # an HMAC digest and no audit key given
        report.digests += 1
        if not signed:
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


def algorithms_used(session):
    """({hash algorithm: events}, {signature algorithm: digests}): a chain that mixes suites says so."""
    hashes = session.execute(select(AuditEvent.hash_alg, func.count()).where(AuditEvent.seq.is_not(None))
                             .group_by(AuditEvent.hash_alg)).all()
    signatures = session.execute(select(AuditDigest.algorithm, func.count()).group_by(AuditDigest.algorithm)).all()
    return ({(a or signing.LEGACY_HASH): n for a, n in hashes},
            {(a or signing.LEGACY_SIGNATURE): n for a, n in signatures})

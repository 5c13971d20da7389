"""Tamper evidence for the audit log: a hash chain sealed at commit, and signed digests.

Every AuditEvent gets, in the transaction that writes it, a chain position `seq`, the
previous event's hash and its own hash over its canonical content (SHA-256, or SM3 when
CRYPTO_SUITE is sm; hash_alg records which). The chain head lives in one row that is locked
while sealing, so concurrent writers on PostgreSQL append in a single order. Digests sign the
head (HMAC-SHA256 with a key kept outside the database, or SM2 with the key ring's active key;
algorithm and key_id record which): whoever rewrites the chain after a digest cannot re-sign it.
"""
import hashlib
import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import event, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .crypto import signing
from .database import utcnow
from .models.audit import AuditArchive, AuditChainHead, AuditDigest, AuditEvent

log = logging.getLogger(__name__)

GENESIS = "0" * 64
HASHED_FIELDS = ("id", "seq", "occurred_at", "actor_id", "actor_username", "actor_role",
                 "department_id", "action", "object_type", "object_id", "before", "after",
                 "outcome", "request_id", "remote_addr", "detail", "prev_hash")
_UNSEALED = "audit_unsealed"
_DROPPED = "audit_dropped"  # events whose transaction rolled back: the request hook records them failed
_MAX_DROPPED = 100


def canonical_fields(ev):
    """Return the fields an event's hash covers, as JSON-ready values."""
    data = {}
    for name in HASHED_FIELDS:
        value = getattr(ev, name)
        if isinstance(value, datetime):
            value = value.isoformat(timespec="microseconds")
        data[name] = value
    return data


def canonical_json(data):
    """Sorted, compact JSON bytes: what hashes cover."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str).encode()


def canonical(ev):
    """Return the bytes an event's hash covers: its fields as sorted, compact JSON."""
    return canonical_json(canonical_fields(ev))


def new_hasher():
    """The hash of archive files (SHA-256, named in the signed manifest): update() and hexdigest()."""
    return hashlib.sha256()


def chain_hash_of(algorithm, fields):
    """The hash of an event's canonical fields (a dict) with its recorded algorithm (None: SHA-256)."""
    return signing.chain_hash(algorithm, canonical_json(fields))


def event_hash(ev):
    return signing.chain_hash(getattr(ev, "hash_alg", None), canonical(ev))


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
        pending = session.info.pop(_UNSEALED, None)
        if pending:
            dropped = session.info.setdefault(_DROPPED, [])
            dropped.extend(ev for ev, _tx in pending[:_MAX_DROPPED - len(dropped)])
        return
    pending = session.info.get(_UNSEALED)
    if pending:
        pending[:] = [(ev, tx) for ev, tx in pending if not _within(tx, previous_transaction)]


def take_unwritten(session):
    """Return, and forget, the events recorded in session that were rolled back or are still
    uncommitted (the operation that wrote them failed)."""
    pending = [ev for ev, _tx in session.info.pop(_UNSEALED, [])]
    return session.info.pop(_DROPPED, []) + pending


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
    algorithm = signing.chain_hash_algorithm()
    for ev, event_id in zip(events, _allocate_ids(session, len(events))):
        _apply_defaults(ev)
        ev.id = event_id
        seq += 1
        ev.seq, ev.prev_hash, ev.hash_alg = seq, prev, algorithm
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

def sign(key, message):
    """The one signing primitive of digests and archive manifests under CRYPTO_SUITE: return
    (algorithm, key id, hex signature): HMAC-SHA256 with the audit key, or SM2 with the key ring."""
    return signing.sign_digest(key, message)


def signature_ok(key, message, signature, algorithm=None, key_id=None):
    """True when signature (of algorithm, by key_id) is good; False also when it cannot be checked."""
    return signing.verify_digest(key, algorithm, key_id, message, signature) is True


def _digest_message(seq, chain_hash, created_at):
    return f"{seq}|{chain_hash}|{created_at.isoformat(timespec='microseconds')}".encode()


def write_digest(session, key):
    """Sign the current chain head and store the digest; return it (None if the log is empty).

    The caller commits, then hands the digest to publish_digest() (outside the database)."""
    head = _lock_head(session)
    if head.seq == 0:
        return None
    created_at = utcnow()
    algorithm, key_id, signature = sign(key, _digest_message(head.seq, head.hash, created_at))
    digest = AuditDigest(created_at=created_at, seq=head.seq, hash=head.hash, signature=signature,
                         algorithm=algorithm, key_id=key_id)
    session.add(digest)
    session.flush()
    return digest


def digest_line(digest):
    """The digest as one JSON line (the external file's and syslog's format)."""
    return json.dumps({"digest": digest.id, "created_at": digest.created_at.isoformat(timespec="microseconds"),
                       "seq": digest.seq, "hash": digest.hash, "signature": digest.signature,
                       "algorithm": digest.algorithm, "key_id": digest.key_id},
                      sort_keys=True, separators=(",", ":"))


def publish_digest(digest, config):
    """Append a committed digest outside the database: the file AUDIT_DIGEST_FILE (opened
    O_APPEND, fsynced) and, when set, syslog AUDIT_DIGEST_SYSLOG. A file that cannot be written
    raises; a syslog that does not answer is logged (the file has the digest)."""
    line = digest_line(digest)
    path = config.get("AUDIT_DIGEST_FILE")
    if path:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
    target = config.get("AUDIT_DIGEST_SYSLOG") or ""
    if target:
        _to_syslog(target, line)


def _to_syslog(target, line):
    from logging.handlers import SysLogHandler
    if target.startswith("/"):
        address = target
    else:
        host, _, port = target.rpartition(":")
        address = (host, int(port))
    try:
        handler = SysLogHandler(address=address, facility=SysLogHandler.LOG_AUTHPRIV)
    except OSError as exc:
        log.error("audit digest not sent to syslog %s: %s", target, exc)
        return
    try:
        handler.emit(logging.LogRecord("govcloud.audit", logging.INFO, __file__, 0,
                                       "govcloud-audit-digest %s", (line,), None))
    finally:
        handler.close()


def sign_and_publish(session, config):
    """Write a digest of the chain head with the configured key, commit, and publish it."""
    digest = write_digest(session, load_key(config, create=True))
    session.commit()
    if digest is not None:
        publish_digest(digest, config)
    return digest


@dataclass(frozen=True)
class ExternalDigest:
    """A digest read back from the external file."""

    line: int
    seq: int
    hash: str
    created_at: datetime
    signature: str
    algorithm: str | None = None  # None: HMAC-SHA256
    key_id: str | None = None


def read_digest_file(path):
    """Return the digests of an external digest file; a malformed line raises ValueError."""
    digests = []
    with open(path, encoding="utf-8") as f:
        for number, text_line in enumerate(f, 1):
            if not text_line.strip():
                continue
            try:
                data = json.loads(text_line)
                digests.append(ExternalDigest(number, int(data["seq"]), str(data["hash"]),
                                              datetime.fromisoformat(data["created_at"]),
                                              str(data["signature"]), data.get("algorithm"),
                                              data.get("key_id")))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path} line {number} is not a digest ({exc})") from None
    return digests


# --- verification ---------------------------------------------------------------------------

@dataclass
class Problem:
    kind: str       # altered | deleted | inserted | reordered | digest | archive
    seq: int | None
    event_id: int | None
    message: str


@dataclass
class Report:
    events: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    digests: int = 0
    external_digests: int = 0
    archives: int = 0
    problems: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.problems


def verify(session, key=None, *, since=None, until=None, external=(), batch=5000):
    """Walk the chain (or the part of it between two times) and report every break found.

    With key, the signed digests are checked: the database's and `external` ones (read from the
    digest file by read_digest_file), which an intruder who rewrites rows and digests in the
    database cannot reach; and the records of archives purged from the start of the chain."""
    report = Report()
    external = list(external)
    stmt = select(AuditEvent).where(AuditEvent.seq.is_not(None)).order_by(AuditEvent.seq)
    if since is not None:
        stmt = stmt.where(AuditEvent.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(AuditEvent.occurred_at < until)
    prev_seq, prev_hash = None, None
    hashes_at = {}
    digests = list(session.execute(select(AuditDigest).order_by(AuditDigest.seq)).scalars())
    wanted = {d.seq for d in digests} | {d.seq for d in external}
    for ev in session.execute(stmt.execution_options(yield_per=batch)).scalars():
        if prev_seq is None:
            prev_seq, prev_hash = predecessor(session, ev.seq)
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
    whole = since is None and until is None
    # HMAC digests and archives are checked with key (skipped without it), SM2 ones with the key ring
    for d in digests:
        _check_digest(report, key, hashes_at, whole, d, f"digest {d.id}")
    for d in external:
        _check_digest(report, key, hashes_at, whole, d, f"external digest (line {d.line})", external=True)
    for a in session.execute(select(AuditArchive).order_by(AuditArchive.first_seq)).scalars():
        signed = signing.verify_digest(key, a.algorithm, a.key_id, archive_message(a), a.signature)
        if signed is None:
            continue
        report.archives += 1
        if not signed:
            report.problems.append(Problem(
                "archive", a.first_seq, None,
                f"archive record {a.id} (seq {a.first_seq}..{a.last_seq}) has a bad signature"))
    report.problems.sort(key=lambda p: (p.seq is None, p.seq or 0, p.event_id or 0))
    return report


def _check_digest(report, key, hashes_at, whole, d, name, external=False):
    """Check digest d (a database or an external one) against the chain walked into report."""
    if d.seq not in hashes_at and not (report.first_seq or 0) <= d.seq <= (report.last_seq or 0):
        if not (whole and d.seq > (report.last_seq or 0)):
            return  # outside the verified range (or archived and purged)
        report.problems.append(Problem(
            "deleted", d.seq, None, f"{name} signed seq {d.seq} but the chain ends at {report.last_seq or 0}"))
        return
    signed = signing.verify_digest(key, d.algorithm, d.key_id, _digest_message(d.seq, d.hash, d.created_at),
                                   d.signature)
    if signed is None:
        return  # an HMAC digest and no audit key given
    if external:
        report.external_digests += 1
    else:
        report.digests += 1
    if not signed:
        report.problems.append(Problem("digest", d.seq, None, f"{name} at seq {d.seq} has a bad signature"))
    elif hashes_at.get(d.seq) != d.hash:
        report.problems.append(Problem(
            "digest", d.seq, None,
            f"the chain at seq {d.seq} no longer matches {name} signed {d.created_at:%Y-%m-%d %H:%M:%S} UTC"))


def archive_message(a):
    """What an archive's manifest signs: its file, the chain positions and hashes at both ends."""
    return (f"govcloud-audit-archive/1|{a.name}|{a.first_seq}|{a.last_seq}|{a.first_prev_hash}|"
            f"{a.last_hash}|{a.count}|{a.file_sha256}").encode()


def predecessor(session, seq):
    """Return (seq, hash) of the event just before seq, else of the end of the archive purged
    just before it, else the genesis."""
    if seq <= 1:
        return 0, GENESIS
    prev = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.seq < seq)
        .order_by(AuditEvent.seq.desc()).limit(1)).first()
    archived = session.execute(
        select(AuditArchive.last_seq, AuditArchive.last_hash).where(AuditArchive.last_seq < seq)
        .order_by(AuditArchive.last_seq.desc()).limit(1)).first()
    if archived and (prev is None or archived.last_seq > prev.seq):
        return archived.last_seq, archived.last_hash
    return (prev.seq, prev.hash) if prev else (0, GENESIS)


def algorithms_used(session):
    """({hash algorithm: events}, {signature algorithm: digests}): a chain that mixes suites says so."""
    hashes = session.execute(select(AuditEvent.hash_alg, func.count()).where(AuditEvent.seq.is_not(None))
                             .group_by(AuditEvent.hash_alg)).all()
    signatures = session.execute(select(AuditDigest.algorithm, func.count()).group_by(AuditDigest.algorithm)).all()
    return ({(a or signing.LEGACY_HASH): n for a, n in hashes},
            {(a or signing.LEGACY_SIGNATURE): n for a, n in signatures})

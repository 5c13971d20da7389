"""Retention of the audit log (网络安全法 第二十一条: six months at least).

The oldest events are first written to a signed archive: a file of JSON lines (each event's hashed
fields and its hash) and a manifest signed with the audit key, naming the file's hash, the count
and the chain hashes at both ends. A purge then removes only events that such an archive holds,
after verifying it, and only when they are older than AUDIT_RETENTION_DAYS; the database trigger
checks the age and the archive again (portal/audit_guard.py). The chain left continues from the
archive's last hash, so `govcloud audit verify` still passes.
"""
import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from . import audit_chain, audit_guard
from .database import utcnow
from .models.audit import AuditArchive, AuditEvent

FORMAT = "govcloud-audit-archive/1"
MANIFEST_SUFFIX = ".manifest.json"


class RetentionError(Exception):
    """The archive or purge was refused; nothing was removed."""


@dataclass
class Manifest:
    name: str
    first_seq: int
    last_seq: int
    first_prev_hash: str
    last_hash: str
    count: int
    file_sha256: str
    before: str
    created_at: str
    signature: str = ""
    algorithm: str | None = None  # of the signature (None: hmac-sha256)
    key_id: str | None = None
    format: str = FORMAT


def _line(data):
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"


def archive(session, key, before, out_dir):
    """Write the events at the start of the chain that occurred before `before` (an aware
    datetime) to a signed archive in out_dir; return (data path, manifest path, Manifest)."""
    first = session.execute(select(func.min(AuditEvent.seq))).scalar()
    if first is None:
        raise RetentionError("the audit log is empty")
    stop = session.execute(select(func.min(AuditEvent.seq)).where(AuditEvent.occurred_at >= before)).scalar()
    stmt = select(AuditEvent).where(AuditEvent.seq.is_not(None)).order_by(AuditEvent.seq)
    if stop is not None:
        stmt = stmt.where(AuditEvent.seq < stop)
    _seq, first_prev_hash = audit_chain.predecessor(session, first)
    os.makedirs(out_dir, exist_ok=True)
    tmp = os.path.join(out_dir, f".audit-archive-{os.getpid()}.partial")
    hasher = audit_chain.new_hasher()
    count, last_seq, last_hash = 0, None, None
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            for ev in session.execute(stmt.execution_options(yield_per=2000)).scalars():
                data = (_line({**audit_chain.canonical_fields(ev), "hash": ev.hash,
                               "hash_alg": ev.hash_alg})).encode()
                out.write(data)
                hasher.update(data)
                count, last_seq, last_hash = count + 1, ev.seq, ev.hash
                session.expunge(ev)
            out.flush()
            os.fsync(out.fileno())
        if not count:
            raise RetentionError(f"no event occurred before {before:%Y-%m-%d}")
        name = f"audit-{first:012d}-{last_seq:012d}.jsonl"
        data_path = os.path.join(out_dir, name)
        if os.path.exists(data_path):
            raise RetentionError(f"{data_path} exists already")
        os.rename(tmp, data_path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    manifest = Manifest(name=name, first_seq=first, last_seq=last_seq, first_prev_hash=first_prev_hash,
                        last_hash=last_hash, count=count, file_sha256=hasher.hexdigest(),
                        before=before.isoformat(), created_at=utcnow().isoformat())
    manifest.algorithm, manifest.key_id, manifest.signature = audit_chain.sign(
        key, audit_chain.archive_message(manifest))
    manifest_path = data_path[:-len(".jsonl")] + MANIFEST_SUFFIX
    fd = os.open(manifest_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(_line(asdict(manifest)))
    return data_path, manifest_path, manifest


def _paths(path):
    """(data file, manifest) of an archive named by either."""
    if path.endswith(MANIFEST_SUFFIX):
        return path[:-len(MANIFEST_SUFFIX)] + ".jsonl", path
    base = path[:-len(".jsonl")] if path.endswith(".jsonl") else path
    return base + ".jsonl", base + MANIFEST_SUFFIX


def verify_archive(path, key):
    """Check an archive against its signed manifest and its own chain.

    Return (Manifest or None, {seq: hash} of its events, problems as sentences; none: intact)."""
    data_path, manifest_path = _paths(path)
    try:
        with open(manifest_path, encoding="utf-8") as f:
            manifest = Manifest(**json.load(f))
        int(manifest.first_seq), int(manifest.last_seq), int(manifest.count)
    except (OSError, ValueError, TypeError) as exc:
        return None, {}, [f"manifest {manifest_path} cannot be read ({exc})"]
    problems = []
    if manifest.format != FORMAT:
        problems.append(f"unknown archive format {manifest.format!r}")
    if not audit_chain.signature_ok(key, audit_chain.archive_message(manifest), manifest.signature,
                                    manifest.algorithm, manifest.key_id):
        problems.append("the manifest's signature is bad (altered, or signed with another key)")
    hashes, hasher = {}, audit_chain.new_hasher()
    expected_seq, prev_hash = manifest.first_seq, manifest.first_prev_hash
    try:
        with open(data_path, "rb") as f:
            for number, raw in enumerate(f, 1):
                hasher.update(raw)
                try:
                    record = json.loads(raw)
                    claimed = record.pop("hash")
                    hash_alg = record.pop("hash_alg", None)
                    seq = record["seq"]
                except (ValueError, KeyError, TypeError, AttributeError):
                    problems.append(f"line {number} is not an archived event")
                    continue
                if seq != expected_seq:
                    problems.append(f"line {number}: seq {seq} where {expected_seq} was expected")
                if record.get("prev_hash") != prev_hash:
                    problems.append(f"line {number} (seq {seq}) does not follow the previous event's hash")
                if audit_chain.chain_hash_of(hash_alg, record) != claimed:
                    problems.append(f"line {number} (seq {seq}) was changed after it was archived")
                hashes[seq] = claimed
                expected_seq, prev_hash = seq + 1, claimed
    except OSError as exc:
        return manifest, {}, problems + [f"archive file {data_path} cannot be read ({exc})"]
    if hasher.hexdigest() != manifest.file_sha256:
        problems.append("the archive file's hash differs from the manifest's")
    if len(hashes) != manifest.count or expected_seq - 1 != manifest.last_seq or prev_hash != manifest.last_hash:
        problems.append(f"the archive holds {len(hashes)} events ending at seq {expected_seq - 1}; the "
                        f"manifest says {manifest.count} ending at seq {manifest.last_seq}")
    return manifest, hashes, problems


def purge(session, key, archive_path, before, retention_days, now=None):
    """Delete the events of a verified archive that occurred before `before`; refuse (nothing
    deleted) when `before` is within the retention, the archive does not verify, or it does not
    hold exactly the events at the start of the chain. session must be the owner's."""
    now = now or utcnow()
    retention_days = max(retention_days, audit_guard.RETENTION_FLOOR_DAYS)
    limit = now - timedelta(days=retention_days)
    if before > limit:
        raise RetentionError(f"events younger than {retention_days} days cannot be removed "
                             f"(网络安全法 第二十一条): the date must be on or before {limit:%Y-%m-%d}")
    manifest, hashes, problems = verify_archive(archive_path, key)
    if problems:
        raise RetentionError("the archive does not verify: " + "; ".join(problems[:5]))
    first = session.execute(select(func.min(AuditEvent.seq))).scalar()
    if first != manifest.first_seq:
        raise RetentionError(f"the archive starts at seq {manifest.first_seq}, the log at {first}")
    if audit_chain.predecessor(session, first)[1] != manifest.first_prev_hash:
        raise RetentionError("the archive does not continue the chain left by earlier purges")
    in_range = select(AuditEvent.seq, AuditEvent.hash, AuditEvent.occurred_at).where(
        AuditEvent.seq.between(manifest.first_seq, manifest.last_seq)).order_by(AuditEvent.seq)
    rows = 0
    for row in session.execute(in_range):
        rows += 1
        if hashes.get(row.seq) != row.hash:
            raise RetentionError(f"event seq {row.seq} in the database differs from the archive")
        if row.occurred_at >= before:
            raise RetentionError(f"event seq {row.seq} occurred {row.occurred_at:%Y-%m-%d}, not before "
                                 f"{before:%Y-%m-%d}: archive only older events")
    if rows != manifest.count:
        raise RetentionError(f"the database holds {rows} of the archive's {manifest.count} events")
    session.add(AuditArchive(name=manifest.name, first_seq=manifest.first_seq, last_seq=manifest.last_seq,
                             first_prev_hash=manifest.first_prev_hash, last_hash=manifest.last_hash,
                             count=manifest.count, file_sha256=manifest.file_sha256,
                             signature=manifest.signature, algorithm=manifest.algorithm,
                             key_id=manifest.key_id, created_at=now))
    session.flush()
    conn = session.connection()
    audit_guard.allow_purge(conn)
    try:
        deleted = session.execute(delete(AuditEvent).where(
            AuditEvent.seq.between(manifest.first_seq, manifest.last_seq)),
            execution_options={"synchronize_session": False}).rowcount
    finally:
        audit_guard.end_purge(conn)
    if deleted != manifest.count:
        raise RetentionError(f"{deleted} events deleted where {manifest.count} were expected")
    return manifest


def parse_day(text):
    """A --before date (YYYY-MM-DD) as the first moment of that day in UTC."""
    from datetime import timezone
    return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)

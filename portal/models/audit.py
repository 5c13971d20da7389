"""The audit log (操作日志): events, the hash chain's head, signed digests."""
from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..database import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    """One line of the 操作日志: who did what to which object, with before/after."""

    __tablename__ = "audit_event"
    __table_args__ = (
        CheckConstraint("outcome IN ('success', 'failure', 'denied')", name="outcome"),
        Index("ix_audit_event_object", "object_type", "object_id"),
        # the audit search by object or actor alone, and a department's events of a period (the
        # export, the home page) without reading the whole log (issue 21: 2,000,000 events)
        Index("ix_audit_event_object_id", "object_id"),
        Index("ix_audit_event_actor_username", "actor_username"),
        Index("ix_audit_event_department_id_occurred_at", "department_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # actor columns are copies, so the log survives renamed or deleted users
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    actor_username: Mapped[str] = mapped_column(String(64), default="")
    actor_role: Mapped[str] = mapped_column(String(16), default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(64), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(16), default="success")
    request_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    remote_addr: Mapped[str] = mapped_column(String(64), default="", index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    # the hash chain (portal/audit_chain.py): set when the writing transaction commits
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    hash_alg: Mapped[str | None] = mapped_column(String(16))  # sha256 | sm3 (NULL: sha256)

    __scope_column__ = "department_id"


class AuditChainHead(Base):
    """The newest link of the audit chain; its row lock orders concurrent appends."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class AuditDigest(Base):
    """A signed record of the chain head at one moment (HMAC key kept outside the database, or an
    SM2 key of the key ring)."""

    __tablename__ = "audit_digest"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(256))
    algorithm: Mapped[str | None] = mapped_column(String(16))  # hmac-sha256 | sm2-sm3 (NULL: hmac-sha256)
    key_id: Mapped[str | None] = mapped_column(String(40))     # the key ring's key of an SM2 signature


class AuditArchive(Base):
    """A verified, signed archive of the oldest events (seq first_seq..last_seq), written before
    the retention purge removed them; the chain continues from last_hash."""

    __tablename__ = "audit_archive"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    name: Mapped[str] = mapped_column(String(255))
    first_seq: Mapped[int] = mapped_column(BigInteger, index=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, index=True)
    first_prev_hash: Mapped[str] = mapped_column(String(64))
    last_hash: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer)
    file_sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(255))
    algorithm: Mapped[str | None] = mapped_column(String(16))  # of the signature (NULL: hmac-sha256)
    key_id: Mapped[str | None] = mapped_column(String(40))

"""What the JSON API keeps besides the domains' own rows: the answers of idempotent calls."""
from datetime import datetime, timedelta

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..database import Base, UTCDateTime, utcnow


IDEMPOTENCY_KEEP = timedelta(hours=24)  # a key is replayed for a day, then pruned (scheduler: prune_history)


class IdempotencyKey(Base):
    """A creating POST sent with `Idempotency-Key`: its first answer, replayed for the same key.

    A row with status 0 is a call still running (a second call with the key gets 409); a call that
    fails with a 4xx removes its row, so the client may retry with the same key.
    """

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_key_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(128))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(200))
    body_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer, default=0)
    response: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

"""Server-side login sessions (issue 16): the cookie carries a random id, the table its SHA-256.

A session ends at logout, after SESSION_IDLE_MINUTES without a request, SESSION_ABSOLUTE_HOURS
after its login, and when its user's password changes or the account is disabled. last_seen_at
is written at most every SEEN_EVERY, not at each request.
"""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import joinedload

from ..database import utcnow
from ..models.accounts import UserSession

SEEN_EVERY = timedelta(seconds=60)
MAX_ID_LENGTH = 128  # a longer cookie value is not one of ours
KEEP_ENDED = timedelta(days=1)  # ended sessions stay this long (who was logged in when), then go


@dataclass(frozen=True)
class SessionPolicy:
    idle_minutes: int = 30
    absolute_hours: int = 8
    single_per_user: bool = False

    @classmethod
    def from_config(cls, config):
        return cls(config["SESSION_IDLE_MINUTES"], config["SESSION_ABSOLUTE_HOURS"],
                   config["SESSION_SINGLE_PER_USER"])


def id_hash(raw_id):
    return hashlib.sha256(raw_id.encode()).hexdigest()


def start(session, user, policy, *, remote_addr="", user_agent="", now=None):
    """Add a new session of user and return its random id (for the cookie); the caller commits.
    With single_per_user, the user's other sessions end."""
    now = now or utcnow()
    if policy.single_per_user:
        revoke_all(session, user.id, "single_session", now=now)
    raw_id = secrets.token_urlsafe(32)
    session.add(UserSession(id_hash=id_hash(raw_id), user_id=user.id, created_at=now, last_seen_at=now,
                            expires_at=now + timedelta(hours=policy.absolute_hours),
                            remote_addr=(remote_addr or "")[:64], user_agent=(user_agent or "")[:200]))
    return raw_id


def _end(row, reason, now):
    row.revoked_at = now
    row.revoked_reason = reason


def load(session, raw_id, policy, now=None):
    """Return the live session of raw_id, or None; a session found idle or over its lifetime is
    ended (and committed). Commits the throttled last_seen_at."""
    if not raw_id or not isinstance(raw_id, str) or len(raw_id) > MAX_ID_LENGTH:
        return None
    # the session and its user in one round trip (every page starts here)
    row = session.scalars(select(UserSession).where(UserSession.id_hash == id_hash(raw_id))
                          .options(joinedload(UserSession.user))).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    now = now or utcnow()
    reason = ""
    if now >= row.expires_at:
        reason = "expired"
    elif now - row.last_seen_at >= timedelta(minutes=policy.idle_minutes):
        reason = "idle"
    if reason:
        _end(row, reason, now)
        session.commit()
        return None
    if now - row.last_seen_at >= SEEN_EVERY:
        row.last_seen_at = now
        session.commit()
    return row


def revoke(session, raw_id, reason, now=None):
    """End the session of raw_id (if live); the caller commits."""
    if not raw_id or len(raw_id) > MAX_ID_LENGTH:
        return 0
    return session.execute(update(UserSession).where(
        UserSession.id_hash == id_hash(raw_id), UserSession.revoked_at.is_(None)).values(
        revoked_at=now or utcnow(), revoked_reason=reason)).rowcount


def revoke_all(session, user_id, reason, now=None):
    """End every live session of user_id; return how many; the caller commits."""
    return session.execute(update(UserSession).where(
        UserSession.user_id == user_id, UserSession.revoked_at.is_(None)).values(
        revoked_at=now or utcnow(), revoked_reason=reason)).rowcount


def live_count(session, user_id, now=None):
    now = now or utcnow()
    return len(session.scalars(select(UserSession.id).where(
        UserSession.user_id == user_id, UserSession.revoked_at.is_(None),
        UserSession.expires_at > now)).all())


def prune(session, now=None):
    """Delete sessions over their lifetime, and ended ones older than KEEP_ENDED; return how many."""
    now = now or utcnow()
    return session.execute(delete(UserSession).where(or_(
        UserSession.expires_at < now - KEEP_ENDED,
        UserSession.revoked_at < now - KEEP_ENDED))).rowcount

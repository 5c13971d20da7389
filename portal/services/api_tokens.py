"""Personal API tokens: create (shown once), list, revoke, authenticate. Only a SHA-256 is stored."""
import hashlib
import secrets

from sqlalchemy import select

from ..database import utcnow
from ..errors import NotFound, ValidationFailed
from ..models.accounts import User
from ..models.requests import ApiToken
from ..text import _l
from .audit import record_event

PREFIX = "gct_"


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session, ctx, user, name):
    """Create a token for user; return (row, plaintext) — the plaintext is never stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_l("This field is required."), field="name")
    plaintext = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name[:64], prefix=plaintext[:10], token_hash=_hash(plaintext))
    session.add(token)
    session.flush()
    record_event(session, ctx, "api_token.create", object_type="api_token", object_id=token.id,
                 department_id=user.department_id, after={"name": token.name, "user": user.username})
    session.commit()
    return token, plaintext


def list_tokens(session, user):
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))


def revoke_token(session, ctx, user, token_id):
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(_l("Token"), token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record_event(session, ctx, "api_token.revoke", object_type="api_token", object_id=token.id,
                     department_id=user.department_id, after={"name": token.name})
    session.commit()
    return token


def authenticate(session, plaintext):
    """Return the active user of a valid, unrevoked token, or None."""
    if not plaintext or not plaintext.startswith(PREFIX):
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(plaintext)))
    if token is None or token.revoked_at is not None:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.is_active_account:
        return None
    token.last_used_at = utcnow()
    session.commit()
    return user

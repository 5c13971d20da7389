"""Personal API tokens: create (shown once), list, revoke, authenticate. Only a SHA-256 is stored.

A token expires (at most a year after it is created) and has a scope: `read` allows only
GET/HEAD/OPTIONS, `write` every method the user's role allows.
"""
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import joinedload

from ..database import utcnow
from ..errors import Forbidden, NotFound, ValidationFailed
from ..models.accounts import Role, User
from ..models.requests import TOKEN_SCOPES, ApiToken
from ..text import _l
from .audit import record_event

PREFIX = "gct_"
MAX_DAYS = 365
DEFAULT_DAYS = 90
NAME_MAX = 64
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CHALLENGE = 'Bearer realm="govcloud"'
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def _check_name(name):
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_l("This field is required."), field="name")
    if len(name) > NAME_MAX:
        raise ValidationFailed(_l("Enter between %(min)d and %(max)d characters.", min=1, max=NAME_MAX),
                               field="name")
    if _CONTROL.search(name):
        raise ValidationFailed(_l("The text contains control characters."), field="name")
    return name


def _check_expiry(now, expires_at, days):
    if (expires_at is None) == (days is None):
        raise ValidationFailed(_l("Choose when the token expires."), field="expires_on")
    if days is not None:
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
            raise ValidationFailed(_l("A token is valid for 1 to %(max)d days.", max=MAX_DAYS), field="expires_on")
        return now + timedelta(days=days)
    if not isinstance(expires_at, datetime) or expires_at.tzinfo is None:
        raise ValidationFailed(_l("Choose when the token expires."), field="expires_on")
    if expires_at <= now:
        raise ValidationFailed(_l("The expiry date must be in the future."), field="expires_on")
    if expires_at > now + timedelta(days=MAX_DAYS):
        raise ValidationFailed(_l("A token is valid for at most one year."), field="expires_on")
    return expires_at


def create_token(session, ctx, user, name, *, scope, expires_at=None, days=None):
    """Create a token for user; return (row, plaintext) — the plaintext is never stored.

    Give either expires_at (aware, in the future, at most MAX_DAYS ahead) or days (1..MAX_DAYS);
    scope is "read" or "write". Invalid input raises ValidationFailed and stores nothing.
    """
    now = utcnow()
    name = _check_name(name)
    if scope not in TOKEN_SCOPES:
        raise ValidationFailed(_l("Choose read-only or read-write."), field="scope")
    expires_at = _check_expiry(now, expires_at, days)
    plaintext = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, prefix=plaintext[:10], token_hash=_hash(plaintext),
                     created_at=now, expires_at=expires_at, scope=scope)
    session.add(token)
    session.flush()
    record_event(session, ctx, "api_token.create", object_type="api_token", object_id=token.id,
                 department_id=user.department_id,
                 after={"name": token.name, "user": user.username, "scope": scope,
                        "expires_at": expires_at.isoformat()})
    session.commit()
    return token, plaintext


def token_state(token, now=None):
    """Return "revoked", "expired" or "active"."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at <= (now or utcnow()):
        return "expired"
    return "active"


def list_tokens(session, user):
    """Return user's own tokens, newest first."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))


def list_all_tokens(session, viewer):
    """Return every user's tokens with their owners (admins only), newest first."""
    if viewer.role != Role.ADMIN:
        raise Forbidden()
    return list(session.execute(select(ApiToken, User).join(User, ApiToken.user_id == User.id)
                                .order_by(ApiToken.id.desc())))


def revoke_token(session, ctx, user, token_id):
    """Revoke a token of user; an admin may revoke anyone's. Revoking twice changes nothing."""
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != user.id and user.role != Role.ADMIN):
        raise NotFound(_l("Token"), token_id)
    if token.revoked_at is None:
        owner = session.get(User, token.user_id)
        token.revoked_at = utcnow()
        record_event(session, ctx, "api_token.revoke", object_type="api_token", object_id=token.id,
                     department_id=owner.department_id,
                     after={"name": token.name, "user": owner.username})
    session.commit()
    return token


@dataclass(frozen=True)
class TokenUse:
    """An accepted token and its user."""

    user: User
    token: ApiToken

    def allows(self, method):
        return self.token.scope == "write" or method.upper() in READ_METHODS


@dataclass(frozen=True)
class Refusal:
    """Why a request's token is not accepted: the HTTP status, a stable code, a message and the
    WWW-Authenticate challenge to send with a 401 ("" otherwise)."""

    status: int
    code: str
    message: object
    challenge: str = ""


def bearer_token(authorization):
    """Return the token of an `Authorization: Bearer <token>` header value, or ""."""
    authorization = authorization or ""
    return authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""


def _refuse_use(session, ctx, token, user, why):
    record_event(session, ctx, "api_token.refused", object_type="api_token", object_id=token.id,
                 department_id=user.department_id if user else None, outcome="failure", actor=user,
                 detail=why)
    session.commit()


USE_GRANULARITY = timedelta(seconds=15)  # last use is kept to within this, from the same address


def _record_use(session, ctx, token, user, now):
    """Store the time and address of this use; audit it when it is the token's first use in this
    minute (UTC clock minute). The conditional UPDATE makes one writer win per minute even across
    processes, so a busy client costs at most one audit event per token per minute."""
    minute = now.replace(second=0, microsecond=0)
    addr = (ctx.remote_addr or "")[:64]
    if (token.last_used_at is not None and token.last_used_addr == addr and token.last_used_at >= minute
            and now - token.last_used_at < USE_GRANULARITY):
        return  # used from here moments ago, this minute's use already audited: no write per call
    first_this_minute = session.execute(
        update(ApiToken).where(ApiToken.id == token.id,
                               or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < minute))
        .values(last_used_at=now, last_used_addr=addr)
        .execution_options(synchronize_session=False)).rowcount == 1
    if first_this_minute:
        record_event(session, ctx, "api_token.use", object_type="api_token", object_id=token.id,
                     department_id=user.department_id, actor=user, detail=token.name)
    else:
        session.execute(update(ApiToken).where(ApiToken.id == token.id)
                        .values(last_used_at=now, last_used_addr=addr)
                        .execution_options(synchronize_session=False))
    session.commit()


def authenticate(session, ctx, plaintext):
    """Return TokenUse for a valid token, else a Refusal (401).

    Every accepted use stores last_used_at/last_used_addr. Audit: `api_token.use` for the first use
    and then at most once per token per minute (a client calling many times a minute writes one
    event a minute, not one per call); `api_token.refused` (outcome failure) for every use of a
    revoked or expired token or of a disabled account's token. Unknown tokens are not audited (no
    owner to attribute them to). Commits.
    """
    if not plaintext:
        return Refusal(401, "unauthorized",
                       _l("A valid API token is required (Authorization: Bearer <token>)."), CHALLENGE)
    invalid = CHALLENGE + ', error="invalid_token"'
    token = None
    if plaintext.startswith(PREFIX):
        # the token and its user in one round trip (every API call starts here)
        token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(plaintext))
                               .options(joinedload(ApiToken.user)))
    if token is None:
        return Refusal(401, "unauthorized", _l("The API token is not valid."), invalid)
    now = utcnow()
    user = session.get(User, token.user_id)
    state = token_state(token, now)
    if state != "active":
        _refuse_use(session, ctx, token, user, state)
        message = _l("The API token was revoked.") if state == "revoked" else _l("The API token has expired.")
        return Refusal(401, "unauthorized", message, invalid)
    if user is None or not user.is_active_account:
        _refuse_use(session, ctx, token, user, "account disabled")
        return Refusal(401, "unauthorized", _l("The API token is not valid."), invalid)
    _record_use(session, ctx, token, user, now)
    return TokenUse(user=user, token=token)


def authorize_request(session, ctx, authorization, method):
    """Check an API request's Authorization header for method: TokenUse, or a Refusal (401, or 403
    with code insufficient_scope for a read-only token on a method that writes)."""
    result = authenticate(session, ctx, bearer_token(authorization))
    if isinstance(result, TokenUse) and not result.allows(method):
        return Refusal(403, "insufficient_scope", _l("This token is read-only."))
    return result

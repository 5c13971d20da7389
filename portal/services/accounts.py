"""Log in, lock out, rate limit and change passwords."""
import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from ..text import _l
from sqlalchemy import func, select

from ..database import utcnow
from ..errors import AccountLocked, AuthenticationFailed, RateLimited, ValidationFailed
from ..models.accounts import User, new_session_token
from ..models.audit import AuditEvent
from .audit import record_event

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    lockout_minutes: int = 15
    rate_limit: int = 30
    rate_window_minutes: int = 10
    password_min_length: int = 10

    @classmethod
    def from_config(cls, config):
        return cls(config["LOGIN_MAX_FAILURES"], config["LOGIN_LOCKOUT_MINUTES"],
                   config["LOGIN_RATE_LIMIT"], config["LOGIN_RATE_WINDOW_MINUTES"],
                   config["PASSWORD_MIN_LENGTH"])


def find_user_by_session_token(session, token):
    """Return the active user whose current session token is token, or None."""
    if not token:
        return None
    return session.scalars(select(User).where(User.session_token == token)).one_or_none()


def _failed_from_address(session, remote_addr, since):
    return session.scalar(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "auth.login_failed",
            AuditEvent.remote_addr == remote_addr,
            AuditEvent.occurred_at >= since,
        ))


def authenticate(session, ctx, username, password, *, policy, passwords):
    """Return the user for username/password, or raise; every outcome is audited and committed."""
    now = utcnow()
    username = (username or "").strip()
    since = now - timedelta(minutes=policy.rate_window_minutes)
    if ctx.remote_addr and _failed_from_address(session, ctx.remote_addr, since) >= policy.rate_limit:
        record_event(session, ctx, "auth.login_rate_limited", object_type="user", object_id=username,
                     outcome="denied")
        session.commit()
        log.warning("login rate limit hit", extra={"request_id": ctx.correlation_id})
        raise RateLimited()

    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None:
        passwords.verify_dummy(password)
        record_event(session, ctx, "auth.login_failed", object_type="user", object_id=username,
                     outcome="failure", detail="unknown user")
        session.commit()
        raise AuthenticationFailed()

    if user.locked_until is not None and user.locked_until > now:
        record_event(session, ctx, "auth.login_locked", object_type="user", object_id=user.id,
                     department_id=user.department_id, outcome="denied", actor=user)
        session.commit()
        raise AccountLocked(user.locked_until)

    if not passwords.verify(user.password_hash, password):
        _count_failure(session, ctx, user, policy, now)
        raise AuthenticationFailed()

    if not user.is_active_account:
        record_event(session, ctx, "auth.login_failed", object_type="user", object_id=user.id,
                     department_id=user.department_id, outcome="failure", actor=user,
                     detail="account disabled")
        session.commit()
        raise AuthenticationFailed()

    user.failed_login_count = 0
    user.locked_until = None
    user.previous_login_at = user.last_login_at
    user.last_login_at = now
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash(password)
    record_event(session, ctx, "auth.login", object_type="user", object_id=user.id,
                 department_id=user.department_id, actor=user)
    session.commit()
    return user


def _count_failure(session, ctx, user, policy, now, what=""):
    """Audit a wrong password of user and count it; lock the account (raise AccountLocked) at the
    limit. Commits."""
    user.failed_login_count += 1
    record_event(session, ctx, "auth.login_failed", object_type="user", object_id=user.id,
                 department_id=user.department_id, outcome="failure", actor=user,
                 detail=f"{what}failure {user.failed_login_count} of {policy.max_failures}")
    if user.failed_login_count >= policy.max_failures:
        user.locked_until = now + timedelta(minutes=policy.lockout_minutes)
        user.failed_login_count = 0
        record_event(session, ctx, "auth.lockout", object_type="user", object_id=user.id,
                     department_id=user.department_id, outcome="denied", actor=user,
                     after={"locked_until": user.locked_until.isoformat()})
        session.commit()
        raise AccountLocked(user.locked_until)
    session.commit()


def reauthenticate(session, ctx, user, password, *, policy, passwords, purpose):
    """Check the password of the logged-in user before a sensitive action (purpose, e.g. "api token").

    A wrong password counts as a failed login (audited, and the account locks at the same limit);
    it raises ValidationFailed on the `password` field, or AccountLocked. A correct one resets the
    count and changes nothing else (the caller commits its own action).
    """
    now = utcnow()
    if user.locked_until is not None and user.locked_until > now:
        raise AccountLocked(user.locked_until)
    if not passwords.verify(user.password_hash, password or ""):
        _count_failure(session, ctx, user, policy, now, what=f"re-authentication for {purpose}: ")
        raise ValidationFailed(_l("The password is wrong."), field="password")
    user.failed_login_count = 0


def record_logout(session, ctx, user):
    """Audit a logout."""
    record_event(session, ctx, "auth.logout", object_type="user", object_id=user.id,
                 department_id=user.department_id, actor=user)
    session.commit()


_LETTER = re.compile(r"[A-Za-z]")
_DIGIT = re.compile(r"\d")


def check_password_strength(password, policy, username="", field="new_password"):
    """Raise ValidationFailed when password is too weak."""
    if len(password or "") < policy.password_min_length:
        raise ValidationFailed(_l("The password must have at least %(n)d characters.",
                                  n=policy.password_min_length), field=field)
    if not (_LETTER.search(password) and _DIGIT.search(password)):
        raise ValidationFailed(_l("The password must contain letters and digits."), field=field)
    if username and username.lower() in password.lower():
        raise ValidationFailed(_l("The password must not contain the username."), field=field)


def change_password(session, ctx, user, current_password, new_password, *, policy, passwords):
    """Change user's password after checking the current one; rotates the session token."""
    if not passwords.verify(user.password_hash, current_password):
        record_event(session, ctx, "auth.password_change", object_type="user", object_id=user.id,
                     department_id=user.department_id, outcome="failure", detail="wrong current password")
        session.commit()
        raise ValidationFailed(_l("The current password is wrong."), field="current_password")
    if current_password == new_password:
        raise ValidationFailed(_l("The new password must differ from the current one."),
                               field="new_password")
    check_password_strength(new_password, policy, user.username)
    user.password_hash = passwords.hash(new_password)
    user.password_changed_at = utcnow()
    user.session_token = new_session_token()
    record_event(session, ctx, "auth.password_change", object_type="user", object_id=user.id,
                 department_id=user.department_id)
    session.commit()
    return user

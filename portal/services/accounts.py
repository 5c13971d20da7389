"""Log in, lock out, rate limit and change passwords."""
import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from ..text import _l
from sqlalchemy import delete, func, select

from ..database import utcnow
from ..errors import AccountLocked, AuthenticationFailed, RateLimited, ValidationFailed
from ..models.accounts import PasswordHistory, User
from ..models.audit import AuditEvent
from . import second_factor, sessions
from .audit import record_event

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    lockout_minutes: int = 15
    rate_limit: int = 30
    rate_window_minutes: int = 10
    password_min_length: int = 10
    password_history: int = 5
    password_max_age_days: int = 90  # 0: passwords do not expire
    totp_required_roles: tuple = ()

    @classmethod
    def from_config(cls, config):
        return cls(config["LOGIN_MAX_FAILURES"], config["LOGIN_LOCKOUT_MINUTES"],
                   config["LOGIN_RATE_LIMIT"], config["LOGIN_RATE_WINDOW_MINUTES"],
                   config["PASSWORD_MIN_LENGTH"], config["PASSWORD_HISTORY"],
                   config["PASSWORD_MAX_AGE_DAYS"], tuple(config["TOTP_REQUIRED_ROLES"]))


def load_session_user(session, raw_id, policy, now=None):
    """Return the active user of the live server-side session raw_id (get_id() answers raw_id), or
    None: the login page."""
    row = sessions.load(session, raw_id, policy, now)
    if row is None or not row.user.is_active_account:
        return None
    row.user.current_session_id = raw_id
    return row.user


def find_user(session, user_id):
    """Return the user of id user_id (an int), or None."""
    return session.get(User, user_id) if isinstance(user_id, int) else None


def password_expired(user, policy, now=None):
    if not policy.password_max_age_days:
        return False
    changed = user.password_changed_at or user.created_at
    return changed is not None and (now or utcnow()) >= changed + timedelta(days=policy.password_max_age_days)


def pending_step(user, policy, now=None):
    """What user must do before anything else: "password" (forced or expired change), "totp"
    (a second factor required and not set up), or None."""
    if user.must_change_password or password_expired(user, policy, now):
        return "password"
    if not user.totp_enabled and second_factor.required_for(user, policy.totp_required_roles):
        return "totp"
    return None


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

    # a locked account answers as an unknown user or a wrong password does (same message, a
    # password check all the same): the login page never tells whether a username exists
    if user.locked_until is not None and user.locked_until > now:
        passwords.verify_dummy(password)
        record_event(session, ctx, "auth.login_locked", object_type="user", object_id=user.id,
                     department_id=user.department_id, outcome="denied", actor=user)
        session.commit()
        raise AuthenticationFailed()

    if not passwords.verify(user.password_hash, password):
        try:
            _count_failure(session, ctx, user, policy, now)
        except AccountLocked:
            raise AuthenticationFailed() from None
        raise AuthenticationFailed()

    if not user.is_active_account:
        record_event(session, ctx, "auth.login_failed", object_type="user", object_id=user.id,
                     department_id=user.department_id, outcome="failure", actor=user,
                     detail="account disabled")
        session.commit()
        raise AuthenticationFailed()

    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash(password)
    if user.totp_enabled:
        # the failure count is reset only when the second factor passes too
        record_event(session, ctx, "auth.login_password_ok", object_type="user", object_id=user.id,
                     department_id=user.department_id, actor=user, detail="second factor follows")
    session.commit()
    return user


def complete_login(session, ctx, user, session_policy, *, user_agent="", method="password"):
    """The user passed every factor: reset the failure count, note the login's time and address,
    start a server-side session (audited, committed); return its random id for the cookie."""
    now = utcnow()
    user.failed_login_count = 0
    user.locked_until = None
    user.previous_login_at = user.last_login_at
    user.previous_login_addr = user.last_login_addr or ""
    user.last_login_at = now
    user.last_login_addr = (ctx.remote_addr or "")[:64]
    raw_id = sessions.start(session, user, session_policy, remote_addr=ctx.remote_addr,
                            user_agent=user_agent, now=now)
    record_event(session, ctx, "auth.login", object_type="user", object_id=user.id,
                 department_id=user.department_id, actor=user,
                 detail="" if method == "password" else f"second factor: {method}")
    session.commit()
    return raw_id


def new_session(session, ctx, user, session_policy, *, user_agent=""):
    """Start a new server-side session for a user already logged in whose sessions just ended (a
    password change); committed. Return its random id."""
    raw_id = sessions.start(session, user, session_policy, remote_addr=ctx.remote_addr, user_agent=user_agent)
    session.commit()
    return raw_id


def verify_second_factor(session, ctx, user, code, *, policy):
    """Check the second step of a login: a TOTP code or an unused recovery code. Return the method
    ("totp" or "recovery"); a wrong code counts as a failed login (lockout) and raises
    ValidationFailed on `code`, or AccountLocked."""
    now = utcnow()
    if user.locked_until is not None and user.locked_until > now:
        raise AccountLocked(user.locked_until)
    if not user.is_active_account:
        raise AuthenticationFailed()
    method = second_factor.check(session, user, code, now)
    if method is None:
        _count_failure(session, ctx, user, policy, now, what="second factor: ")
        raise ValidationFailed(_l("The code is wrong or has already been used."), field="code")
    return method


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
    """End the user's current server-side session and audit the logout."""
    sessions.revoke(session, user.current_session_id, "logout")
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


def check_history(session, user, new_password, policy, passwords, field="new_password"):
    """Raise ValidationFailed when new_password is one of user's last policy.password_history
    passwords (the current one included)."""
    olds = session.scalars(select(PasswordHistory.password_hash).where(PasswordHistory.user_id == user.id)
                           .order_by(PasswordHistory.created_at.desc(), PasswordHistory.id.desc())
                           .limit(max(policy.password_history - 1, 0))).all()
    for old in [user.password_hash, *olds]:
        if passwords.verify(old, new_password):
            raise ValidationFailed(_l("The new password must differ from your last %(n)d passwords.",
                                      n=policy.password_history), field=field)


def set_password(session, user, new_password, *, passwords, keep, must_change=False, now=None):
    """Replace user's password (the old hash kept in the history, of which the newest keep - 1
    stay), end all the user's sessions; the caller audits and commits."""
    now = now or utcnow()
    session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash, created_at=now))
    session.flush()
    stale = session.scalars(select(PasswordHistory.id).where(PasswordHistory.user_id == user.id)
                            .order_by(PasswordHistory.created_at.desc(), PasswordHistory.id.desc())
                            .offset(max(keep - 1, 1))).all()
    if stale:
        session.execute(delete(PasswordHistory).where(PasswordHistory.id.in_(stale)))
    user.password_hash = passwords.hash(new_password)
    user.password_changed_at = now
    user.must_change_password = must_change
    sessions.revoke_all(session, user.id, "password_change" if not must_change else "password_reset", now)


def change_password(session, ctx, user, current_password, new_password, *, policy, passwords):
    """Change user's password after checking the current one; ends every session of the user (the
    caller starts a new one for the changing session)."""
    if not passwords.verify(user.password_hash, current_password):
        record_event(session, ctx, "auth.password_change", object_type="user", object_id=user.id,
                     department_id=user.department_id, outcome="failure", detail="wrong current password")
        session.commit()
        raise ValidationFailed(_l("The current password is wrong."), field="current_password")
    if current_password == new_password:
        raise ValidationFailed(_l("The new password must differ from the current one."),
                               field="new_password")
    check_password_strength(new_password, policy, user.username)
    check_history(session, user, new_password, policy, passwords)
    forced = user.must_change_password or password_expired(user, policy)
    set_password(session, user, new_password, passwords=passwords, keep=policy.password_history)
    record_event(session, ctx, "auth.password_change", object_type="user", object_id=user.id,
                 department_id=user.department_id, detail="forced" if forced else "")
    session.commit()
    return user


def disable_unused(session, ctx, max_idle_days, now=None):
    """Disable active accounts without a login for max_idle_days (counted from the last login, the
    creation or the last re-enabling, whichever is newest); each audited. Return how many."""
    if not max_idle_days:
        return 0
    now = now or utcnow()
    cutoff = now - timedelta(days=max_idle_days)
    disabled = 0
    for user in session.scalars(select(User).where(User.is_active_account.is_(True)).order_by(User.id)).all():
        seen = max(t for t in (user.last_login_at, user.created_at, user.enabled_at) if t is not None)
        if seen >= cutoff:
            continue
        user.is_active_account = False
        sessions.revoke_all(session, user.id, "account_disabled", now)
        record_event(session, ctx, "user.disable_unused", object_type="user", object_id=user.id,
                     department_id=user.department_id, before={"is_active_account": True},
                     after={"is_active_account": False},
                     detail=f"no login since {seen.isoformat()} ({max_idle_days} days)")
        disabled += 1
    session.commit()
    return disabled

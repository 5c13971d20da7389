"""The second factor (issue 16): TOTP (RFC 6238, pyotp) with one-time recovery codes.

The secret is kept in User.totp_secret_sealed (sealed at rest by the crypto suite's column type);
a code is accepted once: the newest time step used is remembered and older or equal steps are
refused (no replay). Recovery codes are random, kept as SHA-256, each usable once.
"""
import hashlib
import hmac
import re
import secrets

import pyotp
import segno
from sqlalchemy import delete, select

from ..database import utcnow
from ..errors import ValidationFailed
from ..models.accounts import RecoveryCode
from ..text import _l
from .audit import record_event

RECOVERY_CODES = 10
VALID_WINDOW = 1  # steps of 30 s either side of now accepted (clock drift)
_CODE = re.compile(r"^\d{6}$")
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def required_for(user, required_roles):
    """Return True when user's role must use a second factor (TOTP_REQUIRED_ROLES)."""
    return user.role in set(required_roles or ())


def start_enrolment(session, user):
    """Give user a new secret, not yet active (the caller commits); return it."""
    if user.totp_enabled_at is not None:
        raise ValidationFailed(_l("The second factor is already set up."))
    user.totp_secret_sealed = pyotp.random_base32()
    user.totp_last_step = None
    return user.totp_secret_sealed


def provisioning_uri(user, issuer):
    return pyotp.TOTP(user.totp_secret_sealed).provisioning_uri(name=user.username, issuer_name=issuer)


def qr_data_uri(uri):
    """An SVG QR code of uri as a data: URI, drawn here (the CSP allows data: images)."""
    return segno.make(uri, error="m").svg_data_uri(scale=4, border=2)


def _matching_step(secret, code, last_step, now):
    """Return the time step whose code is code (newer than last_step), or None."""
    if not _CODE.match(code or ""):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def confirm_enrolment(session, ctx, user, code, now=None):
    """Activate the pending secret when code matches; return the new recovery codes (shown once).
    Commits. A wrong code raises ValidationFailed and changes nothing."""
    if user.totp_enabled_at is not None or not user.totp_secret_sealed:
        raise ValidationFailed(_l("Start the set-up again."), field="code")
    now = now or utcnow()
    step = _matching_step(user.totp_secret_sealed, (code or "").strip(), None, now)
    if step is None:
        raise ValidationFailed(_l("The code is wrong or has expired."), field="code")
    user.totp_enabled_at = now
    user.totp_last_step = step
    codes = _new_recovery_codes(session, user, now)
    record_event(session, ctx, "auth.totp_enrol", object_type="user", object_id=user.id,
                 department_id=user.department_id, actor=user)
    session.commit()
    return codes


def _hash_code(code):
    return hashlib.sha256(code.encode()).hexdigest()


def _normalize_recovery(code):
    return re.sub(r"[\s-]", "", (code or "").lower())


def _new_recovery_codes(session, user, now):
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _i in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _j in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(RecoveryCode(user_id=user.id, code_hash=_hash_code(raw), created_at=now))
    return codes


def regenerate_recovery_codes(session, ctx, user, now=None):
    """Replace user's recovery codes with new ones; return them (shown once). Commits."""
    if user.totp_enabled_at is None:
        raise ValidationFailed(_l("Set up the second factor first."))
    codes = _new_recovery_codes(session, user, now or utcnow())
    record_event(session, ctx, "auth.totp_recovery_codes", object_type="user", object_id=user.id,
                 department_id=user.department_id, actor=user)
    session.commit()
    return codes


def unused_recovery_codes(session, user):
    return len(session.scalars(select(RecoveryCode.id).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).all())


def check(session, user, code, now=None):
    """Return "totp" or "recovery" when code is a valid, unused code of user (and spend it), or
    None. The caller audits and commits."""
    now = now or utcnow()
    code = (code or "").strip()
    if user.totp_enabled_at is None or not user.totp_secret_sealed:
        return None
    step = _matching_step(user.totp_secret_sealed, code, user.totp_last_step, now)
    if step is not None:
        user.totp_last_step = step
        return "totp"
    normalized = _normalize_recovery(code)
    if len(normalized) != 10:
        return None
    row = session.scalars(select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash_code(normalized),
        RecoveryCode.used_at.is_(None))).one_or_none()
    if row is None:
        return None
    row.used_at = now
    return "recovery"


def reset(session, ctx, user):
    """Remove user's second factor (an administrator's action; the user enrols again). Commits."""
    had = user.totp_enabled_at is not None
    user.totp_secret_sealed = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    record_event(session, ctx, "user.totp_reset", object_type="user", object_id=user.id,
                 department_id=user.department_id, before={"totp_enabled": had},
                 after={"totp_enabled": False})
    session.commit()

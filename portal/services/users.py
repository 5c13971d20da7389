"""User accounts: admins manage everyone, a department admin manages its department's members."""
from ..text import _l
from sqlalchemy import func, or_, select

from ..database import utcnow
from ..errors import Conflict, Forbidden, ValidationFailed
from ..models.accounts import Department, Role, User, new_session_token
from ..pagination import paginate
from ..scoping import get_scoped, scoped
from . import second_factor, sessions
from .accounts import check_password_strength, set_password
from .audit import record_event


def can_manage_users(user):
    """Return True when user may list and edit accounts."""
    return user.role == Role.ADMIN or user.is_dept_admin


def _require_manager(actor):
    if not can_manage_users(actor):
        raise Forbidden()


def list_users(session, user, *, q="", role="", department_id=None, page=1, per_page=20):
    """Return one page of the accounts user may see."""
    stmt = scoped(select(User), user)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(User.username.ilike(like), User.full_name.ilike(like)))
    if role:
        stmt = stmt.where(User.role == role)
    if department_id:
        stmt = stmt.where(User.department_id == department_id)
    return paginate(session, stmt.order_by(User.username), page, per_page)


def get_user(session, actor, user_id):
    """Return an account actor may see, or raise NotFound."""
    return get_scoped(session, User, user_id, actor, kind=_l("User"))


def _normalize(session, actor, data, user=None):
    if actor.role != Role.ADMIN:
        # a department admin only ever manages department users of its own department
        data["role"] = Role.DEPARTMENT
        data["department_id"] = actor.department_id
    role = data.get("role")
    if role not in set(Role):
        raise ValidationFailed(_l("Choose a valid role."), field="role")
    if role == Role.DEPARTMENT:
        if not data.get("department_id") or session.get(Department, data["department_id"]) is None:
            raise ValidationFailed(_l("A department user needs a department."), field="department_id")
    else:
        data["department_id"] = None
        data["is_department_admin"] = False
    stmt = select(User.id).where(User.username == data["username"])
    if user is not None:
        stmt = stmt.where(User.id != user.id)
    if session.scalar(stmt) is not None:
        raise Conflict(_l("This username is already taken."), field="username")
    return data


def create_user(session, ctx, data, password, *, policy, passwords):
    """Create an account; the caller shows the password to the person once."""
    actor = ctx.actor
    if actor is not None:
        _require_manager(actor)
        data = _normalize(session, actor, dict(data))
    else:  # command line: trusted operator
        data = _normalize(session, _Operator(), dict(data))
    check_password_strength(password, policy, data["username"], field="password")
    user = User(username=data["username"], full_name=data.get("full_name", ""),
                email=data.get("email", ""), phone=data.get("phone", ""), role=data["role"],
                department_id=data.get("department_id"),
                is_department_admin=bool(data.get("is_department_admin")),
                is_active_account=data.get("is_active_account", True),
                password_hash=passwords.hash(password), password_changed_at=utcnow(),
                must_change_password=True)  # the person changes it at the first login
    session.add(user)
    session.flush()
    record_event(session, ctx, "user.create", object_type="user", object_id=user.id,
                 department_id=user.department_id, after=user.snapshot())
    session.commit()
    return user


def update_user(session, ctx, user_id, data, *, new_password="", unlock=False, policy, passwords):
    """Change an account's fields; optionally set a new password and lift a lockout."""
    actor = ctx.actor
    _require_manager(actor)
    user = get_user(session, actor, user_id)
    data = _normalize(session, actor, dict(data), user)
    if user.id == actor.id and (data["role"] != user.role or not data.get("is_active_account", True)
                                or (user.is_department_admin and not data.get("is_department_admin"))):
        raise ValidationFailed(_l("You cannot remove your own role or disable your own account."),
                               field="role")
    before = user.snapshot()
    was_active = user.is_active_account
    for field in ("username", "full_name", "email", "phone", "role", "department_id",
                  "is_department_admin", "is_active_account"):
        if field in data:
            setattr(user, field, data[field])
    if not user.is_active_account:
        user.session_token = new_session_token()
        sessions.revoke_all(session, user.id, "account_disabled")
    elif not was_active:
        user.enabled_at = utcnow()  # re-enabled: the unused-account clock starts again
    if new_password:
        check_password_strength(new_password, policy, user.username, field="new_password")
        set_password(session, user, new_password, passwords=passwords, keep=policy.password_history,
                     must_change=True)
    if unlock:
        user.locked_until = None
        user.failed_login_count = 0
    after = user.snapshot()
    after["password_reset"] = bool(new_password)
    after["unlocked"] = bool(unlock)
    record_event(session, ctx, "user.update", object_type="user", object_id=user.id,
                 department_id=user.department_id, before=before, after=after)
    session.commit()
    return user


def reset_second_factor(session, ctx, user_id):
    """Remove a user's second factor (audited); the user sets it up again at the next login."""
    actor = ctx.actor
    _require_manager(actor)
    user = get_user(session, actor, user_id)
    second_factor.reset(session, ctx, user)
    return user


def count_users(session, user):
    """Return how many accounts user may see."""
    return session.scalar(select(func.count()).select_from(scoped(select(User), user).subquery()))


class _Operator:
    """The command-line operator: may create any account."""

    role = Role.ADMIN
    department_id = None
    is_dept_admin = False

"""User accounts, with the duties of 三权分立 kept apart.

The system administrator (admin) manages the accounts of departments, the bureau and the vendor; a
department admin its department's members; the security administrator (security) alone grants and
revokes the roles admin, security and auditor, changes anyone's role (never his own), unlocks
accounts, enables or disables administrators' accounts, and edits their profile and resets their
password (update_profile). At least one active account of each of the three administrator roles is
always kept; nobody resets his own password without the current one (that is /password). A refusal
raises Forbidden (403) and changes nothing.
"""
from ..text import _l
from sqlalchemy import func, or_, select

from ..database import utcnow
from ..errors import Conflict, Forbidden, ValidationFailed
from ..models.accounts import ADMINISTRATORS, BUSINESS_ROLES, ROLE_LABELS, Department, Role, User
from ..pagination import paginate
from ..scoping import get_scoped, scoped
from . import second_factor, sessions
from .accounts import check_password_strength, set_password
from .audit import record_event


def can_manage_users(user):
    """Return True when user may create accounts (of the roles creatable_roles names)."""
    return user.role in (Role.ADMIN, Role.SECURITY) or user.is_dept_admin


def creatable_roles(user):
    """Return the roles of the accounts user may create (and, for the admin, assign)."""
    if user.role == Role.ADMIN:
        return BUSINESS_ROLES
    if user.role == Role.SECURITY:
        return ADMINISTRATORS
    if user.is_dept_admin:
        return (Role.DEPARTMENT,)
    return ()


def may_edit(actor, user):
    """Return True when actor may edit user's account on the edit page (admins: business roles only)."""
    if actor.role == Role.ADMIN:
        return user.role in BUSINESS_ROLES
    return actor.is_dept_admin and user.department_id == actor.department_id


def may_edit_profile(actor, user):
    """Return True when actor may edit user's profile and reset its password on the profile page:
    the security administrator, for the system, security and audit administrators but himself."""
    return actor.role == Role.SECURITY and user.role in ADMINISTRATORS and user.id != actor.id


def may_assign_role(actor, user):
    """Return True when actor may change user's role, unlock it or enable it (the security
    administrator, for anyone but himself)."""
    return actor.role == Role.SECURITY and user.id != actor.id


def count_locked(session, user):
    """Return how many accounts user may see are locked out now."""
    stmt = scoped(select(User), user).where(User.locked_until > utcnow())
    return session.scalar(select(func.count()).select_from(stmt.subquery()))


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
    if actor.role not in (Role.ADMIN, Role.SECURITY, _OPERATOR):
        # a department admin only ever manages department users of its own department
        data["role"] = Role.DEPARTMENT
        data["department_id"] = actor.department_id
    role = data.get("role")
    if role not in set(Role):
        raise ValidationFailed(_l("Choose a valid role."), field="role")
    if actor.role != _OPERATOR and role not in creatable_roles(actor):
        raise Forbidden(refusal(actor))
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
    if not may_edit(actor, user):
        raise Forbidden(refusal(actor))
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
        sessions.revoke_all(session, user.id, "account_disabled")
    elif not was_active:
        user.enabled_at = utcnow()  # re-enabled: the unused-account clock starts again
    if new_password:
        _reset_password(session, actor, user, new_password, policy=policy, passwords=passwords)
    if unlock:
        user.locked_until = None
        user.failed_login_count = 0
    if user.role != before["role"]:
        sessions.revoke_all(session, user.id, "role_changed")  # the new role starts with a new login
        _record_role_change(session, ctx, user, before)
    after = user.snapshot()
    after["password_reset"] = bool(new_password)
    after["unlocked"] = bool(unlock)
    record_event(session, ctx, "user.update", object_type="user", object_id=user.id,
                 department_id=user.department_id, before=before, after=after)
    session.commit()
    return user


def _reset_password(session, actor, user, new_password, *, policy, passwords):
    """An administrator's reset: never of his own password (that is /password, with the current
    one); the person changes it at the next login and every session of the account ends."""
    if user.id == actor.id:
        raise ValidationFailed(_l("Change your own password on the password page, with your current one."),
                               field="new_password")
    check_password_strength(new_password, policy, user.username, field="new_password")
    set_password(session, user, new_password, passwords=passwords, keep=policy.password_history,
                 must_change=True)


PROFILE_FIELDS = ("full_name", "email", "phone")
PROFILE_REFUSAL = _l("The security administrator edits only the accounts of system, security and audit "
                     "administrators; the system administrator manages the other accounts.")


def check_profile_editor(actor, user=None):
    """Raise Forbidden unless actor may edit user's profile (may_edit_profile), saying why; without
    user, unless actor is a security administrator."""
    if actor is None or actor.role != Role.SECURITY:
        raise Forbidden(refusal(actor) if actor is not None else None)
    if user is None:
        return
    if user.id == actor.id:
        raise Forbidden(SELF_REFUSAL)
    if not may_edit_profile(actor, user):
        raise Forbidden(PROFILE_REFUSAL)


def update_profile(session, ctx, user_id, data, *, new_password="", policy, passwords):
    """The security administrator changes the full name, e-mail and phone of a system, security or
    audit administrator (never his own) and may reset its password (audited as the system
    administrator's reset of other accounts: user.update with password_reset)."""
    actor = ctx.actor
    check_profile_editor(actor)
    user = get_user(session, actor, user_id)
    check_profile_editor(actor, user)
    before = user.snapshot()
    for field in PROFILE_FIELDS:
        if field in data:
            setattr(user, field, data[field])
    if new_password:
        _reset_password(session, actor, user, new_password, policy=policy, passwords=passwords)
    record_event(session, ctx, "user.update", object_type="user", object_id=user.id,
                 department_id=user.department_id, before=before,
                 after=user.snapshot() | {"password_reset": bool(new_password)})
    session.commit()
    return user


SELF_REFUSAL = _l("Nobody changes his own role or account: another security administrator does it.")


def refusal(actor, user=None):
    """Return why actor is refused (the message of a 403), or None for the generic one."""
    if user is not None and user.id == actor.id:
        return SELF_REFUSAL
    if actor.role == Role.ADMIN:
        return _l("Only the security administrator grants or revokes the roles of system, security and "
                  "audit administrator; the system administrator manages the other accounts.")
    if actor.role == Role.SECURITY:
        return _l("The security administrator creates only system, security and audit administrators.")
    return None


def _record_role_change(session, ctx, user, before):
    keys = ("role", "department_id", "is_department_admin")
    record_event(session, ctx, "user.role_changed", object_type="user", object_id=user.id,
                 department_id=user.department_id or before["department_id"],
                 before={k: before[k] for k in keys} | {"username": before["username"]},
                 after={k: getattr(user, k) for k in keys} | {"username": user.username})


def _last_active(session, user):
    """Return True when user is the only active account of its administrator role. The accounts of
    that role are locked in id order (PostgreSQL), so two security administrators demoting the last
    two at once are served one after the other and the second is refused."""
    if user.role not in ADMINISTRATORS or not user.is_active_account:
        return False
    active = session.scalars(select(User.id).where(User.role == user.role, User.is_active_account.is_(True))
                             .order_by(User.id).with_for_update()).all()
    return set(active) <= {user.id}


def assign_role(session, ctx, user_id, *, role, department_id=None, is_active_account=True, unlock=False):
    """The security administrator sets user's role (and department), enables or disables the account
    and may lift its lock-out. Never his own account; never the last active system, security or
    audit administrator demoted or disabled."""
    actor = ctx.actor
    if actor is None or actor.role != Role.SECURITY:
        raise Forbidden(_l("Only the security administrator assigns roles."))
    user = get_user(session, actor, user_id)
    if user.id == actor.id:
        raise Forbidden(SELF_REFUSAL)
    if role not in set(Role):
        raise ValidationFailed(_l("Choose a valid role."), field="role")
    if role == Role.DEPARTMENT:
        if not department_id or session.get(Department, department_id) is None:
            raise ValidationFailed(_l("A department user needs a department."), field="department_id")
    else:
        department_id = None
    if (role != user.role or not is_active_account) and _last_active(session, user):
        raise Forbidden(_l("%(role)s %(name)s is the last active account of this role: create or enable "
                           "another one first.", role=ROLE_LABELS[Role(user.role)], name=user.username))
    before = user.snapshot()
    if role != user.role or department_id != user.department_id:
        user.role, user.department_id = role, department_id
        user.is_department_admin = False  # a department admin is made on the edit page, not here
        sessions.revoke_all(session, user.id, "role_changed")  # the new role starts with a new login
        _record_role_change(session, ctx, user, before)
    if bool(is_active_account) != user.is_active_account or unlock:
        if bool(is_active_account) != user.is_active_account:
            user.is_active_account = bool(is_active_account)
            if user.is_active_account:
                user.enabled_at = utcnow()  # re-enabled: the unused-account clock starts again
            else:
                sessions.revoke_all(session, user.id, "account_disabled")
        if unlock:
            user.locked_until = None
            user.failed_login_count = 0
        record_event(session, ctx, "user.update", object_type="user", object_id=user.id,
                     department_id=user.department_id, before=before,
                     after=user.snapshot() | {"unlocked": bool(unlock)})
    session.commit()
    return user


def reset_second_factor(session, ctx, user_id):
    """Remove a user's second factor (audited); the user sets it up again at the next login."""
    actor = ctx.actor
    user = get_user(session, actor, user_id)
    if not (may_edit(actor, user) or may_assign_role(actor, user)):
        raise Forbidden(refusal(actor, user))
    second_factor.reset(session, ctx, user)
    return user


def count_users(session, user):
    """Return how many accounts user may see."""
    return session.scalar(select(func.count()).select_from(scoped(select(User), user).subquery()))


_OPERATOR = "operator"


class _Operator:
    """The command-line operator: may create any account (the first administrators of each kind)."""

    role = _OPERATOR
    department_id = None
    is_dept_admin = False

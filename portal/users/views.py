"""User accounts, 三权分立: the system administrator manages the accounts of departments, the bureau
and the vendor, department admins their members, and only the security administrator grants the
roles of system, security and audit administrator (services/users.py)."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import DEPARTMENT_ADMIN, require
from ..errors import Forbidden, ValidationFailed
from ..extensions import db
from ..models.accounts import ADMINISTRATORS, Role
from ..services import departments, users
from ..web import login_policy, page_arg, passwords, per_page, request_info, show_error
from .forms import CreateUserForm, EditUserForm, ProfileForm, ResetSecondFactorForm, RoleForm

bp = Blueprint("users", __name__, url_prefix="/users", template_folder="templates")
MANAGERS = (Role.ADMIN, DEPARTMENT_ADMIN)  # edit accounts
CREATORS = (Role.ADMIN, DEPARTMENT_ADMIN, Role.SECURITY)  # create accounts (of users.creatable_roles)


def _setup(form):
    allowed = users.creatable_roles(current_user)
    if current_user.role == Role.SECURITY:  # administrators only: no department
        form.set_departments([], _("(none)"))
    elif current_user.role == Role.ADMIN:
        form.set_departments(departments.department_choices(db.session, current_user), _("(none)"))
    else:  # a department admin: its own department, department role only
        own = departments.get_department(db.session, current_user, current_user.department_id)
        form.set_departments([own], _("(none)"))
        if request.method == "GET":
            form.department_id.data = own.id
    if current_user.role in ADMINISTRATORS and request.method == "POST":
        submitted = request.form.get("role", "")
        if submitted in set(Role) and submitted not in allowed:  # a role outside the actor's duty: 403
            raise Forbidden(users.refusal(current_user))
    form.role.choices = [c for c in form.role.choices if c.value in allowed]
    return form


def _save(form, call, done_message):
    """Run the service call; on success flash done_message (with the user's name) and return the
    redirect to the list, on a business-rule error put it under its field and return None."""
    try:
        user = call()
    except ValidationFailed as exc:
        db.session.rollback()
        show_error(form, exc)
        return None
    flash(done_message % {"name": user.username}, "success")
    return redirect(url_for("users.index"))


@bp.route("/")
@require(Role.ADMIN, DEPARTMENT_ADMIN, Role.AUDITOR, Role.SECURITY)
def index():
    q = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    if role not in set(Role):
        role = ""
    department_id = request.args.get("department_id", 0, type=int)
    page = users.list_users(db.session, current_user, q=q, role=role, department_id=department_id,
                            page=page_arg(), per_page=per_page())
    return render_template("users/index.html", page=page, q=q, role=role, department_id=department_id,
                           can_create=users.can_manage_users(current_user),
                           may_edit=users.may_edit, may_assign_role=users.may_assign_role,
                           may_edit_profile=users.may_edit_profile)


@bp.route("/new", methods=["GET", "POST"])
@require(*CREATORS)
def create():
    form = _setup(CreateUserForm())
    if form.validate_on_submit():
        done = _save(form, lambda: users.create_user(
            db.session, request_info(), form.data_for_service(), form.password.data,
            policy=login_policy(), passwords=passwords()), _("User %(name)s was created."))
        if done:
            return done
    return render_template("users/form.html", form=form, user=None,
                           show_department=current_user.role != Role.SECURITY)


@bp.route("/<int:user_id>/edit", methods=["GET", "POST"])
@require(*MANAGERS)
def edit(user_id):
    user = users.get_user(db.session, current_user, user_id)
    if not users.may_edit(current_user, user):
        raise Forbidden(users.refusal(current_user))
    form = _setup(EditUserForm(obj=user))
    if request.method == "GET":
        form.department_id.data = user.department_id or 0
    if form.validate_on_submit():
        done = _save(form, lambda: users.update_user(
            db.session, request_info(), user_id, form.data_for_service(), new_password=form.new_password.data,
            unlock=form.unlock.data, policy=login_policy(), passwords=passwords()), _("User %(name)s was saved."))
        if done:
            return done
    return render_template("users/form.html", form=form, user=user, show_department=True,
                           reset_form=ResetSecondFactorForm())


@bp.route("/<int:user_id>/role", methods=["GET", "POST"])
@require(Role.SECURITY)
def role(user_id):
    """The security administrator assigns a role, enables or disables the account, lifts a lock-out."""
    user = users.get_user(db.session, current_user, user_id)
    if not users.may_assign_role(current_user, user):
        raise Forbidden(users.refusal(current_user, user))
    form = RoleForm(obj=user)
    form.set_departments(departments.department_choices(db.session, current_user), _("(none)"))
    if request.method == "GET":
        form.department_id.data = user.department_id or 0
    if form.validate_on_submit():
        done = _save(form, lambda: users.assign_role(
            db.session, request_info(), user_id, role=form.role.data, department_id=form.department_id.data or None,
            is_active_account=form.is_active_account.data, unlock=form.unlock.data), _("User %(name)s was saved."))
        if done:
            return done
    return render_template("users/role.html", form=form, user=user, reset_form=ResetSecondFactorForm(),
                           may_edit_profile=users.may_edit_profile(current_user, user))


@bp.route("/<int:user_id>/profile", methods=["GET", "POST"])
@require(Role.SECURITY)
def profile(user_id):
    """The security administrator edits a system, security or audit administrator's full name, e-mail
    and phone and may reset the password (never his own account; business accounts are the admin's)."""
    user = users.get_user(db.session, current_user, user_id)
    users.check_profile_editor(current_user, user)
    form = ProfileForm(obj=user)
    if form.validate_on_submit():
        done = _save(form, lambda: users.update_profile(
            db.session, request_info(), user_id, form.data_for_service(), new_password=form.new_password.data,
            policy=login_policy(), passwords=passwords()), _("User %(name)s was saved."))
        if done:
            return done
    return render_template("users/profile.html", form=form, user=user)


@bp.route("/<int:user_id>/second-factor/reset", methods=["POST"])
@require(*MANAGERS, Role.SECURITY)
def reset_second_factor(user_id):
    form = ResetSecondFactorForm()
    if not form.validate_on_submit():
        abort(400)
    user = users.reset_second_factor(db.session, request_info(), user_id)
    flash(_("The second factor of %(name)s was reset; they set it up again at the next login.",
            name=user.username), "success")
    return redirect(url_for("users.role" if current_user.role == Role.SECURITY else "users.edit", user_id=user_id))

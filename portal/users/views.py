"""User accounts: admins manage all, department admins manage their department's members."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import DEPARTMENT_ADMIN, require
from ..errors import ValidationFailed
from ..extensions import db
from ..models.accounts import Role
from ..services import departments, users
from ..web import login_policy, page_arg, passwords, per_page, request_info, show_error
from .forms import CreateUserForm, EditUserForm, ResetSecondFactorForm

bp = Blueprint("users", __name__, url_prefix="/users", template_folder="templates")
MANAGERS = (Role.ADMIN, DEPARTMENT_ADMIN)


def _setup(form):
    if current_user.role == Role.ADMIN:
        form.set_departments(departments.department_choices(db.session, current_user), _("(none)"))
    else:  # a department admin: its own department, department role only
        own = departments.get_department(db.session, current_user, current_user.department_id)
        form.set_departments([own], _("(none)"))
        form.role.choices = [c for c in form.role.choices if c.value == Role.DEPARTMENT]
        if request.method == "GET":
            form.department_id.data = own.id
    return form


@bp.route("/")
@require(Role.ADMIN, DEPARTMENT_ADMIN, Role.AUDITOR)
def index():
    q = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    if role not in set(Role):
        role = ""
    department_id = request.args.get("department_id", 0, type=int)
    page = users.list_users(db.session, current_user, q=q, role=role, department_id=department_id,
                            page=page_arg(), per_page=per_page())
    return render_template("users/index.html", page=page, q=q, role=role, department_id=department_id,
                           can_manage=users.can_manage_users(current_user))


@bp.route("/new", methods=["GET", "POST"])
@require(*MANAGERS)
def create():
    form = _setup(CreateUserForm())
    if form.validate_on_submit():
        try:
            user = users.create_user(db.session, request_info(), form.data_for_service(), form.password.data,
                                     policy=login_policy(), passwords=passwords())
        except ValidationFailed as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("User %(name)s was created.", name=user.username), "success")
            return redirect(url_for("users.index"))
    return render_template("users/form.html", form=form, user=None)


@bp.route("/<int:user_id>/edit", methods=["GET", "POST"])
@require(*MANAGERS)
def edit(user_id):
    user = users.get_user(db.session, current_user, user_id)
    form = _setup(EditUserForm(obj=user))
    if request.method == "GET":
        form.department_id.data = user.department_id or 0
    if form.validate_on_submit():
        try:
            users.update_user(db.session, request_info(), user_id, form.data_for_service(),
                              new_password=form.new_password.data, unlock=form.unlock.data,
                              policy=login_policy(), passwords=passwords())
        except ValidationFailed as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("User %(name)s was saved.", name=user.username), "success")
            return redirect(url_for("users.index"))
    return render_template("users/form.html", form=form, user=user, reset_form=ResetSecondFactorForm())


@bp.route("/<int:user_id>/second-factor/reset", methods=["POST"])
@require(*MANAGERS)
def reset_second_factor(user_id):
    form = ResetSecondFactorForm()
    if not form.validate_on_submit():
        abort(400)
    user = users.reset_second_factor(db.session, request_info(), user_id)
    flash(_("The second factor of %(name)s was reset; they set it up again at the next login.",
            name=user.username), "success")
    return redirect(url_for("users.edit", user_id=user_id))

"""Departments registry: list, detail, register, edit, contacts."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import require
from ..errors import ValidationFailed
from ..extensions import db
from ..models.accounts import BUSINESS_VIEWERS, DepartmentLevel, Role
from ..services import contacts as duties, departments
from ..services.users import can_manage_users
from ..web import page_arg, per_page, request_info, show_error
from .forms import CONTACT_FIELDS, ContactsForm, DepartmentForm

bp = Blueprint("departments", __name__, url_prefix="/departments", template_folder="templates")
MANAGERS = (Role.BUREAU, Role.ADMIN)
ALL_ROLES = BUSINESS_VIEWERS  # every role but the security administrator (三权分立)


@bp.route("/")
@require(*ALL_ROLES)
def index():
    q = request.args.get("q", "").strip()
    level = request.args.get("level", "")
    if level not in set(DepartmentLevel):
        level = ""
    page = departments.list_departments(db.session, current_user, q=q, level=level,
                                        page=page_arg(), per_page=per_page())
    return render_template("departments/index.html", page=page, q=q, level=level,
                           can_manage=current_user.role in MANAGERS,
                           contact_ids=departments.contact_department_ids(db.session, current_user),
                           clear_ids=duties.clear_department_ids(db.session, current_user))


@bp.route("/<int:department_id>")
@require(*ALL_ROLES)
def detail(department_id):
    department = departments.get_department(db.session, current_user, department_id)
    return render_template("departments/detail.html", department=department,
                           contact_ids=departments.contact_department_ids(db.session, current_user),
                           clear=duties.sees_clear(duties.clear_department_ids(db.session, current_user),
                                                     department.id),
                           can_manage=current_user.role in MANAGERS,
                           can_edit_contacts=current_user.role in MANAGERS + (Role.DEPARTMENT,),
                           can_list_users=can_manage_users(current_user) or current_user.role == Role.AUDITOR)


def _department_form(obj=None):
    form = DepartmentForm(obj=obj)
    form.set_parents([d for d in departments.parent_choices(db.session) if obj is None or d.id != obj.id],
                     _("(none)"))
    if obj is not None and request.method == "GET":
        form.parent_id.data = obj.parent_id or 0
    return form


@bp.route("/new", methods=["GET", "POST"])
@require(*MANAGERS)
def create():
    form = _department_form()
    if form.validate_on_submit():
        try:
            department = departments.create_department(db.session, request_info(), form.data_for_service())
        except ValidationFailed as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("Department %(name)s was registered.", name=department.name), "success")
            return redirect(url_for("departments.detail", department_id=department.id))
    return render_template("departments/form.html", form=form, department=None)


@bp.route("/<int:department_id>/edit", methods=["GET", "POST"])
@require(*MANAGERS)
def edit(department_id):
    department = departments.get_department(db.session, current_user, department_id)
    form = _department_form(department)
    if form.validate_on_submit():
        try:
            departments.update_department(db.session, request_info(), department_id, form.data_for_service())
        except ValidationFailed as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("The department was saved."), "success")
            return redirect(url_for("departments.detail", department_id=department_id))
    return render_template("departments/form.html", form=form, department=department)


@bp.route("/<int:department_id>/contacts", methods=["GET", "POST"])
@require(Role.DEPARTMENT, *MANAGERS)
def contacts(department_id):
    department = departments.get_department(db.session, current_user, department_id)
    form = ContactsForm(obj=department)
    if form.validate_on_submit():
        departments.update_contacts(db.session, request_info(), department_id,
                                    {name: form[name].data for name in CONTACT_FIELDS},
                                    duties.change_notifier(current_app.config))
        flash(_("The contacts were saved."), "success")
        return redirect(url_for("departments.detail", department_id=department_id))
    return render_template("departments/contacts.html", form=form, department=department)

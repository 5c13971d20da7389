"""Contacts kept current, security officers and confidentiality agreements (issue 20: 第十七条,
第二十六条): the bureau's overview with the overdue confirmations and the missing agreements, each
department's page (its contacts, systems and agreements), the contacts export."""
import os

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, send_file,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user

from ..access import require
from ..audit_hooks import mark_download
from ..errors import ValidationFailed
from ..extensions import db
from ..models.accounts import BUSINESS_VIEWERS, Role
from ..requests.views import upload_dir
from ..services import contacts as svc
from ..services.departments import get_department
from ..web import request_info
from .forms import AgreementForm, ConfirmForm, ImportantForm, PersonForm, RemoveForm

bp = Blueprint("contacts", __name__, url_prefix="/contacts", template_folder="templates")
ALL_ROLES = BUSINESS_VIEWERS
EDITORS = (Role.DEPARTMENT, Role.BUREAU, Role.ADMIN)


@bp.app_template_filter("pi")
def personal(value, name, clear):
    """A phone or e-mail as the viewer may see it (masked unless clear)."""
    return svc.shown(name, value, clear)


def _duty():
    return svc.DutySettings.from_config(current_app.config)


@bp.route("/")
@require(*ALL_ROLES)
def index():
    if current_user.role == Role.DEPARTMENT:
        return redirect(url_for("contacts.department", department_id=current_user.department_id))
    today = svc.as_of()
    rows = svc.overview(db.session, current_user, _duty(), today)
    return render_template("contacts/index.html", rows=rows, today=today,
                           overdue=[r for r in rows if r.due.overdue],
                           missing=svc.missing_agreements(db.session, current_user, today), duty=_duty())


@bp.route("/departments/<int:department_id>")
@require(*ALL_ROLES)
def department(department_id):
    dept = get_department(db.session, current_user, department_id)
    today = svc.as_of()
    clear = svc.sees_clear(svc.clear_department_ids(db.session, current_user), dept.id)
    systems = svc.system_duties(db.session, dept.id, today)
    can_edit = current_user.role in EDITORS
    person_form, agreement_form = PersonForm(), AgreementForm()
    person_form.set_systems([s.system for s in systems], _("(none: IT staff)"))
    agreement_form.set_systems([s.system for s in systems])
    agreement_form.system_id.id = "agreement_system_id"  # the person form has its own system_id
    return render_template("contacts/department.html", department=dept, today=today, clear=clear,
                           people=svc.department_people(db.session, dept, clear), systems=systems,
                           due=svc.confirmation_due(dept, _duty(), today), can_edit=can_edit,
                           can_confirm=current_user.role == Role.DEPARTMENT,
                           can_unmark=current_user.role in svc.CLEAR_ROLES, confirm_form=ConfirmForm(),
                           person_form=person_form, agreement_form=agreement_form, remove_form=RemoveForm(),
                           important_form=ImportantForm(),
                           confirmed_at=svc.local_datetime_text(dept.contacts_confirmed_at))


def _back(department_id):
    return redirect(url_for("contacts.department", department_id=department_id))


def _failed(exc):
    db.session.rollback()
    flash(str(exc.message), "danger")


@bp.route("/departments/<int:department_id>/confirm", methods=["POST"])
@require(Role.DEPARTMENT)
def confirm(department_id):
    if ConfirmForm().validate_on_submit():
        svc.confirm(db.session, request_info(), department_id)
        flash(_("Thank you: the contacts are confirmed."), "success")
    return _back(department_id)


@bp.route("/departments/<int:department_id>/people", methods=["POST"])
@require(*EDITORS)
def add_person(department_id):
    get_department(db.session, current_user, department_id)
    form = PersonForm()
    form.system_id.validate_choice = False  # the service checks it is a system of the department
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "danger")
        return _back(department_id)
    try:
        svc.add_person(db.session, request_info(), current_app.config, department_id,
                       {"kind": form.kind.data, "system_id": form.system_id.data or None, "name": form.name.data,
                        "title": form.title.data, "phone": form.phone.data, "email": form.email.data})
    except ValidationFailed as exc:
        _failed(exc)
    else:
        flash(_("The contact was added."), "success")
    return _back(department_id)


@bp.route("/departments/<int:department_id>/people/<int:person_id>/remove", methods=["POST"])
@require(*EDITORS)
def remove_person(department_id, person_id):
    get_department(db.session, current_user, department_id)
    if RemoveForm().validate_on_submit():
        svc.remove_person(db.session, request_info(), current_app.config, department_id, person_id)
        flash(_("The contact was removed."), "success")
    return _back(department_id)


@bp.route("/departments/<int:department_id>/systems/<int:system_id>/important", methods=["POST"])
@require(*EDITORS)
def important(department_id, system_id):
    get_department(db.session, current_user, department_id)
    form = ImportantForm()
    if form.validate_on_submit():
        try:
            svc.mark_important(db.session, request_info(), department_id, system_id, True, form.reason.data or "")
        except ValidationFailed as exc:
            _failed(exc)
        else:
            flash(_("The system's mark was saved."), "success")
    return _back(department_id)


@bp.route("/departments/<int:department_id>/systems/<int:system_id>/ordinary", methods=["POST"])
@require(Role.BUREAU, Role.ADMIN)
def ordinary(department_id, system_id):
    get_department(db.session, current_user, department_id)
    if RemoveForm().validate_on_submit():
        try:
            svc.mark_important(db.session, request_info(), department_id, system_id, False)
        except ValidationFailed as exc:
            _failed(exc)
        else:
            flash(_("The system's mark was saved."), "success")
    return _back(department_id)


@bp.route("/departments/<int:department_id>/agreements", methods=["POST"])
@require(*EDITORS)
def add_agreement(department_id):
    get_department(db.session, current_user, department_id)
    form = AgreementForm()
    form.system_id.validate_choice = False
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "danger")
        return _back(department_id)
    file = form.document.data
    try:
        svc.add_agreement(db.session, request_info(), current_app.config, department_id,
                          {"system_id": form.system_id.data, "parties": form.parties.data,
                           "signed_on": form.signed_on.data, "expires_on": form.expires_on.data},
                          getattr(file, "filename", ""), getattr(file, "stream", None), upload_dir())
    except ValidationFailed as exc:
        _failed(exc)
    else:
        flash(_("The agreement was recorded."), "success")
    return _back(department_id)


@bp.route("/agreements/<int:agreement_id>/document")
@require(*ALL_ROLES)
def agreement_document(agreement_id):
    agreement = svc.get_agreement(db.session, current_user, agreement_id)
    path = os.path.join(upload_dir(), agreement.stored_name or "")
    if not agreement.stored_name or not os.path.exists(path):
        abort(404)
    mark_download("confidentiality_agreement", agreement.id, agreement.department_id)
    return send_file(path, mimetype=agreement.content_type, as_attachment=True, download_name=agreement.filename)


@bp.route("/contacts.xlsx")
@require(*ALL_ROLES)
def export():
    data = svc.export_xlsx(db.session, current_user)
    mark_download("contacts_export", "")
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename=contacts.xlsx"})

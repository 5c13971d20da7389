"""Incidents (故障事件): list and timeline; the vendor opens one by hand, acknowledges, records the
root cause, corrects the type and resolves."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import require
from ..errors import ValidationFailed
from ..extensions import db
from ..models.accounts import BUSINESS_VIEWERS, Role
from ..models.operations import IncidentState
from ..services import incidents
from ..services.departments import department_choices
from ..web import page_arg, per_page, request_info, show_error
from .forms import AcknowledgeForm, IncidentForm, KindForm, ResolveForm, RootCauseForm

bp = Blueprint("incidents", __name__, url_prefix="/incidents", template_folder="templates")
ALL_ROLES = BUSINESS_VIEWERS  # every role but the security administrator (三权分立)


@bp.route("/")
@require(*ALL_ROLES)
def index():
    state = request.args.get("state", "")
    if state not in set(IncidentState) | {"active"}:
        state = ""
    page = incidents.list_incidents(db.session, current_user, state=state, page=page_arg(), per_page=per_page())
    return render_template("incidents/index.html", page=page, state=state,
                           can_open=current_user.role in incidents.HANDLERS)


@bp.route("/new", methods=["GET", "POST"])
@require(*incidents.HANDLERS)
def create():
    form = IncidentForm()
    form.set_departments(department_choices(db.session, current_user))
    if form.validate_on_submit():
        try:
            incident = incidents.open_by_hand(db.session, request_info(), current_app.config,
                                              form.data_for_service())
        except ValidationFailed as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("The incident was opened; the department is notified."), "success")
            return redirect(url_for("incidents.detail", incident_id=incident.id))
    return render_template("incidents/form.html", form=form)


@bp.route("/<int:incident_id>")
@require(*ALL_ROLES)
def detail(incident_id):
    incident = incidents.get_incident(db.session, current_user, incident_id)
    handler = current_user.role in incidents.HANDLERS
    active = incident.state in incidents.ACTIVE
    return render_template("incidents/detail.html", incident=incident,
                           ack_form=AcknowledgeForm() if handler and incident.state == IncidentState.OPEN else None,
                           cause_form=RootCauseForm(root_cause=incident.root_cause) if handler else None,
                           resolve_form=ResolveForm() if handler and active else None,
                           kind_form=KindForm(kind=incident.kind) if handler else None)


@bp.route("/<int:incident_id>/resolve", methods=["POST"])
@require(*incidents.HANDLERS)
def resolve(incident_id):
    form = ResolveForm()
    if form.validate_on_submit():
        try:
            incidents.resolve_by_hand(db.session, request_info(), current_app.config, incident_id, form.note.data)
        except ValidationFailed as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
        else:
            flash(_("The incident was resolved; the department is notified."), "success")
    else:
        flash(_("Say how the incident was resolved."), "danger")
    return redirect(url_for("incidents.detail", incident_id=incident_id))


@bp.route("/<int:incident_id>/kind", methods=["POST"])
@require(*incidents.HANDLERS)
def change_kind(incident_id):
    form = KindForm()
    if form.validate_on_submit():
        incidents.change_kind(db.session, request_info(), incident_id, form.kind.data)
        flash(_("The type of the incident was saved."), "success")
    else:
        flash(_("Choose the type of the incident."), "danger")
    return redirect(url_for("incidents.detail", incident_id=incident_id))


@bp.route("/<int:incident_id>/acknowledge", methods=["POST"])
@require(*incidents.HANDLERS)
def acknowledge(incident_id):
    form = AcknowledgeForm()
    if form.validate_on_submit():
        try:
            incidents.acknowledge_incident(db.session, request_info(), incident_id, form.note.data or "")
        except ValidationFailed as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
        else:
            flash(_("The incident was acknowledged."), "success")
    return redirect(url_for("incidents.detail", incident_id=incident_id))


@bp.route("/<int:incident_id>/root-cause", methods=["POST"])
@require(*incidents.HANDLERS)
def root_cause(incident_id):
    form = RootCauseForm()
    if form.validate_on_submit():
        incidents.set_root_cause(db.session, request_info(), incident_id, form.root_cause.data)
        flash(_("The root cause was saved."), "success")
    else:
        flash(_("Enter the root cause."), "danger")
    return redirect(url_for("incidents.detail", incident_id=incident_id))

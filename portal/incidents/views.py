"""Incidents (故障事件): list and timeline; the vendor acknowledges and records the root cause."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import require
from ..errors import ValidationFailed
from ..extensions import db
from ..models.accounts import BUSINESS_VIEWERS, Role
from ..models.operations import IncidentState
from ..services import incidents
from ..web import page_arg, per_page, request_info
from .forms import AcknowledgeForm, RootCauseForm

bp = Blueprint("incidents", __name__, url_prefix="/incidents", template_folder="templates")
ALL_ROLES = BUSINESS_VIEWERS  # every role but the security administrator (三权分立)


@bp.route("/")
@require(*ALL_ROLES)
def index():
    state = request.args.get("state", "")
    if state not in set(IncidentState) | {"active"}:
        state = ""
    page = incidents.list_incidents(db.session, current_user, state=state, page=page_arg(), per_page=per_page())
    return render_template("incidents/index.html", page=page, state=state)


@bp.route("/<int:incident_id>")
@require(*ALL_ROLES)
def detail(incident_id):
    incident = incidents.get_incident(db.session, current_user, incident_id)
    handler = current_user.role in incidents.HANDLERS
    return render_template("incidents/detail.html", incident=incident,
                           ack_form=AcknowledgeForm() if handler and incident.state == IncidentState.OPEN else None,
                           cause_form=RootCauseForm(root_cause=incident.root_cause) if handler else None)


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

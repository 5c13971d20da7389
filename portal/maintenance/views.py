"""Maintenance windows (维护窗口): list, apply (vendor), approve / reject (bureau), cancel."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import require
from ..errors import ValidationFailed
from ..extensions import db
from ..models.accounts import BUSINESS_VIEWERS, Role
from ..models.operations import MaintenanceState
from ..services import maintenance
from ..services.departments import department_choices
from ..web import page_arg, per_page, request_info, show_error
from ..workdays import CHINA
from ..database import utcnow
from .forms import DecisionForm, ResponseForm, WindowForm

bp = Blueprint("maintenance", __name__, url_prefix="/maintenance", template_folder="templates")
ALL_ROLES = BUSINESS_VIEWERS  # every role but the security administrator (三权分立)


@bp.app_context_processor
def _maintenance_banner():
    """The banner of approved windows not yet over (departments: their own)."""
    if not current_user.is_authenticated or request.endpoint == "static":
        return {"maintenance_banners": []}
    return {"maintenance_banners": maintenance.current_banners(db.session, current_user)}


@bp.route("/")
@require(*ALL_ROLES)
def index():
    state = request.args.get("state", "")
    if state not in set(MaintenanceState):
        state = ""
    page = maintenance.list_windows(db.session, current_user, state=state, page=page_arg(), per_page=per_page())
    return render_template("maintenance/index.html", page=page, state=state,
                           can_apply=current_user.role in maintenance.APPLICANTS)


@bp.route("/new", methods=["GET", "POST"])
@require(*maintenance.APPLICANTS)
def create():
    form = WindowForm()
    form.set_departments(department_choices(db.session, current_user))
    if form.validate_on_submit():
        try:
            window = maintenance.apply_window(db.session, request_info(), form.data_for_service(),
                                              settings=current_app.config)
        except ValidationFailed as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("The maintenance window was submitted for approval."), "success")
            return redirect(url_for("maintenance.detail", window_id=window.id))
    earliest = maintenance.earliest_start(db.session, utcnow())
    return render_template("maintenance/form.html", form=form, earliest=earliest.value.astimezone(CHINA),
                           assumed_note=maintenance.assumed_note(earliest))


@bp.route("/<int:window_id>")
@require(*ALL_ROLES)
def detail(window_id):
    window = maintenance.get_window(db.session, current_user, window_id)
    return render_template("maintenance/detail.html", window=window, form=DecisionForm(),
                           can_decide=current_user.role == Role.BUREAU and window.state == MaintenanceState.SUBMITTED,
                           can_cancel=current_user.role in (Role.BUREAU, Role.VENDOR)
                           and window.state in (MaintenanceState.SUBMITTED, MaintenanceState.APPROVED),
                           response_form=ResponseForm() if maintenance.can_respond(current_user, window) else None,
                           my_response=window.response_of(current_user.department_id)
                           if current_user.role == Role.DEPARTMENT else None)


@bp.route("/<int:window_id>/respond", methods=["POST"])
@require(*maintenance.RESPONDERS)
def respond(window_id):
    maintenance.get_window(db.session, current_user, window_id)  # 404 unless it affects the department
    form = ResponseForm()
    if form.validate_on_submit():
        answer = "object" if form.object.data else "agree" if form.agree.data else ""
        try:
            maintenance.respond_window(db.session, request_info(), window_id, current_app.config, answer,
                                       form.reason.data or "")
        except ValidationFailed as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
        else:
            flash(_("Your department's objection was sent to the bureau and the vendor.") if answer == "object"
                  else _("Your department agreed to the maintenance window."), "success")
    return redirect(url_for("maintenance.detail", window_id=window_id))


@bp.route("/<int:window_id>/decide", methods=["POST"])
@require(*maintenance.DECIDERS)
def decide(window_id):
    form = DecisionForm()
    if form.validate_on_submit():
        ctx, settings = request_info(), current_app.config
        try:
            if form.approve.data:
                _window, sent = maintenance.approve_window(db.session, ctx, window_id, settings, form.note.data or "")
                flash(_("The maintenance window was approved; %(people)d people of the departments got a message "
                        "in the portal, %(email)d e-mails and %(webhook)d SMS/webhook messages are being sent.",
                        **sent), "success")
            elif form.reject.data:
                maintenance.reject_window(db.session, ctx, window_id, form.note.data, settings)
                flash(_("The maintenance window was rejected."), "success")
            elif form.cancel.data:
                maintenance.cancel_window(db.session, ctx, window_id, settings, form.note.data or "")
                flash(_("The maintenance window was cancelled."), "success")
        except ValidationFailed as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
    return redirect(url_for("maintenance.detail", window_id=window_id))

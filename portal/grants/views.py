"""运维授权 pages: vendors apply and, during a live grant, reach the system; departments decide."""
from datetime import timezone
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..access import DEPARTMENT_ADMIN, require
from ..database import utcnow
from ..errors import NotFound, PortalError, ValidationFailed
from ..extensions import db
from ..models.accounts import Role
from ..services import timelimits, vendor_access
from ..services.timelimits import TimeLimits
from ..web import request_info, show_error
from .forms import CommandForm, GrantDecisionForm, GrantRequestForm, RevokeForm

bp = Blueprint("grants", __name__, url_prefix="/grants", template_folder="templates")
VIEWERS = vendor_access.VIEWERS


def key_dir():
    return current_app.config["GRANT_KEY_DIR"]


def cloud():
    return current_app.extensions["govcloud_runtime"].cloud()


def _aware(local):
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return local.replace(tzinfo=zone).astimezone(timezone.utc)


@bp.route("/")
@require(*VIEWERS)
def index():
    grants = vendor_access.list_grants(db.session, current_user)
    return render_template("grants/index.html", grants=grants, now=utcnow())


@bp.route("/new", methods=["GET", "POST"])
@require(Role.VENDOR)
def create():
    form = GrantRequestForm()
    form.system_id.choices = [
        SelectChoice(s.id, f"{s.department.name} · {s.system_name} · {s.number}")
        for s in vendor_access.grantable_systems(db.session)]
    if form.validate_on_submit():
        try:
            grant = vendor_access.apply_grant(db.session, request_info(), form.system_id.data,
                                              form.reason.data, _aware(form.starts_at.data),
                                              _aware(form.ends_at.data))
        except ValidationFailed as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("Your application was sent to the department."), "success")
            return redirect(url_for(".detail", grant_id=grant.id))
    return render_template("grants/new.html", form=form)


@bp.route("/<int:grant_id>")
@require(*VIEWERS)
def detail(grant_id):
    grant = _grant(grant_id)
    now = utcnow()
    live = current_user.role == Role.VENDOR and grant.is_live(now)
    limits = TimeLimits.from_config(current_app.config)
    return render_template("grants/detail.html", grant=grant, now=now, live=live,
                           time_limit=timelimits.decision_deadline(db.session, grant, limits, now),
                           servers=vendor_access.grant_servers(db.session, grant),
                           decision=GrantDecisionForm(), revoke=RevokeForm(),
                           command=CommandForm(), result=None)


@bp.route("/<int:grant_id>/decide", methods=["POST"])
@require(DEPARTMENT_ADMIN)
def decide(grant_id):
    form = GrantDecisionForm()
    grant = _grant(grant_id)
    if form.validate_on_submit():
        endpoint = {"host": form.ssh_host.data, "port": form.ssh_port.data,
                    "username": form.ssh_username.data, "host_key": form.ssh_host_key.data}
        try:
            vendor_access.decide_grant(db.session, request_info(), grant_id, bool(form.approve.data),
                                       form.comment.data, endpoint, key_dir())
        except ValidationFailed as exc:
            db.session.rollback()
            show_error(form, exc)
        except PortalError as exc:
            db.session.rollback()
            abort(exc.http_status)
        else:
            flash(_("Decision recorded."), "success")
            return redirect(url_for(".detail", grant_id=grant_id))
    return render_template("grants/detail.html", grant=grant, now=utcnow(), live=False,
                           servers=vendor_access.grant_servers(db.session, grant),
                           decision=form, revoke=RevokeForm(), command=CommandForm(), result=None)


@bp.route("/<int:grant_id>/revoke", methods=["POST"])
@require(DEPARTMENT_ADMIN)
def revoke(grant_id):
    form = RevokeForm()
    _grant(grant_id)
    if form.validate_on_submit():
        try:
            vendor_access.revoke_grant(db.session, request_info(), grant_id, key_dir(),
                                       form.comment.data)
            flash(_("Access revoked."), "success")
        except ValidationFailed as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        except PortalError as exc:
            db.session.rollback()
            abort(exc.http_status)
    return redirect(url_for(".detail", grant_id=grant_id))


@bp.route("/<int:grant_id>/withdraw", methods=["POST"])
@require(Role.VENDOR)
def withdraw(grant_id):
    _grant(grant_id)
    try:
        vendor_access.withdraw_grant(db.session, request_info(), grant_id)
        flash(_("Application withdrawn."), "success")
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    return redirect(url_for(".detail", grant_id=grant_id))


@bp.route("/<int:grant_id>/servers/<int:resource_id>/console")
@require(Role.VENDOR)
def console(grant_id, resource_id):
    try:
        server, text = vendor_access.console_output(db.session, request_info(), grant_id,
                                                    resource_id, cloud(), key_dir())
    except NotFound:
        abort(404)
    except PortalError as exc:
        abort(exc.http_status)
    return render_template("grants/console.html", grant=_grant(grant_id), server=server, text=text)


@bp.route("/<int:grant_id>/ssh", methods=["POST"])
@require(Role.VENDOR)
def ssh(grant_id):
    form = CommandForm()
    grant = _grant(grant_id)
    result = None
    if form.validate_on_submit():
        try:
            result = vendor_access.run_ssh(db.session, request_info(), grant_id, form.command.data,
                                           key_dir())
        except ValidationFailed as exc:
            db.session.rollback()
            show_error(form, exc)
        except PortalError as exc:
            db.session.rollback()
            abort(exc.http_status)
    return render_template("grants/detail.html", grant=grant, now=utcnow(),
                           live=grant.is_live(utcnow()),
                           servers=vendor_access.grant_servers(db.session, grant),
                           decision=GrantDecisionForm(), revoke=RevokeForm(), command=form,
                           result=result)


def _grant(grant_id):
    try:
        return vendor_access.get_grant(db.session, current_user, grant_id)
    except NotFound:
        abort(404)

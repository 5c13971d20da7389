"""Operations pages: scheduler jobs, probe targets, SLA; and /metrics for Prometheus."""
import logging

from flask import Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import ValidationError

from ..access import public, require
from ..api.errors import error_response
from ..database import utcnow
from ..errors import ValidationFailed
from ..extensions import csrf, db
from ..models.accounts import BUSINESS_VIEWERS, Role
from ..schemas.alerts import AlertmanagerMessage
from ..schemas.base import problems
from ..services import alerts, inventory, jobs, probes, sla
from ..statemachine import TransitionNotAllowed
from ..services.departments import department_choices
from ..web import request_info, show_error
from . import scrapers
from .forms import ProbeTargetForm, ToggleForm

METRICS_MIMETYPE = "text/plain"  # the text exposition format (Flask adds charset=utf-8)

bp = Blueprint("operations", __name__, template_folder="templates")
log = logging.getLogger(__name__)
OPERATORS = (Role.VENDOR, Role.BUREAU, Role.ADMIN)
ALL_ROLES = BUSINESS_VIEWERS  # every role but the security administrator (三权分立)


@bp.route("/jobs")
@require(*OPERATORS)
def job_list():
    from scheduler.process import planned_jobs
    statuses = jobs.job_statuses(db.session, planned_jobs(db.session, current_app.config))
    return render_template("operations/jobs.html", statuses=statuses, runs=jobs.recent_runs(db.session, limit=30),
                           leader=jobs.leader_status(db.session))


@bp.route("/probes")
@require(*ALL_ROLES)
def probe_list():
    page = probes.list_targets(db.session, current_user, page=request.args.get("page", 1, type=int))
    return render_template("operations/probes.html", page=page, toggle_form=ToggleForm(),
                           can_manage=current_user.role in probes.MANAGERS)


@bp.route("/probes/new", methods=["GET", "POST"])
@require(*probes.MANAGERS)
def probe_create():
    form = ProbeTargetForm()
    form.set_departments(department_choices(db.session, current_user), _("(platform: OpenStack API)"))
    if form.validate_on_submit():
        try:
            target = probes.create_target(db.session, request_info(), form.data_for_service())
        except ValidationFailed as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("The probe target was added."), "success")
            return redirect(url_for("operations.probe_detail", target_id=target.id))
    return render_template("operations/probe_form.html", form=form)


@bp.route("/probes/<int:target_id>")
@require(*ALL_ROLES)
def probe_detail(target_id):
    target = probes.get_target(db.session, current_user, target_id)
    return render_template("operations/probe_detail.html", target=target,
                           results=probes.recent_results(db.session, target), toggle_form=ToggleForm(),
                           can_manage=current_user.role in probes.MANAGERS)


@bp.route("/probes/<int:target_id>/toggle", methods=["POST"])
@require(*probes.MANAGERS)
def probe_toggle(target_id):
    if ToggleForm().validate_on_submit():
        target = probes.get_target(db.session, current_user, target_id)
        probes.set_target_enabled(db.session, request_info(), target_id, not target.enabled)
        flash(_("The probe target was switched."), "success")
    return redirect(url_for("operations.probe_detail", target_id=target_id))


def _month_arg():
    year, month = sla.current_month()
    raw = request.args.get("month", "")
    try:
        y, m = (int(x) for x in raw.split("-"))
        if 2000 <= y <= 2100 and 1 <= m <= 12:
            return y, m
    except ValueError:
        pass
    return year, month


@bp.route("/sla")
@require(*ALL_ROLES)
def sla_report():
    year, month = _month_arg()
    figures = sla.monthly_report(db.session, current_user, year, month)
    return render_template("operations/sla.html", figures=figures, year=year, month=month,
                           target=current_app.config["SLA_TARGET_RATIO"],
                           previous=sla.previous_month(year, month), now=utcnow())


@bp.route("/usage")
@require(*ALL_ROLES)
def usage():
    view = inventory.usage_view(db.session, current_user)
    return render_template("operations/usage.html", view=view)


@bp.route("/metrics")
@public
@csrf.exempt
def metrics():
    """Prometheus only: the bearer token, or an allow-listed address; a browser session counts for nothing."""
    verdict = scrapers.check(current_app.config, request.remote_addr, request.headers)
    if verdict not in ("token", "address"):
        return _metrics_refused(verdict)
    endpoint = current_app.extensions.get("govcloud_metrics") or _metrics_endpoint()
    rendered = endpoint.serve()
    headers = {"Cache-Control": "no-store", "Vary": "Accept-Encoding"}
    body = rendered.body
    if request.accept_encodings["gzip"]:
        body = rendered.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, mimetype=METRICS_MIMETYPE, headers=headers)


def _metrics_endpoint():
    """Create this app's /metrics renderer; each commit of this process to its database renders again."""
    from monitoring.exposition import refresh_on_commit
    from monitoring.metrics import MetricsEndpoint
    from monitoring.render_process import RenderProcess, usable
    app = current_app._get_current_object()
    if "govcloud_metrics_refresh" not in app.extensions:
        app.extensions["govcloud_metrics_refresh"] = True

        def current_cache():
            endpoint = app.extensions.get("govcloud_metrics")
            return endpoint.cache if endpoint is not None else None
        refresh_on_commit(db.engine, current_cache)
    cycle = app.config["METRICS_RENDER_SECONDS"]
    process = None
    if cycle > 0 and app.config["METRICS_RENDER_PROCESS"] and usable(app.config["DATABASE_URL"]):
        process = RenderProcess(app.config)
    return app.extensions.setdefault("govcloud_metrics", MetricsEndpoint(db.engine, cycle, process))


@bp.route("/alerts/alertmanager", methods=["POST"])
@public
@csrf.exempt
def alertmanager_webhook():
    """Alertmanager's webhook (version 4): its bearer token only; alerts open, join and resolve incidents."""
    if not scrapers.token_matches(current_app.config, "ALERT_WEBHOOK_TOKEN", request.headers):
        log.warning("alerts: webhook call refused from %s", request.remote_addr)
        return error_response(401, "unauthorized", _("The alert webhook needs its bearer token."),
                              headers={"WWW-Authenticate": 'Bearer realm="alerts"'})
    limit = current_app.config["ALERT_WEBHOOK_MAX_BYTES"]
    if (request.content_length or 0) > limit:
        return error_response(413, "payload_too_large", "body_too_large", limit=limit)
    if not request.is_json:
        return error_response(415, "unsupported_media_type", "body_must_be_json")
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        return error_response(413, "payload_too_large", "body_too_large", limit=limit)
    try:
        message = AlertmanagerMessage.model_validate_json(raw)
    except ValidationError as exc:
        return error_response(422, "invalid", "fields_invalid", problems=problems(exc))
    try:
        outcome = alerts.receive(db.session, current_app.config, message, utcnow(), request_info().correlation_id)
    except TransitionNotAllowed as exc:  # another delivery of the same alert moved the incident first
        db.session.rollback()
        return error_response(409, "conflict", str(exc))
    return jsonify(outcome.as_dict())


def _metrics_refused(verdict):
    """401 (never 403, whatever the address) with a Bearer challenge and a plain-text reason."""
    log.warning("metrics: scrape refused from %s (%s)", request.remote_addr, verdict)
    challenge = 'Bearer realm="metrics"'
    if verdict == "invalid_token":
        challenge += ', error="invalid_token"'
        message = _("The bearer token is not valid for /metrics.")
    else:
        message = _("/metrics needs the Prometheus bearer token, or a scrape from an allowed address.")
    return Response(message + "\n", status=401, mimetype="text/plain",
                    headers={"WWW-Authenticate": challenge, "Cache-Control": "no-store"})

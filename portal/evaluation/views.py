"""云服务商评价 pages: departments rate the vendor each quarter; the bureau's annual assessment
(服务质量考核); the vendor and the auditors read both."""
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import require
from ..audit_hooks import mark_download
from ..database import utcnow
from ..errors import NotFound, PortalError, ValidationFailed
from ..extensions import db
from ..models.accounts import Role
from ..models.evaluation import ASSESSMENT_STATE_LABELS, AssessmentState
from ..services import evaluation as svc
from ..web import request_info, show_error
from .forms import ComputeForm, RatingForm, RecomputeForm, SignForm

bp = Blueprint("evaluation", __name__, url_prefix="/evaluation", template_folder="templates")


def _year():
    year = request.args.get("year", type=int)
    return year if year and 2000 <= year <= 2100 else svc.quarter_of(utcnow())[0]


@bp.route("/")
@require(*svc.RATING_READERS)
def index():
    year = _year()
    departments, means = svc.overview(db.session, current_user, year)
    window = svc.open_quarter(current_app.config)
    can_rate = (current_user.role == Role.DEPARTMENT and window is not None
                and svc.rated(db.session, current_user.department_id, *window) is None)
    return render_template("evaluation/index.html", year=year, departments=departments, means=means,
                           ratings=svc.list_ratings(db.session, current_user, year=year), window=window,
                           can_rate=can_rate, low=current_app.config["EVALUATION_LOW_SCORE"])


@bp.route("/rate", methods=["GET", "POST"])
@require(Role.DEPARTMENT)
def rate():
    window = svc.open_quarter(current_app.config)
    form = RatingForm()
    if window is None:
        flash(_("No rating window is open: a quarter is rated in the %(days)s days after it ends.",
                days=current_app.config["EVALUATION_WINDOW_DAYS"]), "warning")
        return redirect(url_for(".index"))
    if form.validate_on_submit():
        try:
            rating = svc.rate(db.session, request_info(), current_app.config, year=window[0], quarter=window[1],
                              attitude=form.attitude.data, response=form.response.data,
                              resolution=form.resolution.data, comment=form.comment.data,
                              low_reason=form.low_reason.data)
        except ValidationFailed as exc:
            db.session.rollback()
            if exc.http_status == 409:
                flash(exc.message, "danger")
                return redirect(url_for(".index"))
            show_error(form, exc)
        else:
            flash(_("Thank you: your rating was recorded and sent to the bureau."), "success")
            return redirect(url_for(".rating", rating_id=rating.id))
    return render_template("evaluation/rate.html", form=form, window=window,
                           low=current_app.config["EVALUATION_LOW_SCORE"])


@bp.route("/ratings/<int:rating_id>")
@require(*svc.RATING_READERS)
def rating(rating_id):
    try:
        item = svc.get_rating(db.session, current_user, rating_id)
    except NotFound:
        abort(404)
    return render_template("evaluation/rating.html", rating=item, low=svc.is_low(item, current_app.config))


@bp.route("/assessments", methods=["GET", "POST"])
@require(*svc.ASSESSMENT_READERS)
def assessments():
    form = ComputeForm(data={"year": svc.quarter_of(utcnow())[0] - 1, **svc.default_weights(current_app.config)})
    if request.method == "POST":
        if current_user.role != Role.BUREAU:
            abort(403)
        if form.validate_on_submit():
            weights = {key: form[key].data for key in svc.INDICATORS}
            try:
                item = svc.compute(db.session, request_info(), current_app.config, form.year.data, weights)
            except ValidationFailed as exc:
                db.session.rollback()
                show_error(form, exc)
            except PortalError as exc:
                db.session.rollback()
                flash(exc.message, "danger")
            else:
                flash(_("The assessment was computed."), "success")
                return redirect(url_for(".assessment", assessment_id=item.id))
    return render_template("evaluation/assessments.html", items=svc.list_assessments(db.session, current_user),
                           form=form, STATES=ASSESSMENT_STATE_LABELS)


def _assessment(assessment_id):
    try:
        return svc.get_assessment(db.session, current_user, assessment_id)
    except NotFound:
        abort(404)


@bp.route("/assessments/<int:assessment_id>")
@require(*svc.ASSESSMENT_READERS)
def assessment(assessment_id):
    item = _assessment(assessment_id)
    return render_template("evaluation/assessment.html", item=item, STATES=ASSESSMENT_STATE_LABELS,
                           signed=item.state == AssessmentState.SIGNED, sign_form=SignForm(),
                           recompute_form=RecomputeForm())


@bp.route("/assessments/<int:assessment_id>/recompute", methods=["POST"])
@require(Role.BUREAU)
def recompute(assessment_id):
    item = _assessment(assessment_id)
    if RecomputeForm().validate_on_submit():
        try:
            svc.compute(db.session, request_info(), current_app.config, item.year, item.weights)
        except PortalError as exc:
            db.session.rollback()
            if exc.http_status == 409:
                abort(409)
            flash(exc.message, "danger")
        else:
            flash(_("The assessment was recomputed."), "success")
    return redirect(url_for(".assessment", assessment_id=assessment_id))


@bp.route("/assessments/<int:assessment_id>/sign", methods=["POST"])
@require(Role.BUREAU)
def sign(assessment_id):
    _assessment(assessment_id)
    form = SignForm()
    if form.validate_on_submit():
        try:
            svc.sign(db.session, request_info(), current_app.config, assessment_id, form.comment.data)
        except PortalError as exc:
            db.session.rollback()
            if exc.http_status == 409:
                abort(409)
            flash(exc.message, "danger")
        else:
            flash(_("The assessment was signed and is frozen."), "success")
    return redirect(url_for(".assessment", assessment_id=assessment_id))


@bp.route("/assessments/<int:assessment_id>/export.<any(pdf, xlsx):file_format>")
@require(*svc.ASSESSMENT_READERS)
def assessment_export(assessment_id, file_format):
    item = _assessment(assessment_id)
    body, mimetype, filename = svc.export(item, file_format)
    mark_download("vendor_assessment", item.id)
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={filename}"})

"""The bureau's review queue and decisions; the vendor's provisioning queue and failures."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import require
from ..errors import ValidationFailed
from ..extensions import db
from ..models.accounts import Role
from ..requests.forms import ActionForm, ReviewForm
from ..services import decommission_guard, resource_requests as requests_svc
from ..services import reviews as svc
from ..database import utcnow
from ..services import timelimits
from ..services.cloud_catalog import capacity, catalog
from ..services.timelimits import TimeLimits
from ..specs import allocation, apply_adjustment, diff_specs, expand, normalize_spec, root_disk_gb
from ..web import page_arg, per_page, request_info
from ..workflow import RequestKind, RequestState

bp = Blueprint("reviews", __name__, url_prefix="/reviews", template_folder="templates")


@bp.route("/")
@require(Role.BUREAU)
def index():
    state = request.args.get("state", "")
    state = state if state in set(RequestState) else ""
    page = svc.review_queue(db.session, current_user, page=page_arg(), per_page=per_page(), state=state)
    return render_template("reviews/index.html", page=page, state=state)


@bp.route("/<int:request_id>")
@require(Role.BUREAU)
def review(request_id):
    req = requests_svc.get_request(db.session, current_user, request_id)
    spec = normalize_spec(req.spec)
    cat = catalog(current_app.config)
    current = requests_svc.current_spec(db.session, req.system_root_id) if req.kind != RequestKind.NEW else None
    asked = spec if req.kind != RequestKind.DECOMMISSION else normalize_spec({})
    need = allocation(asked, cat["flavors"])
    root_gb = root_disk_gb(asked, cat["flavors"])
    instances, volumes = expand(spec)
    previous = req.versions[-2].content if len(req.versions) > 1 else None
    decommission = req.kind == RequestKind.DECOMMISSION
    return render_template(
        "reviews/review.html", req=req, spec=spec, instances=instances, volumes=volumes, need=need,
        deletion=requests_svc.deletion_plan(db.session, req) if decommission else [],
        guard=decommission_guard.guard_status(db.session, req) if decommission else None,
        capacity_rows=svc.capacity_check(capacity(current_app.config), need, root_gb),
        CAPACITY_LABELS=svc.CAPACITY_LABELS, memory_gb=svc.memory_gb(need["ram"]),
        changes=diff_specs(current, spec) if current is not None and req.kind == RequestKind.CHANGE else [],
        version_changes=diff_specs(previous["spec"], req.versions[-1].content["spec"]) if previous else [],
        form=ReviewForm(formdata=None, floating_ips=spec["floating_ips"]), action_form=ActionForm(),
        time_limit=timelimits.request_deadline(db.session, req, TimeLimits.from_config(current_app.config), utcnow()))


def _decide(request_id, call, message, target="requests.detail"):
    requests_svc.get_request(db.session, current_user, request_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        call(form)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
        return redirect(url_for("reviews.review", request_id=request_id))
    flash(message, "success")
    return redirect(url_for(target, request_id=request_id))


@bp.route("/<int:request_id>/start", methods=["POST"])
@require(Role.BUREAU)
def start(request_id):
    # 开始审核 leads to the review form itself: the decision is taken there
    return _decide(request_id, lambda f: svc.start_review(db.session, request_info(), request_id),
                   _("The request is under review."), target="reviews.review")


@bp.route("/<int:request_id>/approve", methods=["POST"])
@require(Role.BUREAU)
def approve(request_id):
    counts = {k[len("count-"):]: v for k, v in request.form.items() if k.startswith("count-") and v.strip()}
    sizes = {k[len("size-"):]: v for k, v in request.form.items() if k.startswith("size-") and v.strip()}
    return _decide(request_id, lambda f: svc.approve_request(
        db.session, request_info(), request_id, catalog(current_app.config), counts=counts, volume_sizes=sizes,
        floating_ips=f.floating_ips.data, comment=f.comment.data or ""),
        _("The request was approved and queued for provisioning."))


@bp.route("/<int:request_id>/reject", methods=["POST"])
@require(Role.BUREAU)
def reject(request_id):
    return _decide(request_id, lambda f: svc.reject_request(db.session, request_info(), request_id, f.comment.data),
                   _("The request was rejected."))


@bp.route("/<int:request_id>/return", methods=["POST"])
@require(Role.BUREAU)
def send_back(request_id):
    return _decide(request_id, lambda f: svc.return_request(db.session, request_info(), request_id, f.comment.data),
                   _("The request was returned for revision."))


@bp.route("/<int:request_id>/green-channel", methods=["POST"])
@require(Role.BUREAU)
def green_channel(request_id):
    return _decide(request_id, lambda f: svc.green_channel(db.session, request_info(), request_id,
                                                           catalog(current_app.config), f.comment.data),
                   _("Green channel: the request is being provisioned; complete the approval afterwards."))


@bp.route("/<int:request_id>/complete-approval", methods=["POST"])
@require(Role.BUREAU)
def complete_approval(request_id):
    return _decide(request_id, lambda f: svc.complete_green_approval(db.session, request_info(), request_id,
                                                                     f.comment.data or ""),
                   _("The approval was completed."))


# keep the diff helper reachable for templates
@bp.app_template_global()
def adjusted(spec, counts):
    return apply_adjustment(spec, counts)

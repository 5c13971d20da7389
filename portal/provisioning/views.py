"""The vendor's provisioning pages (issue 5): the queue of jobs, retry, roll back or resolve a failed
request, and the reconciler's findings."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import require
from ..errors import ValidationFailed
from ..extensions import db
from ..models.accounts import Role
from ..requests.forms import ActionForm
from ..services import provisioning_ops as ops
from ..services import resource_requests as requests_svc
from ..web import flash_outcome, page_arg, per_page, request_info
from ..workflow import JOB_ACTION_LABELS, JobState
from .forms import ResolveForm

bp = Blueprint("provisioning", __name__, url_prefix="/provisioning", template_folder="templates")


@bp.route("/")
@require(Role.VENDOR, Role.BUREAU, Role.ADMIN, Role.AUDITOR)
def queue():
    state = request.args.get("state", "")
    state = state if state in set(JobState) else ""
    page = ops.list_jobs(db.session, current_user, state=state, page=page_arg(), per_page=per_page())
    return render_template("provisioning/queue.html", page=page, state=state, action_form=ActionForm(),
                           JOB_ACTION_LABELS=JOB_ACTION_LABELS)


def _operate(request_id, call, done):
    """Carry out an operator action on a failed request; flash its outcome; back to where it came from."""
    requests_svc.get_request(db.session, current_user, request_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    flash_outcome(lambda: call(db.session, request_info(), request_id), done)
    return _back(request_id)


def _back(request_id):
    if request.form.get("back") == "detail":
        return redirect(url_for("requests.detail", request_id=request_id))
    return redirect(url_for("provisioning.queue"))


@bp.route("/<int:request_id>/retry", methods=["POST"])
@require(Role.VENDOR, Role.ADMIN)
def retry(request_id):
    return _operate(request_id, ops.retry_job, _("The request was queued again."))


@bp.route("/<int:request_id>/rollback", methods=["POST"])
@require(Role.VENDOR, Role.ADMIN)
def rollback(request_id):
    return _operate(request_id, ops.rollback_request,
                    _("The rollback was queued: the worker deletes what the request created."))


@bp.route("/<int:request_id>/resolve", methods=["POST"])
@require(Role.VENDOR, Role.ADMIN)
def resolve(request_id):
    requests_svc.get_request(db.session, current_user, request_id)
    form = ResolveForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        flash(" ".join(str(e) for e in form.comment.errors), "danger")
        return _back(request_id)
    try:
        ops.resolve_request(db.session, request_info(), request_id, form.comment.data)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
    else:
        flash(_("The request was marked as resolved."), "success")
    return _back(request_id)


@bp.route("/reconcile")
@require(Role.VENDOR, Role.BUREAU, Role.ADMIN, Role.AUDITOR)
def reconcile():
    kind = request.args.get("kind", "")
    kind = kind if kind in ops.FINDING_KIND_LABELS else ""
    run, ok_run, findings, names = ops.latest_reconcile(db.session, current_user, kind=kind)
    return render_template("provisioning/reconcile.html", run=run, ok_run=ok_run, findings=findings, names=names,
                           kind=kind, KIND_LABELS=ops.FINDING_KIND_LABELS, SUGGESTIONS=ops.SUGGESTION_LABELS,
                           PROBLEMS=ops.PROBLEM_LABELS)

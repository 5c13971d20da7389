"""备份与恢复 pages (第十九条): thin views over portal/services/backups.py."""
import re

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, request,
                   stream_with_context, url_for)
from flask_babel import gettext as _
from flask_login import current_user

from ..access import require
from ..audit_hooks import mark_download
from ..database import utcnow
from ..models.backups import RESTORE_MODE_LABELS, ExtractionState, RunState
from ..errors import PortalError, ValidationFailed
from ..extensions import db
from ..models.accounts import BUSINESS_VIEWERS, Role
from ..services import backups as svc
from ..services import ssh_keys, timelimits
from ..services.timelimits import TimeLimits
from ..services.vendor_access import NoLiveGrant
from ..web import flash_outcome, page_arg, per_page, request_info, show_error
from .forms import ActionForm, DecisionForm, ExtractionForm, KeyForm, PolicyForm, RestoreForm

bp = Blueprint("backups", __name__, url_prefix="/backups", template_folder="templates")
ALL_ROLES = BUSINESS_VIEWERS  # every role but the security administrator (三权分立)
EDITORS = svc.EDITORS


def cloud():
    return current_app.extensions["govcloud_runtime"].cloud()


def _can(roles):
    return current_user.role in roles


def _action(call, done, back):
    """A bare POST (its CSRF token checked): call(), then flash done or the refusal; redirect to back."""
    if ActionForm().validate_on_submit():
        flash_outcome(call, done)
    return redirect(back)


# -- policies -------------------------------------------------------------------------------------

@bp.route("/")
@require(*ALL_ROLES)
def index():
    policies = svc.list_policies(db.session, current_user)
    return render_template("backups/index.html", policies=policies, action_form=ActionForm(),
                           can_edit=_can(EDITORS), can_run=_can(svc.RUNNERS))


def _policy_form(form, policy=None):
    form.target.choices = svc.policy_targets(db.session, current_user)
    keys = svc.key_choices(db.session, current_user, policy.department_id if policy else None)
    if policy is not None and policy.ssh_key_id and policy.ssh_key_id not in {k for k, _label in keys}:
        keys.append((policy.ssh_key_id, f"{policy.ssh_key.name} ({_('revoked')})"))  # kept until changed
    form.ssh_key_id.choices = [("", "—")] + [(str(k), label) for k, label in keys]
    if request.method == "GET" and policy is not None:
        form.fill(policy)
    if form.validate_on_submit():
        try:
            if policy is None:
                policy = svc.create_policy(db.session, request_info(), form.data_for_service())
            else:
                svc.update_policy(db.session, request_info(), policy.id, form.data_for_service())
        except ValidationFailed as exc:
            db.session.rollback()
            if exc.field == "system_id":
                exc.field = "target"
            show_error(form, exc)
        else:
            flash(_("The backup policy was saved."), "success")
            return redirect(url_for(".policy", policy_id=policy.id))
    preview = svc.next_runs(form.cron.data) if form.cron.data and not form.cron.errors else []
    return render_template("backups/policy_form.html", form=form, policy=policy, preview=preview)


@bp.route("/policies/new", methods=["GET", "POST"])
@require(*EDITORS)
def new_policy():
    return _policy_form(PolicyForm())


@bp.route("/policies/<int:policy_id>/edit", methods=["GET", "POST"])
@require(*EDITORS)
def edit_policy(policy_id):
    return _policy_form(PolicyForm(), svc.get_policy(db.session, current_user, policy_id))


@bp.route("/policies/<int:policy_id>")
@require(*ALL_ROLES)
def policy(policy_id):
    pol = svc.get_policy(db.session, current_user, policy_id)
    runs = svc.list_runs(db.session, current_user, policy_id=pol.id, page=1, per_page=10)
    artifacts = svc.list_artifacts(db.session, current_user, policy_id=pol.id, page=1, per_page=20)
    return render_template("backups/policy.html", policy=pol, runs=runs, artifacts=artifacts,
                           next_runs=svc.next_runs(pol.cron) if pol.enabled else [], action_form=ActionForm(),
                           can_edit=_can(EDITORS), can_run=_can(svc.RUNNERS),
                           can_approve=svc.can_approve_hooks(current_user, pol))


@bp.route("/policies/<int:policy_id>/approve-hooks", methods=["POST"])
@require(Role.DEPARTMENT)
def approve_hooks(policy_id):
    pol = svc.get_policy(db.session, current_user, policy_id)
    return _action(lambda: svc.approve_hooks(db.session, request_info(), pol.id),
                   _("The backup commands were approved; they run from the next backup on."),
                   url_for(".policy", policy_id=pol.id))


# -- the department's SSH keys ------------------------------------------------------------------

@bp.route("/keys", methods=["GET", "POST"])
@require(Role.DEPARTMENT)
def keys():
    form = KeyForm()
    created = None
    if request.method == "POST":
        if not current_user.is_dept_admin:
            abort(403)
        if form.validate_on_submit():
            try:
                if form.upload.data:
                    created = ssh_keys.upload_key(db.session, request_info(), form.name.data, form.private_key.data)
                else:
                    created = ssh_keys.generate_key(db.session, request_info(), form.name.data)
            except ValidationFailed as exc:
                db.session.rollback()
                show_error(form, exc)
            else:
                flash(_("The SSH key was saved. Install its public key on the hosts; the private key is not "
                        "shown."), "success")
                form = KeyForm(formdata=None)
    return render_template("backups/keys.html", keys=ssh_keys.department_keys(db.session, current_user),
                           form=form, action_form=ActionForm(), created=created,
                           can_manage=current_user.is_dept_admin)


@bp.route("/keys/<int:key_id>/revoke", methods=["POST"])
@require(Role.DEPARTMENT)
def revoke_key(key_id):
    return _action(lambda: ssh_keys.revoke_key(db.session, request_info(), key_id), _("The SSH key was revoked."),
                   url_for(".keys"))


@bp.route("/policies/<int:policy_id>/enabled", methods=["POST"])
@require(*EDITORS)
def toggle_policy(policy_id):
    form = ActionForm()
    pol = svc.get_policy(db.session, current_user, policy_id)
    if form.validate_on_submit():
        svc.set_policy_enabled(db.session, request_info(), pol.id, not pol.enabled)
        flash(_("The policy was enabled.") if pol.enabled else _("The policy was disabled."), "success")
    return redirect(url_for(".policy", policy_id=pol.id))


@bp.route("/policies/<int:policy_id>/run", methods=["POST"])
@require(*svc.RUNNERS)
def run_now(policy_id):
    pol = svc.get_policy(db.session, current_user, policy_id)
    return _action(lambda: svc.back_up_now(db.session, request_info(), pol.id),
                   _("The backup was queued; it starts within a minute."), url_for(".policy", policy_id=pol.id))


# -- runs, backups, restores ----------------------------------------------------------------------

@bp.route("/runs")
@require(*ALL_ROLES)
def runs():
    state = request.args.get("state", "")
    state = state if state in set(RunState) else ""
    page = svc.list_runs(db.session, current_user, state=state, page=page_arg(), per_page=per_page())
    return render_template("backups/runs.html", page=page, state=state)


@bp.route("/artifacts")
@require(*ALL_ROLES)
def artifacts():
    page = svc.list_artifacts(db.session, current_user, page=page_arg(), per_page=per_page())
    return render_template("backups/artifacts.html", page=page)


@bp.route("/artifacts/<int:artifact_id>/restore", methods=["GET", "POST"])
@require(*svc.RESTORERS)
def restore(artifact_id):
    artifact = svc.get_artifact(db.session, current_user, artifact_id)
    form = RestoreForm()
    form.mode.choices = [(m.value, RESTORE_MODE_LABELS[m]) for m in svc.restore_modes(artifact)]
    if form.validate_on_submit():
        asks = bool(form.ask_vendor.data) and current_user.role == Role.DEPARTMENT  # the vendor is to do it
        fields = dict(urgent=form.urgent.data, reason=form.reason.data, target_name=form.target_name.data)
        try:
            if asks:
                job = svc.request_restore(db.session, request_info(), artifact.id, form.mode.data, **fields)
            else:
                job = svc.start_restore(db.session, request_info(), cloud(), artifact.id, form.mode.data,
                                        settings=current_app.config, **fields)
        except ValidationFailed as exc:
            db.session.rollback()
            show_error(form, exc)
        except NoLiveGrant as exc:  # 第十八条: the refusal is audited; the vendor reads why
            db.session.rollback()
            flash(str(exc.message), "danger")
            return render_template("backups/restore.html", form=form, artifact=artifact), 403
        else:
            if asks:
                flash(_("The vendor was asked to carry out the restore."), "success")
            elif job.state == "failed":
                flash(_("The restore could not be started: %(message)s", message=_(job.error_message)), "danger")
            else:
                flash(_("The restore has started."), "success")
            return redirect(url_for(".restores"))
    return render_template("backups/restore.html", form=form, artifact=artifact)


@bp.route("/restores")
@require(*ALL_ROLES)
def restores():
    page = svc.list_restores(db.session, current_user, page=page_arg(), per_page=per_page())
    return render_template("backups/restores.html", page=page, action_form=ActionForm())


@bp.route("/restores/<int:restore_id>/start", methods=["POST"])
@require(Role.VENDOR)
def start_requested_restore(restore_id):
    return _action(lambda: svc.carry_out_restore(db.session, request_info(), cloud(), restore_id,
                                                 settings=current_app.config),
                   _("The restore has started."), url_for(".restores"))


@bp.route("/restores/<int:restore_id>/withdraw", methods=["POST"])
@require(Role.DEPARTMENT)
def withdraw_restore(restore_id):
    return _action(lambda: svc.withdraw_restore(db.session, request_info(), restore_id),
                   _("The restore request was withdrawn."), url_for(".restores"))


# -- extractions ----------------------------------------------------------------------------------

@bp.route("/artifacts/<int:artifact_id>/extract", methods=["GET", "POST"])
@require(Role.DEPARTMENT)
def extract(artifact_id):
    artifact = svc.get_artifact(db.session, current_user, artifact_id)
    form = ExtractionForm()
    if form.validate_on_submit():
        try:
            extraction = svc.apply_extraction(db.session, request_info(), artifact.id, form.reason.data)
        except ValidationFailed as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("Your application was sent to the bureau."), "success")
            return redirect(url_for(".extraction", extraction_id=extraction.id))
    return render_template("backups/extract.html", form=form, artifact=artifact)


@bp.route("/extractions")
@require(*ALL_ROLES)
def extractions():
    state = request.args.get("state", "")
    state = state if state in set(ExtractionState) else ""
    page = svc.list_extractions(db.session, current_user, state=state, page=page_arg(), per_page=per_page())
    return render_template("backups/extractions.html", page=page, state=state)


def _extraction_page(extraction, decision=None, link=None, status=200):
    limits = TimeLimits.from_config(current_app.config)
    return render_template("backups/extraction.html", extraction=extraction, decision=decision or DecisionForm(),
                           action_form=ActionForm(), link=link,
                           time_limit=timelimits.decision_deadline(db.session, extraction, limits, utcnow())), status


@bp.route("/extractions/<int:extraction_id>")
@require(*ALL_ROLES)
def extraction(extraction_id):
    return _extraction_page(svc.get_extraction(db.session, current_user, extraction_id))


@bp.route("/extractions/<int:extraction_id>/decide", methods=["POST"])
@require(*svc.DECIDERS)
def decide(extraction_id):
    form = DecisionForm()
    ext = svc.get_extraction(db.session, current_user, extraction_id)
    if form.validate_on_submit():
        try:
            svc.decide_extraction(db.session, request_info(), cloud(), ext.id, bool(form.approve.data),
                                  form.comment.data, settings=current_app.config)
        except ValidationFailed as exc:
            db.session.rollback()
            show_error(form, exc)
            return _extraction_page(ext, decision=form)
        flash(_("Decision recorded."), "success")
    return redirect(url_for(".extraction", extraction_id=ext.id))


@bp.route("/extractions/<int:extraction_id>/link", methods=["POST"])
@require(Role.DEPARTMENT)
def make_link(extraction_id):
    form = ActionForm()
    ext = svc.get_extraction(db.session, current_user, extraction_id)
    if not form.validate_on_submit():
        return redirect(url_for(".extraction", extraction_id=ext.id))
    try:
        token = svc.issue_link(db.session, request_info(), ext.id)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
        return redirect(url_for(".extraction", extraction_id=ext.id))
    except svc.LinkGone as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
        return redirect(url_for(".extraction", extraction_id=ext.id))
    return _extraction_page(ext, link=url_for(".download", token=token, _external=True))


@bp.route("/download/<token>")
@require(Role.DEPARTMENT)
def download(token):
    try:
        ext, size, chunks = svc.open_download(db.session, request_info(), cloud(), token)
    except (svc.LinkUnknown, svc.LinkGone, svc.ExportUnavailable) as exc:
        return render_template("errors/error.html", code=exc.http_status, title=_("Download link"),
                               message=exc.message), exc.http_status
    except PortalError as exc:
        abort(exc.http_status)
    mark_download(audited=True)  # open_download recorded backup.extraction.download
    name = re.sub(r"[^A-Za-z0-9._-]", "_", ext.artifact.name or f"backup-{ext.artifact_id}") + ".img"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    if size is not None:
        headers["Content-Length"] = str(size)
    return Response(stream_with_context(chunks), mimetype="application/octet-stream", headers=headers)

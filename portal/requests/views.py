"""Resource requests (附件1/附件2), receipts (附件3) and personal API tokens, for the department and all readers."""
import os
import re
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import (Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, send_file,
                   session as web_session, url_for)
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..access import require
from ..audit_hooks import mark_download
from ..database import utcnow
from ..errors import AccountLocked, ValidationFailed
from ..extensions import db
from ..labels import label
from ..models.accounts import BUSINESS_VIEWERS, Role
from ..models.projects import CLOSED, PROJECT_STATE_LABELS
from ..services import (accounts, api_tokens, charts, decommission as decommission_svc, decommission_guard,
                       progress, projects as projects_svc, receipts, resource_requests as svc, timelimits)
from ..services.timelimits import TimeLimits
from ..services.cloud_catalog import catalog
from ..services.resource_requests import SubmissionInvalid
from ..services.statements import estimate_for_spec
from ..specs import Limits, diff_specs, expand, normalize_spec
from ..steps import step_label
from ..web import login_policy, page_arg, passwords, per_page, request_info, show_error
from ..workflow import EDITABLE, KIND_LABELS, RequestKind, RequestState, state_label
from .forms import (RULE_ROWS, SERVER_ROWS, VOLUME_ROWS, ActionForm, DecommissionForm, EstimateForm, RequestForm,
                    TokenForm,
                    UploadForm, files_from_form, fill_form, spec_from_form)

bp = Blueprint("requests", __name__, url_prefix="/requests", template_folder="templates")
ALL_ROLES = BUSINESS_VIEWERS  # every role but the security administrator (三权分立)
CHART_DAYS = 7  # the days a system's charts show first


def upload_dir():
    return os.path.join(current_app.instance_path, "uploads")


@bp.route("/")
@require(*ALL_ROLES)
def index():
    state = request.args.get("state", "")
    kind = request.args.get("kind", "")
    state = state if state in set(RequestState) else ""
    kind = kind if kind in set(RequestKind) else ""
    q = request.args.get("q", "").strip()
    urgent = request.args.get("urgent") == "1"
    page = svc.list_requests(db.session, current_user, state=state, kind=kind, q=q, urgent=urgent,
                             page=page_arg(), per_page=per_page())
    return render_template("requests/index.html", page=page, state=state, kind=kind, q=q, urgent=urgent)


def _project_choices(form):
    """The department's projects a new system may name (state shown), the one chosen kept."""
    own = projects_svc.list_projects(db.session, current_user)
    form.project_id.choices = [SelectChoice("", _("— no project —"))] + [
        SelectChoice(str(p.id), f"{p.number} {p.name} · {label(PROJECT_STATE_LABELS, p.state)}")
        for p in own if p.state not in CLOSED]


def _render_form(form, req, problems=()):
    _project_choices(form)
    spec = normalize_spec(req.spec if req is not None else {})
    if request.method == "POST":
        spec = normalize_spec(spec_from_form(form, request.form))
    servers = spec["servers"] + [None] * (SERVER_ROWS - len(spec["servers"]))
    volumes = spec["volumes"] + [None] * (VOLUME_ROWS - len(spec["volumes"]))
    rules = spec["rules"] + [None] * (RULE_ROWS - len(spec["rules"]))
    cat = catalog(current_app.config)
    # the estimated monthly fee at today's 计费标准 (issue 9), updated while filling in (estimate.js)
    estimate = estimate_for_spec(db.session, spec, {f["name"]: f for f in cat["flavors"]})
    current = None
    if req is not None and req.kind == RequestKind.CHANGE:
        current = svc.current_spec(db.session, req.system_root_id)
    return render_template("requests/form.html", form=form, req=req, catalog=cat, estimate=estimate,
                           estimate_text=_estimate_text(estimate) if estimate else "",
                           current_instances=expand(current)[0] if current else [], spec=spec,
                           guard=decommission_guard.guard_status(db.session, req) if current else None,
                           servers=servers[:max(SERVER_ROWS, len(spec["servers"]))],
                           volumes=volumes[:max(VOLUME_ROWS, len(spec["volumes"]))],
                           rules=rules[:max(RULE_ROWS, len(spec["rules"]))], problems=problems,
                           upload_form=UploadForm(formdata=None))


def _estimate_text(estimate):
    return _("Estimated monthly fee at the current rate card (720 hours): %(total)s yuan", total=estimate[1])


@bp.route("/estimate", methods=["POST"])
@require(Role.DEPARTMENT)
def estimate():
    """The live cost estimate of the form being filled in, as JSON: {"priced": false} while no rate exists."""
    form = EstimateForm()
    if not form.validate_on_submit():
        return jsonify(priced=False, problems=sorted(form.errors)), 422
    spec = normalize_spec(spec_from_form(form, request.form))
    cat = catalog(current_app.config)
    result = estimate_for_spec(db.session, spec, {f["name"]: f for f in cat["flavors"]})
    if result is None:
        return jsonify(priced=False)
    return jsonify(priced=True, total=str(result[1]), text=_estimate_text(result),
                   lines=[{"resource": rtype, "quantity": quantity, "amount": str(amount)}
                          for rtype, quantity, amount in result[0]])


@bp.route("/new", methods=["GET", "POST"])
@require(Role.DEPARTMENT)
def create():
    form = RequestForm()
    problems = ()
    if form.validate_on_submit():
        try:
            documents = [(purpose, f.filename, f.stream) for purpose, f in files_from_form(form)]
            req = svc.create_with_documents(db.session, request_info(), form.data_for_service(),
                                            spec_from_form(form, request.form), documents, upload_dir(),
                                            limits=Limits.from_config(current_app.config))
        except ValidationFailed as exc:
            db.session.rollback()
            problems = show_error(form, exc)
        else:
            flash(_("The draft %(number)s was saved.", number=req.number), "success")
            return redirect(url_for("requests.edit", request_id=req.id))
    return _render_form(form, None, problems)


@bp.route("/<int:request_id>")
@require(*ALL_ROLES)
def detail(request_id):
    req = svc.get_request(db.session, current_user, request_id)
    system_id = req.system_root_id
    current = svc.current_spec(db.session, system_id) if req.kind != RequestKind.NEW else None
    changes = diff_specs(current, req.spec) if current is not None and req.kind == RequestKind.CHANGE else []
    jobs = svc.request_jobs(db.session, req)
    superseded = svc.superseded_by(db.session, req)
    # a request overtaken by a change shows what the system has now; its own sizes stay in the history
    spec = current if superseded is not None else normalize_spec(req.approved_spec or req.spec)
    if superseded is not None and current is None:
        spec = svc.current_spec(db.session, system_id)
    live = progress.request_progress(db.session, current_user, req.id) if jobs else None
    instances, volumes = expand(spec)
    resources = svc.system_resources(db.session, current_user, system_id)
    system_status = svc.system_status(db.session, system_id)
    return render_template(
        "requests/detail.html", req=req, spec=spec, changes=changes, jobs=jobs, instances=instances,
        volumes=volumes, superseded=superseded, history=svc.system_requests(db.session, system_id),
        resources=resources,
        receipt=receipts.receipt_for_request(db.session, req.id),
        system_status=system_status, action_form=ActionForm(), system_phase=projects_svc.system_phase(req.system or req),
        show_charts=req.kind == RequestKind.NEW and (bool(resources) or system_status in ("live", "decommissioned")),
        is_owner=current_user.role == Role.DEPARTMENT, editable=req.state in EDITABLE,
        guard=decommission_guard.guard_status(db.session, req) if req.kind == RequestKind.DECOMMISSION else None,
        time_limit=timelimits.request_deadline(db.session, req, TimeLimits.from_config(current_app.config), utcnow()),
        progress=live, step_label=step_label, chart_days=CHART_DAYS,
        )


@bp.route("/<int:request_id>/progress.json")
@require(*ALL_ROLES)
def progress_json(request_id):
    """The provisioning progress of a request (the page's bar polls it)."""
    return jsonify(progress.request_progress(db.session, current_user, request_id))


@bp.route("/<int:request_id>/charts.json")
@require(*ALL_ROLES)
def charts_json(request_id):
    """The availability and usage charts of the request's system over `days` days (1–31, default 7)."""
    days = request.args.get("days", str(CHART_DAYS))
    if not re.fullmatch(r"[0-9]{1,2}", days) or not 1 <= int(days) <= charts.MAX_DAYS:
        abort(400)
    return jsonify(charts.system_charts(db.session, current_user, request_id, days=int(days)))


@bp.route("/<int:request_id>/edit", methods=["GET", "POST"])
@require(Role.DEPARTMENT)
def edit(request_id):
    req = svc.get_request(db.session, current_user, request_id)
    if req.kind == RequestKind.DECOMMISSION:
        return redirect(url_for("requests.decommission", request_id=req.system_root_id))
    form = RequestForm()
    problems, status = (), 200
    if request.method == "GET":
        fill_form(form, req)
        form.seen.data = svc.edit_token(req)
        problems = web_session.pop(f"problems-{req.id}", [])
    elif form.validate_on_submit():
        try:
            svc.update_request(db.session, request_info(), req.id, form.data_for_service(req.kind),
                               spec_from_form(form, request.form), limits=Limits.from_config(current_app.config),
                               seen=form.seen.data)
        except ValidationFailed as exc:
            db.session.rollback()
            problems = show_error(form, exc)
            form.seen.data = svc.edit_token(svc.get_request(db.session, current_user, req.id))
            status = exc.http_status if exc.http_status == 409 else 200
        else:
            if request.form.get("then") == "submit":
                return _submit(req.id)
            if request.form.get("then") == "final_backup" and req.kind == RequestKind.CHANGE:
                return _action(req.id, lambda: decommission_svc.start_final_backup(db.session, request_info(), req.id),
                               _("A final backup of the system was requested; submit the change once it has "
                                 "succeeded."), target=lambda _run: url_for("requests.edit", request_id=req.id))
            flash(_("The draft was saved."), "success")
            return redirect(url_for("requests.edit", request_id=req.id))
    return _render_form(form, req, problems), status


def _submit(request_id):
    try:
        req = svc.submit_request(db.session, request_info(), request_id, catalog(current_app.config),
                                 gate=current_app.config["PROJECT_GATE"])
    except SubmissionInvalid as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
        for _field, message in exc.problems:
            flash(str(message), "danger")
        web_session[f"problems-{request_id}"] = sorted({field for field, _m in exc.problems})
        return redirect(url_for("requests.edit", request_id=request_id))
    except ValidationFailed as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
        return redirect(url_for("requests.detail", request_id=request_id))
    flash(_("Request %(number)s was submitted for review.", number=req.number), "success")
    return redirect(url_for("requests.detail", request_id=request_id))


@bp.route("/<int:request_id>/submit", methods=["POST"])
@require(Role.DEPARTMENT)
def submit(request_id):
    svc.get_request(db.session, current_user, request_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return _submit(request_id)


@bp.route("/<int:request_id>/cancel", methods=["POST"])
@require(Role.DEPARTMENT)
def cancel(request_id):
    return _action(request_id, lambda: svc.cancel_request(db.session, request_info(), request_id),
                   _("The request was cancelled."))


def _action(request_id, call, message, target=None):
    svc.get_request(db.session, current_user, request_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        result = call()
    except ValidationFailed as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
        return redirect(url_for("requests.detail", request_id=request_id))
    flash(message, "success")
    return redirect(target(result) if target else url_for("requests.detail", request_id=request_id))


@bp.route("/<int:request_id>/upload", methods=["POST"])
@require(Role.DEPARTMENT)
def upload(request_id):
    svc.get_request(db.session, current_user, request_id)
    form = UploadForm()
    file = form.document.data if form.validate_on_submit() else None
    if file is None or not getattr(file, "filename", ""):
        flash(_("Choose a file to upload."), "danger")
    else:
        try:
            svc.add_attachment(db.session, request_info(), request_id, form.purpose.data, file.filename,
                               file.stream, upload_dir())
        except ValidationFailed as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
        else:
            flash(_("The document was uploaded."), "success")
    return redirect(url_for("requests.edit", request_id=request_id))


@bp.route("/<int:request_id>/documents/<int:attachment_id>")
@require(*ALL_ROLES)
def attachment(request_id, attachment_id):
    att, path = svc.get_attachment(db.session, current_user, request_id, attachment_id, upload_dir())
    if not os.path.exists(path):
        abort(404)
    mark_download("request_attachment", att.id, svc.get_request(db.session, current_user, request_id).department_id)
    return send_file(path, mimetype=att.content_type, as_attachment=True, download_name=att.filename)


@bp.route("/<int:request_id>/change", methods=["GET", "POST"])
@require(Role.DEPARTMENT)
def change(request_id):
    """附件2 变更: asks first (GET: what a change does, and any change already open), then opens the draft."""
    if request.method == "GET":
        system = svc.get_request(db.session, current_user, request_id)
        root = svc.get_request(db.session, current_user, system.system_root_id)
        return render_template("requests/change_confirm.html", system=root,
                               status=svc.system_status(db.session, root.id),
                               open_requests=svc.open_requests(db.session, root.id), action_form=ActionForm())
    return _action(request_id, lambda: svc.start_change(db.session, request_info(), request_id, RequestKind.CHANGE),
                   _("A change request was opened; adjust the resources and submit it."),
                   target=lambda r: url_for("requests.edit", request_id=r.id))


@bp.route("/<int:request_id>/decommission", methods=["GET", "POST"])
@require(Role.DEPARTMENT)
def decommission(request_id):
    """附件2 注销 with the guard of 第十条(二): a final backup first, or the migration confirmed with a note."""
    system = svc.get_request(db.session, current_user, request_id)
    if system.kind != RequestKind.NEW:
        return redirect(url_for("requests.decommission", request_id=system.system_root_id))
    draft = decommission_svc.open_draft(db.session, system)
    form = DecommissionForm(obj=draft)
    if form.validate_on_submit():
        action = request.form.get("action", "submit")
        try:
            draft = decommission_svc.save_draft(db.session, request_info(), system.id, form.reason.data,
                                                form.backup_confirmed.data, form.migration_note.data)
            if action == "final_backup":
                decommission_svc.start_final_backup(db.session, request_info(), draft.id)
                flash(_("A final backup of the system was requested; submit the decommission once it has "
                        "succeeded."), "success")
                return redirect(url_for("requests.decommission", request_id=system.id))
            if action == "save":
                flash(_("The draft was saved."), "success")
                return redirect(url_for("requests.decommission", request_id=system.id))
            req = svc.submit_request(db.session, request_info(), draft.id, {}, gate=current_app.config["PROJECT_GATE"])
        except SubmissionInvalid as exc:
            db.session.rollback()
            for field, message in exc.problems:
                show_error(form, ValidationFailed(message, field=field))
        except ValidationFailed as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("Request %(number)s was submitted for review.", number=req.number), "success")
            return redirect(url_for("requests.detail", request_id=req.id))
        draft = decommission_svc.open_draft(db.session, system)
    return render_template("requests/decommission.html", form=form, system=system, draft=draft,
                           guard=decommission_guard.guard_status(db.session, draft) if draft else None,
                           resources=svc.system_resources(db.session, current_user, system.id))


# -- receipts (附件3)

@bp.route("/<int:request_id>/form.pdf")
@require(*ALL_ROLES)
def form_pdf(request_id):
    """附件1 (a new request) or 附件2 (a change or a decommission) as a printable PDF."""
    req = svc.get_request(db.session, current_user, request_id)
    current = svc.current_spec(db.session, req.system_root_id) if req.kind != RequestKind.NEW else None
    title, header, tables, footer = _form_labels(req, current)
    pdf = receipts.form_pdf(title, header, tables, footer)
    mark_download("resource_request", req.id, req.department_id)
    import io
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=False,
                     download_name=f"{req.number}.pdf")


def _form_labels(req, current):
    """Title, header lines, tables and signature lines of 附件1 or 附件2 for req."""
    from ..labels import LEVEL_LABELS, label
    from ..services.resource_requests import DOCUMENT_LABELS
    spec = normalize_spec(req.approved_spec or req.spec)
    instances, volumes = expand(spec)
    del instances
    header = [(_("Request number"), req.number), (_("Department"), req.department.name),
              (_("System name"), req.system_name), (_("State"), str(state_label(req.kind, req.state))),
              (_("Submitted at"), _localtime_text(req.submitted_at) or "—")]
    if req.kind == RequestKind.NEW:
        title = _("Government cloud resource request form (Form 1)")
        header += [(_("Purpose"), req.purpose or "—"), (_("Security level"), str(label(LEVEL_LABELS, req.security_level))),
                   (_("Informatization project"), req.project_ref or "—"), (_("Bandwidth"), bandwidth_text(req)),
                   (_("Network"), spec["network"].get("cidr") or _("automatic")),
                   (_("Floating IPs"), spec["floating_ips"]),
                   (_("Documents"), "、".join(f"{DOCUMENT_LABELS.get(a.purpose, a.purpose)}（{a.filename}）"
                                             for a in req.attachments) or "—")]
        tables = [(_("Servers"), [_("Name"), _("Flavor"), _("Image"), _("Count")],
                   [[s["name"], s["flavor"], s["image"], s["count"]] for s in spec["servers"]], None),
                  (_("Volumes"), [_("Name"), _("Size"), _("Attached to")],
                   [[v["name"], f"{v['size_gb']} GB", v.get("attach_to") or "—"] for v in volumes], None),
                  (_("Security group rules"), [_("Protocol"), _("Port"), _("Source")],
                   [[r["protocol"], r["port"], r["source"]] for r in spec["rules"]], None)]
    else:
        title = _("Government cloud resource change / decommission form (Form 2)")
        header += [(_("Kind"), str(KIND_LABELS[req.kind])), (_("Reason"), req.reason or "—")]
        if req.kind == RequestKind.DECOMMISSION:
            header.append((_("Data migrated or backed up"), req.migration_note or (_("Yes") if req.backup_confirmed else _("No"))))
            rows = [[s["name"], s["flavor"], s["count"], _("Deleted")] for s in normalize_spec(current)["servers"]]
            tables = [(_("What is deleted"), [_("Name"), _("Flavor"), _("Count"), _("Change")], rows, None)]
        else:
            tables = [(_("Changes"), [_("Item"), _("Field"), _("From"), _("To")],
                       [[c["item"], c["field"], c["from"], c["to"]] for c in diff_specs(current, req.spec)], None)]
    review = req.review_comment or "—"
    footer = [_("Review by the big-data bureau: %(comment)s", comment=review), "",
              _("Department (seal): ____________    Person in charge: ____________    Date: ____________"),
              _("Big-data bureau (seal): ____________    Reviewer: ____________    Date: ____________")]
    return title, header, tables, footer


@bp.route("/receipts/<int:receipt_id>")
@require(*ALL_ROLES)
def receipt(receipt_id):
    rec = receipts.get_receipt(db.session, current_user, receipt_id)
    return render_template("requests/receipt.html", receipt=rec, req=rec.request, action_form=ActionForm())


@bp.route("/receipts/<int:receipt_id>/pdf")
@require(*ALL_ROLES)
def receipt_pdf(receipt_id):
    rec = receipts.get_receipt(db.session, current_user, receipt_id)
    pdf = receipts.receipt_pdf(rec, _pdf_labels(rec))
    mark_download("delivery_receipt", rec.id, rec.department_id)
    import io
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=False,
                     download_name=f"{rec.number}.pdf")


@bp.app_template_global()
def receipt_words(req):
    """The receipt's own words: a 资源交付回执单 with its 交付时间, or a decommission's 注销回执 with its 注销时间."""
    if req.kind == RequestKind.DECOMMISSION:
        return {"title": _("Government cloud resource decommission receipt"), "time": _("Decommissioned at"),
                "link": _("Decommission receipt")}
    return {"title": _("Government cloud resource delivery receipt"), "time": _("Delivered at"),
            "link": _("Delivery receipt")}


def _pdf_labels(rec):
    req = rec.request
    words = receipt_words(req)
    confirmed = (_("Confirmed by %(name)s at %(time)s", name=rec.confirmed_by.full_name or rec.confirmed_by.username,
                   time=_localtime_text(rec.confirmed_at)) if rec.confirmed_at else _("Not yet confirmed"))
    return {
        "title": words["title"],
        "header": [(_("Receipt number"), rec.number), (_("Request"), f"{req.number} {KIND_LABELS[req.kind]}"),
                   (_("Department"), req.department.name), (_("System name"), req.system_name),
                   (words["time"], _localtime_text(rec.issued_at)), (_("Operator"), rec.operator),
                   (_("Bandwidth"), bandwidth_text(req))],
        "columns": [_("Type"), _("Name"), _("OpenStack ID"), _("Flavor / size"), _("Status"), _("Addresses / network"),
                    _("Floating IP")],
        "row": lambda i: [_resource_kind(i["kind"]), i["name"], i["openstack_id"], _size(i),
                          _("Deleted") if i.get("status") == "deleted" else _("Delivered"), _addresses(i),
                          i.get("address", "")],
        "footer": [_("Receipt (签收): %(state)s", state=confirmed), "",
                   _("Department (signature): ____________    Date: ____________"),
                   _("Cloud vendor (signature): ____________    Date: ____________")],
    }


def _localtime_text(value):
    from flask_babel import format_datetime
    return format_datetime(value, "yyyy-MM-dd HH:mm") if value else ""


def _resource_kind(kind):
    from ..labels import label
    from .labels import RESOURCE_LABELS
    return str(label(RESOURCE_LABELS, kind))


def _size(item):
    if item.get("flavor"):
        return item["flavor"]
    if item.get("size_gb"):
        return f"{item['size_gb']} GB"
    return item.get("cidr", "")


def _addresses(item, resources=()):
    """Addresses of a server, the server a volume is attached to (by name), a floating IP's fixed address."""
    if item.get("addresses"):
        return ", ".join(f"{a['addr']} ({a['network']})" for a in item["addresses"])
    if item.get("attached_to"):
        names = {r.openstack_id: r.name for r in resources if r.kind == "server"}
        return item.get("attached_to_name") or names.get(item["attached_to"], item["attached_to"])
    return item.get("fixed", "")


@bp.app_template_global()
def bandwidth_text(req):
    """The bandwidth of 附件1 a request asks for (or was approved), or 未申请 when none."""
    mbps = normalize_spec(req.approved_spec or req.spec)["bandwidth_mbps"]
    return _("%(n)d Mbps", n=mbps) if mbps else _("Not requested")


@bp.app_template_global()
def resource_size(item):
    return _size(item)


@bp.app_template_global()
def resource_addresses(item, resources=()):
    return _addresses(item, resources)


@bp.app_template_global()
def required_documents(req):
    """Return (label, uploaded) of each document req's kind requires (附件1)."""
    missing = svc.missing_documents(req)
    return [(svc.DOCUMENT_LABELS[p], p not in missing) for p in svc.REQUIRED_DOCUMENTS.get(req.kind, ())]


@bp.app_template_global()
def document_label(purpose):
    return svc.DOCUMENT_LABELS.get(purpose, purpose)


@bp.app_template_global()
def resource_kind(kind):
    return _resource_kind(kind)


@bp.app_template_global()
def diff_row(change):
    """Return (item, field, from, to) of a spec difference in the user's language."""
    from .labels import DIFF_FIELDS, DIFF_ITEMS, DIFF_VALUES
    kind, _, name = str(change.get("item", "")).partition(" ")
    item = f"{DIFF_ITEMS[kind]} {name}".strip() if kind in DIFF_ITEMS else change.get("item", "")
    field = change.get("field", "")
    values = [DIFF_VALUES.get(v, v) if isinstance(v, str) else v for v in (change.get("from"), change.get("to"))]
    values = [", ".join(map(str, v)) if isinstance(v, list) else v for v in values]
    return item, DIFF_FIELDS.get(field, field), values[0], values[1]


@bp.route("/receipts/<int:receipt_id>/confirm", methods=["POST"])
@require(Role.DEPARTMENT)
def confirm_receipt(receipt_id):
    rec = receipts.get_receipt(db.session, current_user, receipt_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        receipts.confirm_receipt(db.session, request_info(), rec.id)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
    else:
        flash(_("The receipt was confirmed."), "success")
    return redirect(url_for("requests.receipt", receipt_id=rec.id))


# -- personal API tokens

def _beijing_today():
    return utcnow().astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def _start_of_day(day):
    """The token stops working at 00:00 Beijing time of its expiry date."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day, time.min, zone).astimezone(timezone.utc)


def _create_token(form):
    """Re-check the password, then create the token; return the plaintext or None."""
    try:
        accounts.reauthenticate(db.session, request_info(), current_user, form.password.data,
                                policy=login_policy(), passwords=passwords(), purpose="api token")
        _token, plaintext = api_tokens.create_token(db.session, request_info(), current_user, form.name.data,
                                                    scope=form.scope.data,
                                                    expires_at=_start_of_day(form.expires_on.data))
    except AccountLocked as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
    except ValidationFailed as exc:
        db.session.rollback()
        show_error(form, exc)
    else:
        return plaintext
    return None


@bp.route("/tokens", methods=["GET", "POST"])
@require(*ALL_ROLES)
def tokens():
    today = _beijing_today()
    form = TokenForm(expires_on=today + timedelta(days=api_tokens.DEFAULT_DAYS))
    plaintext = None
    if form.validate_on_submit():
        plaintext = _create_token(form)
        if plaintext:
            flash(_("Copy the token now: it is shown only once."), "warning")
            form = TokenForm(formdata=None, expires_on=today + timedelta(days=api_tokens.DEFAULT_DAYS))
    form.password.data = ""
    return render_template("requests/tokens.html", form=form, tokens=api_tokens.list_tokens(db.session, current_user),
                           plaintext=plaintext, action_form=ActionForm(), now=utcnow(), state_of=api_tokens.token_state,
                           first_day=today + timedelta(days=1), last_day=today + timedelta(days=api_tokens.MAX_DAYS))


@bp.route("/tokens/all")
@require(Role.ADMIN)
def all_tokens():
    return render_template("requests/all_tokens.html", rows=api_tokens.list_all_tokens(db.session, current_user),
                           action_form=ActionForm(), now=utcnow(), state_of=api_tokens.token_state)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@require(*ALL_ROLES)
def revoke_token(token_id):
    """Revoke one of the user's own tokens; an admin may revoke anyone's (from the list of all)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    token = api_tokens.revoke_token(db.session, request_info(), current_user, token_id)
    flash(_("The token was revoked."), "success")
    if token.user_id != current_user.id:
        return redirect(url_for("requests.all_tokens"))
    return redirect(url_for("requests.tokens"))

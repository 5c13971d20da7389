"""云资源 (issue 18): the live inventory for every role, read from the database; a department's
actions on its own servers (the vendor's during a live grant); refresh of one object."""
import logging
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from ..access import require
from ..audit_hooks import mark_download
from ..errors import PortalError
from ..extensions import db
from ..models.accounts import BUSINESS_VIEWERS, Role
from ..models.inventory import ITEM_KIND_LABELS, ItemKind
from ..services import live_inventory as inv
from ..web import page_arg, request_info

log = logging.getLogger(__name__)
bp = Blueprint("inventory", __name__, url_prefix="/inventory", template_folder="templates")
PER_PAGE = 80
REFRESHERS = (Role.DEPARTMENT, Role.BUREAU, Role.VENDOR, Role.ADMIN)  # the auditor only reads
MAX_TEXT = 100


def cloud():
    return current_app.extensions["govcloud_runtime"].cloud()


def _int(name):
    value = request.args.get(name, "")
    if value == "":
        return None
    if not value.isdigit() or len(value) > 9:
        abort(400)
    return int(value)


def _text(name):
    value = request.args.get(name, "")
    if len(value) > MAX_TEXT or any(ord(c) < 32 for c in value):
        abort(400)
    return value


def _query(kind):
    if kind not in set(ItemKind):
        abort(400)
    sort = request.args.get("sort", "name")
    if sort not in inv.SORTS:
        abort(400)
    return inv.Query(kind=kind, department_id=_int("department_id"), system_id=_int("system_id"),
                     status=_text("status"), flavor=_text("flavor"), image=_text("image"), host=_text("host"),
                     q=_text("q"), sort=sort, desc=request.args.get("desc") == "1",
                     gone=request.args.get("gone") == "1")


@bp.route("/")
@require(*BUSINESS_VIEWERS)
def index():
    kind = request.args.get("kind", ItemKind.SERVER)
    query = _query(kind)
    page = inv.list_items(db.session, current_user, query, page=page_arg(), per_page=PER_PAGE)
    return render_template("inventory/index.html", kind=kind, query=query, page=page,
                           choices=inv.filter_choices(db.session, current_user, kind),
                           counts=inv.counts(db.session, current_user), fresh=inv.freshness(db.session),
                           KINDS=ITEM_KIND_LABELS, inv=inv, show_host=current_user.role in (Role.VENDOR, Role.ADMIN))


@bp.route("/capacity")
@require(Role.VENDOR, Role.BUREAU, Role.AUDITOR, Role.ADMIN)
def capacity():
    from ..services import capacity as cap
    pools, departments, taken_at = cap.overview(db.session, current_app.config)
    return render_template("inventory/capacity.html", pools=pools, departments=departments, taken_at=taken_at,
                           reserve=current_app.config["EMERGENCY_RESERVE_PERCENT"])


@bp.route("/export.<fmt>")
@require(*BUSINESS_VIEWERS)
def export(fmt):
    from ..services.reports import to_csv, to_xlsx
    if fmt not in ("csv", "xlsx"):
        abort(404)
    kind = request.args.get("kind", ItemKind.SERVER)
    query = _query(kind)
    headings, rows = inv.export_rows(db.session, current_user, query)
    mark_download("inventory", kind)
    title = str(ITEM_KIND_LABELS[kind])
    if fmt == "csv":
        body, mime = to_csv(headings, rows), "text/csv; charset=utf-8"
    else:
        body, mime = to_xlsx(title, headings, rows), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mime,
                    headers={"Content-Disposition": f'attachment; filename="inventory-{kind}.{fmt}"'})


@bp.route("/items/<int:item_id>")
@require(*BUSINESS_VIEWERS)
def detail(item_id):
    item = inv.get_item(db.session, current_user, item_id)
    allowed, grant = inv.may_act(db.session, current_user, item)
    refreshable = current_user.role in REFRESHERS
    return render_template("inventory/detail.html", item=item, related=inv.related(db.session, item),
                           may_act=allowed, grant=grant, form=FlaskForm(), inv=inv, refreshable=refreshable,
                           fresh=inv.freshness(db.session), show_host=current_user.role in (Role.VENDOR, Role.ADMIN),
                           KINDS=ITEM_KIND_LABELS)


@bp.route("/items/<int:item_id>/refresh", methods=["POST"])
@require(*REFRESHERS)
def refresh(item_id):
    from provisioner import errors as cloud_errors
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        found = inv.refresh(db.session, request_info(), current_app.config, cloud(), item_id)
    except cloud_errors.ProvisioningError as exc:
        db.session.rollback()
        log.warning("inventory: the cloud did not answer: %s", exc)  # its own words, in English: for the log
        flash(_("The cloud did not answer; nothing was done. Please try again later."), "danger")
        return redirect(url_for("inventory.detail", item_id=item_id))
    if found is None or found.gone_at is not None:
        flash(_("The cloud no longer has this object."), "warning")
    else:
        flash(_("Refreshed from the cloud."), "success")
    return redirect(url_for("inventory.detail", item_id=item_id) if found is not None
                    else url_for("inventory.index"))


@bp.route("/items/<int:item_id>/action", methods=["POST"])
@require(Role.DEPARTMENT, Role.VENDOR)
def action(item_id):
    if not FlaskForm().validate_on_submit():
        abort(400)
    name = request.form.get("action", "")
    try:
        if name == "snapshot":
            inv.snapshot_now(db.session, request_info(), current_app.config, item_id)
            flash(_("The backup was queued; it runs within a minute."), "success")
        else:
            inv.server_action(db.session, request_info(), current_app.config, cloud(), item_id, name)
            flash(_("Done: %(action)s.", action=inv.ACTION_LABELS[name]), "success")
    except PortalError as exc:
        db.session.rollback()
        if exc.http_status in (403, 404):
            abort(exc.http_status)
        flash(str(exc.message), "danger")
        # a refusal of the state, the rate or the cloud: 303; a form without a known action: 302
        return redirect(url_for("inventory.detail", item_id=item_id)), 302 if exc.http_status == 400 else 303
    return redirect(url_for("inventory.detail", item_id=item_id))


@bp.route("/items/<int:item_id>/console")
@require(Role.DEPARTMENT, Role.VENDOR)
def console(item_id):
    from provisioner import errors as cloud_errors
    try:
        item, text = inv.console_log(db.session, request_info(), current_app.config, cloud(), item_id)
    except PortalError as exc:
        db.session.rollback()
        if exc.http_status == 429:
            flash(str(exc.message), "danger")
            return redirect(url_for("inventory.detail", item_id=item_id))
        abort(exc.http_status)
    except cloud_errors.ProvisioningError as exc:
        db.session.rollback()
        log.warning("inventory: the cloud did not answer: %s", exc)  # its own words, in English: for the log
        flash(_("The cloud did not answer; nothing was done. Please try again later."), "danger")
        return redirect(url_for("inventory.detail", item_id=item_id))
    return render_template("inventory/console.html", item=item, text=text)

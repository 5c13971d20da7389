"""The audit log (操作日志): search, keyset pages newest first, CSV export that streams."""
import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, render_template, request, stream_with_context
from flask_login import current_user
from sqlalchemy.orm import Session
from wtforms.fields.choices import SelectChoice

from .. import audit_chain
from ..access import require
from ..audit_hooks import mark_download
from ..extensions import db
from ..services import audit, departments
from ..web import request_info
from .forms import AuditSearchForm

bp = Blueprint("audit", __name__, url_prefix="/audit", template_folder="templates")


@bp.app_template_filter("json_text")
def json_text(value):
    """Render a nested before/after value readably: Chinese as itself, keys sorted (autoescaped)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _search():
    """Parse the search form; return (form, filter or None when the input is invalid)."""
    form = AuditSearchForm(request.args)
    choices = [SelectChoice("", "—")] + [
        SelectChoice(str(d.id), f"{d.code} {d.name}")
        for d in departments.department_choices(db.session, current_user)]
    form.department_id.choices = choices
    if request.args and not form.validate():
        return form, None
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return form, audit.days_filter(zone, since=form.since.data, until=form.until.data,
                                   department_id=form.department_id.data, actor=form.actor.data,
                                   action=form.action.data, object_type=form.object_type.data,
                                   object_id=form.object_id.data, request_id=form.request_id.data,
                                   outcome=form.outcome.data, q=form.q.data)


@bp.route("/")
@require(*audit.READERS)
def index():
    form, search = _search()
    page, total, numbers = None, 0, {}
    if search is not None:
        page = audit.search_events(db.session, current_user, search,
                                   before=request.args.get("before", type=int),
                                   after=request.args.get("after", type=int),
                                   per_page=current_app.config["PAGE_SIZE"])
        total = audit.count_events(db.session, current_user, search)
        numbers = audit.request_numbers(db.session, page.items)
    args = {k: v for k, v in request.args.items() if k not in ("before", "after")}
    return render_template("audit/index.html", form=form, page=page, args=args, total=total, numbers=numbers,
                           change_rows=audit.change_rows, MISSING=audit.MISSING)


@bp.route("/verify")
@require(*audit.VERIFIERS)
def verify():
    """The audit administrator checks the chain and its signed digests (?run=1 runs the check)."""
    report = None
    if request.args.get("run") == "1":
        report = audit.verify_log(db.session, request_info(), audit_chain.load_key(current_app.config))
    return render_template("audit/verify.html", report=report)


@bp.route("/export.csv")
@require(*audit.READERS)
def export():
    form, search = _search()
    if search is None:
        return render_template("audit/index.html", form=form, page=None, args={}), 400
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return csv_export(request_info(), search, request.args, zone=zone)


def csv_export(ctx, search, args, zone=None):
    """Audit the export (with its filters, args) and stream the events search selects as CSV, read
    through a session of its own; the audit page (for people: labels, local time in zone) and the
    API (for programs: codes, UTC) answer with this one response."""
    audit.record_event(db.session, ctx, "audit.export", object_type="audit_log", after={k: v for k, v in args.items()})
    db.session.commit()
    mark_download(audited=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    engine = current_app.extensions["govcloud_db"][0]
    rows = audit.export_csv(lambda: Session(engine), ctx.actor, search, zone=zone)
    return Response(stream_with_context(rows),
                    mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'})

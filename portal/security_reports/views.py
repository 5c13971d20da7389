"""安全监测报告 pages (第六条(五)): a department reads its own reports, the bureau, the vendor, the
auditors and the admin all of them; the bureau, the vendor and the admin may write the last
period's missing reports at once (the `security_reports` job does it on the 1st)."""
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import require
from ..audit_hooks import mark_download
from ..errors import NotFound
from ..extensions import db
from ..evaluation.forms import GenerateForm
from ..pagination import paginate
from ..services import security_reports as svc
from ..web import page_arg, per_page, request_info

bp = Blueprint("security_reports", __name__, url_prefix="/security-reports", template_folder="templates")


@bp.route("/", methods=["GET", "POST"])
@require(*svc.READERS)
def index():
    form = GenerateForm()
    if request.method == "POST":
        if current_user.role not in svc.GENERATORS:
            abort(403)
        if form.validate_on_submit():
            period, written, before = svc.generate_by_hand(db.session, request_info(), current_app.config)
            flash(_("Period %(period)s: %(written)s reports delivered, %(before)s delivered before.",
                    period=period, written=written, before=before), "success")
        return redirect(url_for(".index"))
    page = paginate(db.session, svc.reports_select(current_user, period=request.args.get("period", "")[:16]),
                    page_arg(), per_page())
    return render_template("security_reports/index.html", page=page, form=form,
                           can_generate=current_user.role in svc.GENERATORS, period_text=svc.period_text)


def _report(security_report_id):
    try:
        return svc.get_report(db.session, current_user, security_report_id)
    except NotFound:
        abort(404)


@bp.route("/<int:security_report_id>")
@require(*svc.READERS)
def detail(security_report_id):
    report = _report(security_report_id)
    headings, rows = svc.summary_rows(report.figures)
    return render_template("security_reports/detail.html", report=report, rows=rows, headings=headings,
                           sections=svc.SECTIONS, period=svc.period_text(report))


@bp.route("/<int:security_report_id>/export.<any(pdf, xlsx):file_format>")
@require(*svc.READERS)
def export(security_report_id, file_format):
    report = _report(security_report_id)
    body, mimetype, filename = svc.export(report, file_format)
    mark_download("security_report", report.id, department_id=report.department_id)
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={filename}"})

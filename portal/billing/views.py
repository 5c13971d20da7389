"""Billing pages; thin: parse input, call one service, map domain errors to messages."""
from decimal import Decimal

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from ..access import require
from ..audit_hooks import mark_download
from ..errors import Immutable, ValidationFailed
from ..extensions import db
from ..models.accounts import BUSINESS_VIEWERS, Department, Role
from ..models.billing import STATEMENT_STATE_LABELS
from ..scoping import scoped
from ..services import metering, reports, statements
from ..services.rating import CHINA, current_month, month_bounds, resource_label
from ..web import request_info, show_error
from .forms import MonthForm, RateForm, ReportForm, StatementActionForm

bp = Blueprint("billing", __name__, url_prefix="/billing", template_folder="templates")
ALL_ROLES = BUSINESS_VIEWERS  # every role but the security administrator (三权分立)
EXPORT_FORMATS = ("csv", "xlsx", "pdf")


def _month_arg():
    """Return (year, month) from ?month=YYYY-MM, default the current month."""
    value = request.args.get("month", "")
    try:
        year, month = (int(p) for p in value.split("-", 1))
        if 2000 <= year <= 2100 and 1 <= month <= 12:
            return year, month
    except ValueError:
        pass
    return current_month()


def _departments():
    return list(db.session.scalars(scoped(Department, current_user).order_by(Department.code)))


@bp.route("/")
@require(*ALL_ROLES)
def index():
    year, month = _month_arg()
    form = MonthForm(formdata=None, year=year, month=month)
    form.set_departments(_departments(), _("(every department)"))
    start, end = month_bounds(year, month)
    usage = metering.usage_summary(db.session, current_user, start, end)
    names = {d.id: d.name for d in _departments()}
    chart = Markup(reports.bar_chart_svg(_("vCPU-hours") + f" {year}-{month:02d}",
                                         [(names.get(d, d), u.get("vcpu", 0)) for d, u in sorted(usage.items())]))
    return render_template("billing/index.html", year=year, month=month, form=form,
                           items=statements.list_statements(db.session, current_user, year=year, month=month),
                           can_rate=current_user.role in statements.RATERS, labels=STATEMENT_STATE_LABELS,
                           usage=usage, names=names, chart=chart, resource_label=resource_label)


@bp.route("/rate", methods=["POST"])
@require(*statements.RATERS)
def rate():
    form = MonthForm()
    form.set_departments(_departments(), "")
    if not form.validate_on_submit():
        flash(_("Enter a year and a month."), "danger")
        return redirect(url_for("billing.index"))
    ids = [form.department_id.data] if form.department_id.data else [d.id for d in _departments()]
    try:
        for dept_id in ids:
            statements.rate_month(db.session, request_info(), dept_id, form.year.data, form.month.data)
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
    else:
        flash(_("%(n)d statement(s) rated.", n=len(ids)), "success")
    return redirect(url_for("billing.index", month=f"{form.year.data:04d}-{form.month.data:02d}"))


@bp.route("/statements/<int:statement_id>")
@require(*ALL_ROLES)
def statement(statement_id):
    item = statements.get_statement(db.session, current_user, statement_id)
    versions = [s for s in statements.list_statements(db.session, current_user, year=item.year, month=item.month)
                if s.department_id == item.department_id]
    return render_template("billing/statement.html", item=item, versions=versions,
                           action_form=StatementActionForm(), labels=STATEMENT_STATE_LABELS,
                           resource_label=resource_label, CHINA=CHINA,
                           can_review=current_user.role in statements.REVIEWERS,
                           can_rate=current_user.role in statements.RATERS,
                           intact=statements.verify(item) if item.state == "frozen" else None)


@bp.route("/statements/<int:statement_id>/transition", methods=["POST"])
@require(*statements.REVIEWERS)
def transition(statement_id):
    form = StatementActionForm()
    action = form.action.data if form.validate_on_submit() else ""
    if action not in {a for _, a in statements.STATEMENTS.transitions}:
        flash(_("This action is not possible in the statement's current state."), "danger")
        return redirect(url_for("billing.statement", statement_id=statement_id))
    try:
        statements.act(db.session, request_info(), statement_id, action)
        db.session.commit()
    except Immutable:
        db.session.rollback()
        raise  # the error page says it is frozen, with HTTP 409
    except ValidationFailed as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
    else:
        flash(_("The statement was updated."), "success")
    return redirect(url_for("billing.statement", statement_id=statement_id))


@bp.route("/statements/<int:statement_id>/rerate", methods=["POST"])
@require(*statements.RATERS)
def rerate(statement_id):
    item = statements.get_statement(db.session, current_user, statement_id)
    if not StatementActionForm().validate_on_submit():
        abort(400)
    new = statements.rate_month(db.session, request_info(), item.department_id, item.year, item.month)
    db.session.commit()
    flash(_("The month was rated again (version %(v)d).", v=new.version), "success")
    return redirect(url_for("billing.statement", statement_id=new.id))


@bp.route("/rates", methods=["GET", "POST"])
@require(*ALL_ROLES)
def rates():
    form = RateForm()
    can_edit = current_user.role == Role.BUREAU
    if request.method == "POST":
        if not can_edit:
            abort(403)
        if form.validate_on_submit():
            try:
                statements.add_rate(db.session, request_info(), form.resource_type.data.strip(),
                                    Decimal(form.unit_price.data),
                                    form.effective_from.data.replace(tzinfo=CHINA), form.note.data or "")
                db.session.commit()
            except ValidationFailed as exc:
                db.session.rollback()
                show_error(form, exc)
            else:
                flash(_("The price was added."), "success")
                return redirect(url_for("billing.rates"))
    return render_template("billing/rates.html", form=form, can_edit=can_edit,
                           rates=statements.list_rates(db.session), resource_label=resource_label, CHINA=CHINA)


@bp.route("/reports", methods=["GET", "POST"])
@require(*ALL_ROLES)
def report_list():
    year, month = reports.previous_month()
    form = ReportForm(year=year, month=month) if request.method == "GET" else ReportForm()
    can_generate = current_user.role in reports.GENERATORS
    if request.method == "POST":
        if not can_generate:
            abort(403)
        if form.validate_on_submit():
            report = reports.generate(db.session, request_info(), form.year.data, form.month.data)
            db.session.commit()
            return redirect(url_for("billing.report", report_id=report.id))
        flash(_("Enter a year and a month."), "danger")
    return render_template("billing/reports.html", form=form, can_generate=can_generate,
                           items=reports.list_reports(db.session))


@bp.route("/reports/<int:report_id>")
@require(*ALL_ROLES)
def report(report_id):
    item, entries = reports.get_report(db.session, current_user, report_id)
    headings, rows = reports.table(entries)
    return render_template("billing/report.html", item=item, headings=headings, rows=rows,
                           sla=reports.sla_rows(entries), title=reports.report_title(item),
                           formats=EXPORT_FORMATS)


@bp.route("/reports/<int:report_id>/export/<fmt>")
@require(*ALL_ROLES)
def report_export(report_id, fmt):
    if fmt not in EXPORT_FORMATS:
        abort(404)
    item, entries = reports.get_report(db.session, current_user, report_id)
    body, mimetype, filename = reports.export(item, entries, fmt)
    mark_download("monthly_report", item.id)
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={filename}"})


@bp.route("/budget")
@require(*ALL_ROLES)
def budget():
    year = request.args.get("year", current_month()[0], type=int)
    rows = reports.budget(db.session, current_user, year)
    fmt = request.args.get("format", "")
    headings, body = reports.budget_table(rows, year)
    if fmt == "csv":
        return Response(reports.to_csv(headings, body), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f"attachment; filename=budget-{year}.csv"})
    if fmt == "xlsx":
        data = reports.to_xlsx(f"政务云费用年度预算（{year}年）", headings, body)
        return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f"attachment; filename=budget-{year}.xlsx"})
    charts = [Markup(reports.bar_chart_svg(f"{r['department']} {year}年费用（元）",
                                           [(f"{m}月", v) for m, v in enumerate(r["months"], start=1)]))
              for r in rows]
    volume = Markup(reports.bar_chart_svg(f"{year}年资源申请量", reports.request_volume(db.session, current_user, year)))
    return render_template("billing/budget.html", year=year, headings=headings, body=body, charts=charts,
                           volume=volume)

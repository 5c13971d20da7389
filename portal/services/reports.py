"""月度汇总报备 (第十条三), the annual budget view (第三十条), their CSV/XLSX/PDF files and SVG charts.

The figures come from the audit log (request transitions), the request, receipt, incident and
maintenance models where they are installed, the SLA service, the statements, and the backup
runs and verifications (services/backups.py monthly_counts).
"""
import csv
import hashlib
import io
import json
import os
from collections import Counter, defaultdict
from decimal import Decimal
from xml.sax.saxutils import escape

from sqlalchemy import func, select

from ..database import utcnow
from ..errors import Forbidden, NotFound, ValidationFailed
from ..models.accounts import Department, Role
from ..models.audit import AuditEvent
from ..models.billing import MonthlyReport, MonthlyReportEntry, Statement
from ..models.operations import Incident
from ..models.requests import DeliveryReceipt, ResourceRequest
from ..scoping import scoped
from ..text import _l
from .audit import record_event
from .maintenance import approved_windows
from .sla import monthly_report
from .rating import CHINA, month_bounds

# Column key -> (Chinese heading used in every file). The page uses the same words.
COLUMNS = (
    ("department", "使用部门(单位)"),
    ("received", "收到申请"),
    ("approved", "已批准"),
    ("rejected", "已驳回"),
    ("returned", "退回修改"),
    ("provisioned", "已开通"),
    ("avg_review", "平均审核时长"),
    ("avg_provision", "平均开通时长"),
    ("receipts", "资源交付回执单"),
    ("changes", "资源变更申请"),
    ("decommissions", "资源注销"),
    ("incidents", "故障事件"),
    ("maintenance_windows", "维护窗口"),
    ("backups_run", "备份"),
    ("backups_failed", "备份失败"),
    ("backups_verified", "备份验证"),
    ("fees", "费用（元）"),
)
NUMERIC = [key for key, _ in COLUMNS if key not in ("department",)]
TITLE = "政务云月度汇总报备"
GENERATORS = (Role.BUREAU, Role.VENDOR, Role.ADMIN)
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)


def _mean_seconds(deltas):
    """The mean of deltas in whole seconds, or None when there is none (no request: no time)."""
    if not deltas:
        return None
    return round(sum(d.total_seconds() for d in deltas) / len(deltas))


def duration_text(seconds):
    """Say a duration as people read it: 45秒, 12分钟, 3小时5分钟, 2天4小时; "—" when there is none."""
    if seconds is None or seconds == "":
        return "—"
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    if hours:
        return f"{hours}小时{minutes}分钟" if minutes else f"{hours}小时"
    if minutes:
        return f"{minutes}分钟"
    return f"{secs}秒"


def _average_cell(figures, key):
    """The humanised mean of a figures row: seconds since issue 17, hours (a decimal string) before."""
    if f"{key}_seconds" in figures:
        return duration_text(figures[f"{key}_seconds"])
    old = figures.get(f"{key}_hours")
    return duration_text(round(float(old) * 3600)) if old not in (None, "") else "—"


def _in_month(column, start, end):
    return (column >= start) & (column < end)


def department_figures(session, year, month):
    """Compute {department id: figures dict} for a month (every department: this is the bureau's view)."""
    start, end = month_bounds(year, month)
    departments = list(session.scalars(select(Department).order_by(Department.code)))
    actions = Counter()
    for dept_id, action, n in session.execute(
            select(AuditEvent.department_id, AuditEvent.action, func.count(AuditEvent.id))
            .where(_in_month(AuditEvent.occurred_at, start, end), AuditEvent.outcome == "success",
                   AuditEvent.action.in_(["request.submit", "request.approve", "request.green_channel",
                                          "request.reject", "request.return", "request.finish"]))
            .group_by(AuditEvent.department_id, AuditEvent.action)):
        actions[(dept_id, action)] = n
    review, provision, kinds = defaultdict(list), defaultdict(list), Counter()
    RR = ResourceRequest
    for r in session.scalars(select(RR).where(_in_month(RR.approved_at, start, end))):
        if r.submitted_at is not None and r.approved_at >= r.submitted_at:
            review[r.department_id].append(r.approved_at - r.submitted_at)
    for r in session.scalars(select(RR).where(_in_month(RR.provisioned_at, start, end))):
        if r.approved_at is not None and r.provisioned_at >= r.approved_at:
            provision[r.department_id].append(r.provisioned_at - r.approved_at)
    for dept_id, kind, n in session.execute(
            select(RR.department_id, RR.kind, func.count(RR.id))
            .where(_in_month(RR.submitted_at, start, end)).group_by(RR.department_id, RR.kind)):
        kinds[(dept_id, kind)] = n
    receipts = Counter(dict(session.execute(select(DeliveryReceipt.department_id, func.count(DeliveryReceipt.id))
                                            .where(_in_month(DeliveryReceipt.issued_at, start, end))
                                            .group_by(DeliveryReceipt.department_id)).all()))
    incidents = Counter(dict(session.execute(select(Incident.department_id, func.count(Incident.id))
                                             .where(_in_month(Incident.started_at, start, end))
                                             .group_by(Incident.department_id)).all()))
    windows = Counter()
    for w in approved_windows(session, start, end):
        for d in w.departments:
            windows[d.id] += 1
    sla = defaultdict(list)
    for fig in monthly_report(session, None, year, month, every_department=True):
        sla[fig.department_id].append({"system": fig.system_name, "availability": f"{fig.ratio * 100:.3f}%",
                                       "incidents": fig.incidents})
    fees = _newest_totals(session, year, month)
    from .backups import monthly_counts  # 第十九条: runs finished and backups verified in the month
    backups = monthly_counts(session, start, end)
    no_backups = {"backups_run": 0, "backups_failed": 0, "backups_verified": 0}
    out = {}
    for d in departments:
        out[d.id] = {
            "department": d.name,
            "received": actions[(d.id, "request.submit")],
            "approved": actions[(d.id, "request.approve")] + actions[(d.id, "request.green_channel")],
            "rejected": actions[(d.id, "request.reject")],
            "returned": actions[(d.id, "request.return")],
            "provisioned": actions[(d.id, "request.finish")],
            "avg_review_seconds": _mean_seconds(review[d.id]),
            "avg_provision_seconds": _mean_seconds(provision[d.id]),
            "receipts": receipts[d.id],
            "changes": kinds[(d.id, "change")],
            "decommissions": kinds[(d.id, "decommission")],
            "incidents": incidents[d.id],
            "maintenance_windows": windows[d.id],
            **backups.get(d.id, no_backups),
            "fees": str(fees.get(d.id, Decimal("0.00"))),
            "sla": sla[d.id],
        }
    return out


def _newest_totals(session, year, month):
    """Return {department id: total of the newest statement version} of a month."""
    out = {}
    for s in session.scalars(select(Statement).where(Statement.year == year, Statement.month == month)
                             .order_by(Statement.version)):
        out[s.department_id] = s.total
    return out


def _report_hash(report_year, report_month, figures):
    doc = {"year": report_year, "month": report_month, "departments": {str(k): v for k, v in figures.items()}}
    return hashlib.sha256(json.dumps(doc, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


def generate(session, ctx, year, month, *, generated_by=None):
    """Generate and store the monthly summary of a month; the caller commits. Returns the report."""
    if ctx.actor is not None and ctx.actor.role not in GENERATORS:
        raise Forbidden()
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise ValidationFailed(_l("Month must be between 1 and 12."), field="month")
    figures = department_figures(session, year, month)
    report = MonthlyReport(year=year, month=month, generated_at=utcnow(),
                           generated_by=generated_by or (ctx.actor.username if ctx.actor else "scheduler"),
                           content_hash=_report_hash(year, month, figures))
    report.entries = [MonthlyReportEntry(department_id=dept_id, figures=fig) for dept_id, fig in figures.items()]
    session.add(report)
    session.flush()
    record_event(session, ctx, "monthly_report.generate", object_type="monthly_report", object_id=report.id,
                 after={"year": year, "month": month, "hash": report.content_hash,
                        "departments": len(figures)})
    return report


def reports_query(*, year=None, month=None):
    """The select of the monthly reports, newest first (every role sees the list; entries are scoped)."""
    stmt = select(MonthlyReport)
    if year:
        stmt = stmt.where(MonthlyReport.year == year)
    if month:
        stmt = stmt.where(MonthlyReport.month == month)
    return stmt.order_by(MonthlyReport.year.desc(), MonthlyReport.month.desc(), MonthlyReport.id.desc())


def list_reports(session):
    return list(session.scalars(reports_query().limit(60)))


def get_report(session, user, report_id):
    """Return (report, the entries user may see)."""
    report = session.get(MonthlyReport, report_id)
    if report is None:
        raise NotFound("月度汇总报备", report_id)
    entries = list(session.scalars(scoped(select(MonthlyReportEntry), user)
                                   .where(MonthlyReportEntry.report_id == report.id)
                                   .order_by(MonthlyReportEntry.id)))
    return report, entries


def totals_row(entries):
    """Return the 合计 row of the entries' numeric columns (fees in Decimal)."""
    row = {"department": "合计"}
    for key in NUMERIC:
        if key == "fees":
            row[key] = str(sum((Decimal(e.figures.get(key, "0")) for e in entries), Decimal("0.00")))
        elif key.startswith("avg_"):
            row[key] = ""
        else:
            row[key] = sum(int(e.figures.get(key, 0)) for e in entries)
    return row


def table(entries):
    """Return (headings, rows) of the report as the files show it, 合计 last."""
    rows = [[_average_cell(e.figures, k) if k.startswith("avg_") else e.figures.get(k, "") for k, _ in COLUMNS]
            for e in entries]
    total = totals_row(entries)
    rows.append([total[k] for k, _ in COLUMNS])
    return [h for _, h in COLUMNS], rows


def report_title(report):
    return f"{TITLE}（{report.year}年{report.month}月）"


def to_csv(headings, rows):
    buf = io.StringIO()
    buf.write("\ufeff")  # Excel reads UTF-8 Chinese text only with a BOM
    writer = csv.writer(buf)
    writer.writerow(headings)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def to_xlsx(title, headings, rows, extra_sheets=()):
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(headings)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([_xlsx_value(v) for v in row])
    for name, sheet_headings, sheet_rows in extra_sheets:
        extra = wb.create_sheet(name)
        extra.append(sheet_headings)
        for row in sheet_rows:
            extra.append([_xlsx_value(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xlsx_value(value):
    # money and hours stay exact: Decimal strings become Decimal cells (openpyxl writes them as numbers)
    if isinstance(value, str):
        try:
            return Decimal(value) if value and value.replace(".", "", 1).lstrip("-").isdigit() else value
        except ArithmeticError:
            return value
    return value


def cjk_font_path():
    """Return the path of a TrueType CJK font to embed (reportlab cannot embed CFF-outline fonts)."""
    for path in FONT_CANDIDATES:
        if os.path.exists(path):
            return path
    raise RuntimeError("no TrueType CJK font found; install the Debian package fonts-wqy-zenhei")


def to_pdf(title, headings, rows, notes=()):
    """Render a table as an A4 landscape PDF with an embedded CJK font."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if "GovBillingCJK" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("GovBillingCJK", cjk_font_path(), subfontIndex=0))
    title_style = ParagraphStyle("t", fontName="GovBillingCJK", fontSize=15, leading=20, alignment=1)
    body = ParagraphStyle("b", fontName="GovBillingCJK", fontSize=8.5, leading=11)
    cell = ParagraphStyle("c", fontName="GovBillingCJK", fontSize=7, leading=8.5)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4), leftMargin=8 * mm, rightMargin=8 * mm,
                            topMargin=10 * mm, bottomMargin=10 * mm, title=title)
    story = [Paragraph(escape(title), title_style), Spacer(1, 4 * mm)]
    data = [[Paragraph(escape(str(h)), cell) for h in headings]]
    data += [[Paragraph(escape(str(v)), cell) for v in row] for row in rows]
    table_ = Table(data, repeatRows=1)
    table_.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
                                ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story.append(table_)
    for note in notes:
        story += [Spacer(1, 3 * mm), Paragraph(escape(note), body)]
    doc.build(story)
    return buf.getvalue()


def sla_rows(entries):
    rows = []
    for e in entries:
        for s in e.figures.get("sla", []):
            rows.append([e.figures.get("department", ""), s["system"], s["availability"], s["incidents"]])
    return ["使用部门(单位)", "业务系统", "可用率", "故障事件"], rows


def export(report, entries, fmt):
    """Return (bytes, mimetype, filename) of the report in fmt (csv, xlsx, pdf)."""
    headings, rows = table(entries)
    title = report_title(report)
    name = f"monthly-report-{report.year}-{report.month:02d}"
    if fmt == "csv":
        return to_csv(headings, rows), "text/csv; charset=utf-8", name + ".csv"
    if fmt == "xlsx":
        sla_h, sla_r = sla_rows(entries)
        return (to_xlsx(title, headings, rows, [("可用率", sla_h, sla_r)]),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name + ".xlsx")
    if fmt == "pdf":
        sla_h, sla_r = sla_rows(entries)
        notes = [f"{r[0]} {r[1]}：可用率 {r[2]}，故障事件 {r[3]}" for r in sla_r]
        notes.append(f"生成时间：{report.generated_at.astimezone(CHINA):%Y-%m-%d %H:%M}（北京时间）"
                     f"　内容摘要 SHA-256：{report.content_hash}")
        return to_pdf(title, headings, rows, notes), "application/pdf", name + ".pdf"
    raise NotFound("format", fmt)


# -- annual budget view (第三十条)
def forecast(session, user, year, now=None):
    """Return {department id: next year's fee} from current allocations at today's prices.

    Current allocations = what the newest metering sample saw; each resource type is carried over
    every hour of the next year and rated like a statement line (half up to the cent).
    """
    from ..models.billing import MeteringRun, MeteringRunState, UsageRecord
    from .rating import amount, price_at
    from .statements import prices
    now = now or utcnow()
    run = session.scalars(select(MeteringRun).where(MeteringRun.state == MeteringRunState.OK)
                          .order_by(MeteringRun.interval_end.desc()).limit(1)).first()
    if run is None:
        return {}
    next_start, _ = month_bounds(year + 1, 1)
    _, next_end = month_bounds(year + 1, 12)
    seconds = int((next_end - next_start).total_seconds())
    points = prices(session)
    out = {}
    for rec in session.scalars(scoped(select(UsageRecord), user).where(UsageRecord.run_id == run.id)):
        point = price_at(points, rec.resource_type, now)
        value = amount(rec.quantity * seconds, point.unit_price, rec.resource_type) if point else Decimal("0.00")
        out[rec.department_id] = out.get(rec.department_id, Decimal("0.00")) + value
    return out


def budget(session, user, year, *, now=None):
    """Return per department the year's monthly totals, the year total and next year's forecast."""
    from .statements import year_totals
    totals = year_totals(session, user, year)
    ahead = forecast(session, user, year, now)
    names = dict(session.execute(scoped(select(Department), user)
                                 .with_only_columns(Department.id, Department.name)).all())
    rows = []
    for dept_id, name in sorted(names.items(), key=lambda kv: kv[1]):
        months = totals.get(dept_id, {})
        rows.append({"department_id": dept_id, "department": name,
                     "months": [months.get(m, Decimal("0.00")) for m in range(1, 13)],
                     "total": sum(months.values(), Decimal("0.00")),
                     "forecast": ahead.get(dept_id, Decimal("0.00"))})
    return rows


def budget_table(rows, year):
    headings = ["使用部门(单位)"] + [f"{m}月" for m in range(1, 13)] + [f"{year}年合计", f"{year + 1}年预测"]
    body = [[r["department"], *[str(v) for v in r["months"]], str(r["total"]), str(r["forecast"])] for r in rows]
    body.append(["合计", *[str(sum((r["months"][i] for r in rows), Decimal("0.00"))) for i in range(12)],
                 str(sum((r["total"] for r in rows), Decimal("0.00"))),
                 str(sum((r["forecast"] for r in rows), Decimal("0.00")))])
    return headings, body


# -- charts: server-side SVG (CSP 'self', no scripts)
def bar_chart_svg(title, series, *, width=640, height=240, unit=""):
    """Return an SVG bar chart of [(label, Decimal or int)] with text labels (no script, no style attr)."""
    pad_left, pad_bottom, pad_top = 60, 40, 30
    n = max(len(series), 1)
    peak = max([Decimal(v) for _, v in series] + [Decimal(1)])
    plot_w, plot_h = width - pad_left - 10, height - pad_bottom - pad_top
    bar_w = plot_w / n * 0.7
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
             f'<title>{escape(title)}</title>',
             f'<text x="{width / 2:.0f}" y="18" text-anchor="middle" font-size="14">{escape(title)}</text>',
             f'<line x1="{pad_left}" y1="{height - pad_bottom}" x2="{width - 10}" y2="{height - pad_bottom}" '
             f'stroke="#888"/>']
    for i, (label, value) in enumerate(series):
        h = float(Decimal(value) / peak) * plot_h
        x = pad_left + i * plot_w / n + (plot_w / n - bar_w) / 2
        y = height - pad_bottom - h
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="#0d6efd">'
                     f'<title>{escape(str(label))}：{escape(str(value))}{escape(unit)}</title></rect>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - pad_bottom + 14}" text-anchor="middle" '
                     f'font-size="10">{escape(str(label))}</text>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" font-size="10">'
                     f'{escape(str(value))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def cost_trend(session, user, department_id, year):
    """Return [(month label, total)] of a department's newest statements in a year."""
    from .statements import year_totals
    months = year_totals(session, user, year).get(department_id, {})
    return [(f"{m}月", months.get(m, Decimal("0.00"))) for m in range(1, 13)]


def request_volume(session, user, year):
    """Return [(month label, submissions)] of the requests user may see in a year (from the audit log)."""
    start, _ = month_bounds(year, 1)
    _, end = month_bounds(year, 12)
    stmt = scoped(select(AuditEvent), user).where(AuditEvent.action == "request.submit",
                                                  _in_month(AuditEvent.occurred_at, start, end))
    counts = Counter(e.occurred_at.astimezone(CHINA).month for e in session.scalars(stmt))
    return [(f"{m}月", counts.get(m, 0)) for m in range(1, 13)]


def previous_month(now=None):
    local = (now or utcnow()).astimezone(CHINA)
    return (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)


"""安全监测报告 (第六条(五)): a periodic report per department from what govcloud knows.

Every SECURITY_REPORT_MONTHS (1: monthly) the `security_reports` job writes, for each department,
the report of the period that ended last: incidents by kind, failed logins and lockouts of its
accounts, the vendor's access grants and the accesses made under them, backup runs (succeeded,
failed) and the last verified backup, the drills done. One report per department and period
(unique in the database: a second scheduler, a takeover or a run by hand finds it there). The
department's users get it in their inbox with a link; the files (PDF, XLSX) are rendered from the
stored figures. Personal information is masked: the security officer's phone, the addresses of
failed logins.
"""
import hashlib
import json
from collections import Counter
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..crypto.masking import mask_phone
from ..database import utcnow
from ..errors import Forbidden, NotFound, ValidationFailed
from ..models.accounts import Department, Role, User
from ..models.audit import AuditEvent
from ..models.evaluation import SecurityReport
from ..models.grants import GrantState, VendorGrant
from ..models.operations import Incident, IncidentKind
from ..scoping import get_scoped, scoped
from ..text import _l
from ..workdays import CHINA
from .audit import record_event
from .evaluation import KIND_TEXT, _local, drills_in, escaped
from .notifications import notify_department

READERS = (Role.DEPARTMENT, Role.BUREAU, Role.VENDOR, Role.AUDITOR, Role.ADMIN)
GENERATORS = (Role.BUREAU, Role.VENDOR, Role.ADMIN)
GRANT_TEXT = {GrantState.APPROVED: "已授权", GrantState.REVOKED: "已撤销", GrantState.EXPIRED: "已到期"}


# --- periods -----------------------------------------------------------------------------------

def period_bounds(months, year, first_month):
    start = datetime(year, first_month, 1, tzinfo=CHINA)
    last = first_month + months
    end = datetime(year + (last > 12), (last - 1) % 12 + 1, 1, tzinfo=CHINA)
    return start, end


def period_name(months, year, first_month):
    """2026-11 (a month), 2026-Q4, 2026-H2, 2026 (a year)."""
    if months == 1:
        return f"{year}-{first_month:02d}"
    if months == 3:
        return f"{year}-Q{(first_month - 1) // 3 + 1}"
    if months == 6:
        return f"{year}-H{(first_month - 1) // 6 + 1}"
    return f"{year}"


def last_period(months, at=None):
    """(name, start, end) of the last whole period of `months` months that ended at or before at."""
    local = (at or utcnow()).astimezone(CHINA)
    index = (local.year * 12 + local.month - 1) // months * months - months  # first month of the period before
    year, first_month = divmod(index, 12)
    return (period_name(months, year, first_month + 1),) + period_bounds(months, year, first_month + 1)


def period_text(report):
    """The period for people: 2026年11月, 2026年第四季度 ..."""
    local = report.starts_at.astimezone(CHINA)
    if report.months == 1:
        return f"{local.year}年{local.month}月"
    if report.months == 3:
        return f"{local.year}年第{'一二三四'[(local.month - 1) // 3]}季度"
    if report.months == 6:
        return f"{local.year}年{'上下'[(local.month - 1) // 6]}半年"
    return f"{local.year}年度"


# --- the figures -------------------------------------------------------------------------------

def mask_address(addr):
    """203.0.113.9 -> 203.0.*.*; an IPv6 address keeps its first two groups."""
    if not addr:
        return ""
    if "." in addr:
        parts = addr.split(".")
        return ".".join(parts[:2] + ["*"] * (len(parts) - 2))
    parts = addr.split(":")
    return ":".join(parts[:2]) + ":*"


def _in(column, start, end):
    return (column >= start) & (column < end)


def figures(session, department, start, end):
    """The report's figures of a department for [start, end) as a JSON-able dict."""
    incidents = list(session.scalars(select(Incident).where(Incident.department_id == department.id,
                                                            _in(Incident.started_at, start, end))
                                     .order_by(Incident.started_at, Incident.id)))
    by_kind = Counter(i.kind for i in incidents)
    failed = list(session.scalars(select(AuditEvent).where(
        AuditEvent.department_id == department.id, AuditEvent.action == "auth.login_failed",
        _in(AuditEvent.occurred_at, start, end)).order_by(AuditEvent.id)))
    lockouts = session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.department_id == department.id, AuditEvent.action == "auth.lockout",
        _in(AuditEvent.occurred_at, start, end)))
    per_account = Counter(e.actor_username or e.object_id for e in failed)
    addresses = Counter(mask_address(e.remote_addr) for e in failed if e.remote_addr)
    grants = list(session.scalars(select(VendorGrant).where(
        VendorGrant.department_id == department.id, VendorGrant.decided_at.is_not(None),
        VendorGrant.state.in_((GrantState.APPROVED, GrantState.REVOKED, GrantState.EXPIRED)),
        VendorGrant.starts_at < end, VendorGrant.ends_at > start).order_by(VendorGrant.starts_at, VendorGrant.id)))
    accesses = Counter(session.execute(select(AuditEvent.action, AuditEvent.outcome).where(
        AuditEvent.department_id == department.id, AuditEvent.action.in_(("access.console", "access.ssh")),
        _in(AuditEvent.occurred_at, start, end))).all())
    from .backups import monthly_counts
    backups = monthly_counts(session, start, end).get(department.id, {})
    last_verified = _last_verified(session, department.id, end)
    return {
        "department": department.name,
        "security_officer": department.security_officer_name or "",
        "security_officer_phone": mask_phone(department.security_officer_phone or ""),
        "incidents": {"total": len(incidents), **{k.value: by_kind.get(k.value, 0) for k in IncidentKind}},
        "incident_rows": [[i.id, i.system_name, KIND_TEXT.get(i.kind, i.kind), i.title, _local(i.started_at),
                           _local(i.resolved_at) or "未恢复"] for i in incidents],
        "failed_logins": len(failed), "lockouts": lockouts or 0,
        "failed_by_account": sorted(([name, n] for name, n in per_account.items()), key=lambda r: (-r[1], r[0])),
        "failed_by_address": sorted(([addr, n] for addr, n in addresses.items()), key=lambda r: (-r[1], r[0])),
        "grants": len(grants),
        "grant_rows": [[g.id, g.system.system_name, g.vendor.full_name or g.vendor.username, _local(g.starts_at),
                        _local(g.ends_at), GRANT_TEXT.get(g.state, g.state)] for g in grants],
        "accesses": sum(accesses.values()),
        "accesses_denied": sum(n for (_a, outcome), n in accesses.items() if outcome != "success"),
        "backups_ok": backups.get("backups_run", 0), "backups_failed": backups.get("backups_failed", 0),
        "backups_verified": backups.get("backups_verified", 0), "last_verified": _local(last_verified),
        "drill_rows": drills_in(session, start, end, department_id=department.id),
    }


def _last_verified(session, department_id, before):
    from ..models.backups import BackupArtifact, VerifyOutcome
    return session.scalar(select(func.max(BackupArtifact.verified_at)).where(
        BackupArtifact.department_id == department_id, BackupArtifact.verify_outcome == VerifyOutcome.OK,
        BackupArtifact.verified_at < before))


def _hash(department_id, period, data):
    doc = {"department": department_id, "period": period, "figures": data}
    return hashlib.sha256(json.dumps(doc, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


# --- generating and delivering -------------------------------------------------------------------

def generate(session, ctx, settings, department_id, months, year, first_month, *, generated_by="scheduler"):
    """Write and deliver one department's report of a period; return it, or None when the
    department has it already (one per department and period). Commits."""
    department = session.get(Department, department_id)
    if department is None:
        raise NotFound(_l("Department"), department_id)
    name = period_name(months, year, first_month)
    start, end = period_bounds(months, year, first_month)
    data = figures(session, department, start, end)
    report = SecurityReport(department_id=department.id, period=name, months=months, starts_at=start, ends_at=end,
                            figures=data, content_hash=_hash(department.id, name, data), generated_at=utcnow(),
                            generated_by=generated_by)
    session.add(report)
    try:
        session.flush()
    except IntegrityError:  # generated before (or by another scheduler at this moment)
        session.rollback()
        return None
    record_event(session, ctx, "security_report.generate", object_type="security_report", object_id=report.id,
                 department_id=department.id,
                 after={"period": name, "hash": report.content_hash, "incidents": data["incidents"]["total"],
                        "failed_logins": data["failed_logins"], "grants": data["grants"]})
    notify_department(session, settings, department.id,
                      subject=f"[政务云] 安全监测报告：{period_text(report)}",
                      body=f"{department.name}{period_text(report)}安全监测报告已生成：故障事件 {data['incidents']['total']} 起，"
                           f"登录失败 {data['failed_logins']} 次，运维授权 {data['grants']} 次，备份成功 {data['backups_ok']} 次、"
                           f"失败 {data['backups_failed']} 次。",
                      topic=f"security_report:{report.id}", link=f"/security-reports/{report.id}")
    session.commit()
    return report


def generate_period(session, ctx, settings, at=None, *, generated_by="scheduler"):
    """Reports of the last whole period for every department that has none; return (written, before)."""
    months = int(settings["SECURITY_REPORT_MONTHS"])
    name, start, _end = last_period(months, at)
    written = before = 0
    for dept_id in list(session.scalars(select(Department.id).order_by(Department.code))):
        exists = session.scalar(select(SecurityReport.id).where(SecurityReport.department_id == dept_id,
                                                                SecurityReport.period == name))
        report = None if exists else generate(session, ctx, settings, dept_id, months, start.year, start.month,
                                              generated_by=generated_by)
        if report is None:
            before += 1
        else:
            written += 1
    return name, written, before


def generate_by_hand(session, ctx, settings):
    """The bureau, the vendor or the admin writes the last period's missing reports now."""
    if getattr(ctx.actor, "role", None) not in GENERATORS:
        raise Forbidden()
    return generate_period(session, ctx, settings, generated_by=ctx.actor.username)


# --- reading -------------------------------------------------------------------------------------

def reports_select(user, *, department_id=None, period=""):
    if getattr(user, "role", None) not in READERS:
        raise Forbidden()
    stmt = scoped(select(SecurityReport), user)
    if department_id:
        stmt = stmt.where(SecurityReport.department_id == department_id)
    if period:
        stmt = stmt.where(SecurityReport.period == period)
    return stmt.order_by(SecurityReport.starts_at.desc(), SecurityReport.department_id)


def get_report(session, user, report_id):
    if getattr(user, "role", None) not in READERS:
        raise Forbidden()
    return get_scoped(session, SecurityReport, report_id, user, kind=_l("Security monitoring report"))


# --- the files -----------------------------------------------------------------------------------

SECTIONS = (
    ("incident_rows", "故障事件", ["编号", "业务系统", "类型", "标题", "开始时间", "恢复时间"]),
    ("failed_by_account", "登录失败（按账号）", ["账号", "次数"]),
    ("failed_by_address", "登录失败（按来源地址，已脱敏）", ["来源地址", "次数"]),
    ("grant_rows", "运维授权", ["编号", "业务系统", "运维人员", "授权开始", "授权结束", "状态"]),
    ("drill_rows", "应急演练", ["编号", "演练", "使用部门(单位)", "开始", "结束", "结果"]),
)


def summary_rows(data):
    inc = data["incidents"]
    return ["项目", "数值"], [
        ["故障事件（合计）", inc["total"]],
        ["其中：服务中断 / 性能下降 / 安全事件 / 备份故障",
         f"{inc['outage']} / {inc['degradation']} / {inc['security']} / {inc['backup']}"],
        ["登录失败（次）", data["failed_logins"]],
        ["账号锁定（次）", data["lockouts"]],
        ["运维授权（次）", data["grants"]],
        ["授权下的访问（次，其中被拒绝）", f"{data['accesses']}（{data['accesses_denied']}）"],
        ["备份成功 / 失败（次）", f"{data['backups_ok']} / {data['backups_failed']}"],
        ["备份验证通过（次）", data["backups_verified"]],
        ["最近一次验证通过", data["last_verified"] or "无"],
        ["应急演练（次）", len(data["drill_rows"])],
    ]


def title_of(report):
    return f"政务云安全监测报告（{report.figures['department']} {period_text(report)}）"


def export(report, fmt):
    """Return (bytes, mimetype, filename) of the report as xlsx or pdf."""
    data = report.figures
    headings, rows = summary_rows(data)
    name = f"security-report-{report.department_id}-{report.period}"
    sections = [(caption, columns, data.get(key) or []) for key, caption, columns in SECTIONS]
    officer = f"{data['security_officer']} {data['security_officer_phone']}".strip() or "未填写"
    notes = [f"安全管理负责人：{officer}",
             f"生成时间：{_local(report.generated_at)}（北京时间）　内容摘要 SHA-256：{report.content_hash}"]
    if fmt == "xlsx":
        from .reports import to_xlsx
        return (to_xlsx(title_of(report), headings, rows + [[]] + [[n] for n in notes], sections),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name + ".xlsx")
    if fmt == "pdf":
        from .receipts import form_pdf
        header = escaped([("使用部门(单位)", data["department"]), ("报告期", period_text(report)),
                          ("安全管理负责人", officer)])
        tables = [("概况", headings, escaped(rows), None)]
        tables += [(caption, columns, escaped(body) or [["无"] + [""] * (len(columns) - 1)], None)
                   for caption, columns, body in sections]
        footer = [notes[1], "云服务商（盖章）：　　　　　　　　报送日期：　　　　年　　月　　日"]
        return form_pdf(title_of(report), header, tables, footer), "application/pdf", name + ".pdf"
    raise NotFound("format", fmt)


def check_format(fmt):
    if fmt not in ("pdf", "xlsx"):
        raise ValidationFailed(_l("Choose PDF or XLSX."), field="fmt")

"""The files of informatization projects, in Chinese: the 申报表 of one project, the annual plan (the
bureau's list of a year, 第七条(三)) and a project's dossier (decisions, documents, money, systems,
cloud fees, SLA, acceptance, warranty, evaluation), each as XLSX (openpyxl) and PDF (the forms'
renderer with its embedded CJK font, services/receipts.form_pdf).

The files are Chinese whatever the reader's language (they are filed with the bureau): the labels of
states and kinds are looked up in the zh_CN catalogue directly, without Flask. The caller has checked
that the reader may see the project (services/projects.get_project: another department's is 404, an
expert sees only the projects assigned).
"""
import io
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select

from ..database import utcnow
from ..errors import NotFound
from ..models.project_money import CHANGE_STATE_LABELS, ProjectPayment
from ..models.projects import (ACCEPTANCE_OUTCOME_LABELS, CONSTRUCTION_KIND_LABELS,
                               DECISION_BODY_LABELS, DECISION_OUTCOME_LABELS, DECISION_STAGE_LABELS,
                               DOCUMENT_PURPOSE_LABELS, FUNDING_SOURCE_LABELS, PROJECT_STATE_LABELS,
                               PROJECT_TYPE_LABELS)
from ..text import LazyText
from ..workdays import CHINA
from . import project_money, project_performance, projects
from .receipts import form_pdf

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("xlsx", "pdf")
@lru_cache(maxsize=1)
def _catalogue():
    from babel.support import Translations
    return Translations.load(str(Path(__file__).resolve().parents[1] / "translations"), ["zh_Hans_CN"])


def zh(text):
    """Text in Chinese: a LazyText through the zh_CN catalogue, anything else as it is."""
    if isinstance(text, LazyText):
        out = _catalogue().gettext(text.msgid)
        return out % text.variables if text.variables else out
    return "" if text is None else str(text)


def label(labels, value):
    return zh(labels.get(value, value)) if value else ""


def yuan(value):
    return "" if value is None else f"{Decimal(value):,.2f}"


def day(value):
    return value.isoformat() if value else ""


def local_time(value):
    return value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if value else ""


def yes_no(value):
    return "是" if value else "否"


# -- 申报表 ----------------------------------------------------------------------------------------

def declaration_rows(project):
    """The 申报表 as (item, content) rows (附件1 第七条(一), 第十三条)."""
    return [
        ("项目编号", project.number),
        ("申报单位", project.department.name if project.department else ""),
        ("项目名称", project.name),
        ("计划年度", f"{project.plan_year}年"),
        ("项目类型", label(PROJECT_TYPE_LABELS, project.project_type)),
        ("建设性质", label(CONSTRUCTION_KIND_LABELS, project.construction_kind)),
        ("紧急追加项目（第八条）", f"是（{project.urgent_reason}）" if project.urgent else "否"),
        ("建设内容", project.content),
        ("建设必要性", project.necessity),
        ("依托政务云部署运行（第四条）", yes_no(project.on_government_cloud)
         + (f"（{project.cloud_exemption}）" if not project.on_government_cloud and project.cloud_exemption else "")),
        ("数据资源共享和开放", project.data_sharing),
        ("投资估算（元）", yuan(project.estimate)),
        ("资金来源", label(FUNDING_SOURCE_LABELS, project.funding_source)
         + (f"（{project.funding_note}）" if project.funding_note else "")),
        ("建设周期", project.schedule),
        ("计划起止日期", f"{day(project.planned_start)} 至 {day(project.planned_end)}"
         if project.planned_start or project.planned_end else ""),
        ("项目责任人（第十三条）", project.responsible_person),
        ("主管领导", project.leader),
        ("当前状态", label(PROJECT_STATE_LABELS, project.state)),
        ("申报时间", local_time(project.declared_at)),
    ]


def declaration(project, fmt):
    """(bytes, mimetype, filename) of the project's 申报表."""
    title = "酒泉市信息化及智慧城市建设项目申报表"
    rows = declaration_rows(project)
    name = f"project-{project.number}-declaration"
    if fmt == "xlsx":
        return workbook([("申报表", title, ["项目", "内容"], rows)]), XLSX, name + ".xlsx"
    from reportlab.lib.units import mm
    footer = ["申报单位（盖章）：　　　　　　　　项目责任人（签字）：　　　　　　　　日期：　　　　年　　月　　日",
              "", "市大数据管理局初审意见：", "", "经办人：　　　　　　　　　　　　　　日期：　　　　年　　月　　日"]
    return (form_pdf(title, [("项目编号", project.number)], [("", ["项目", "内容"], rows[1:], [48 * mm, 138 * mm])],
                     footer), "application/pdf", name + ".pdf")


# -- the annual plan ------------------------------------------------------------------------------

PLAN_HEADINGS = ["序号", "项目编号", "申报单位", "项目名称", "项目类型", "建设性质", "投资估算（元）", "批复概算（元）",
                 "资金来源", "建设周期", "紧急追加", "当前状态"]


def plan_rows(projects):
    rows = [[i, p.number, p.department.name if p.department else "", p.name,
             label(PROJECT_TYPE_LABELS, p.project_type), label(CONSTRUCTION_KIND_LABELS, p.construction_kind),
             yuan(p.estimate), yuan(p.approved_estimate), label(FUNDING_SOURCE_LABELS, p.funding_source),
             p.schedule, "是" if p.urgent else "", label(PROJECT_STATE_LABELS, p.state)]
            for i, p in enumerate(projects, start=1)]
    total = sum((Decimal(p.estimate or 0) for p in projects), Decimal("0.00"))
    rows.append(["合计", "", "", f"{len(projects)} 个项目", "", "", yuan(total), "", "", "", "", ""])
    return rows


def plan_header(session, year):
    plan = projects.get_plan(session, year)
    header = [("计划年度", f"{year}年")]
    if plan is not None:
        states = {"draft": "编制中", "submitted": "已提交市政府审定", "approved": "市政府已审定"}
        header.append(("计划状态", states.get(plan.state, plan.state)))
        if plan.investment_limit is not None:
            header.append(("市级政府投资控制规模（元）", yuan(plan.investment_limit)))
        if plan.approved_document:
            header.append(("市政府审定文号", f"{plan.approved_document}（{day(plan.approved_on)}）"))
    return header


def annual_plan(session, user, year, fmt, now=None):
    """(bytes, mimetype, filename) of the year's plan (the projects user may see in it, services/projects
    plan_projects), with the city government's decision."""
    if not 2000 <= year <= 2100:
        raise NotFound("年度建设计划", year)
    title = f"{year}年度政府投资信息化及智慧城市项目建设计划"
    rows = plan_rows(projects.plan_projects(session, user, year))
    header = plan_header(session, year) + [("生成时间", f"{local_time(now or utcnow())}（北京时间）")]
    name = f"annual-plan-{year}"
    if fmt == "xlsx":
        return workbook([("年度计划", title, PLAN_HEADINGS, rows), ("说明", title, ["项目", "内容"], header)]), \
            XLSX, name + ".xlsx"
    from reportlab.lib.units import mm
    widths = [w * mm for w in (10, 27, 30, 40, 22, 18, 25, 25, 20, 22, 12, 20)]
    footer = ["编制单位：市大数据管理局（盖章）", "商市委网信办、市发改委制定，提交市政府审定（第七条（三））。"]
    return form_pdf(title, header, [("", PLAN_HEADINGS, rows, widths)], footer, landscape_page=True), \
        "application/pdf", name + ".pdf"


# -- the dossier ------------------------------------------------------------------------------------

PHASES = {"trial": "试运行", "in_use": "已投入使用"}
STATUSES = {"pending": "办理中", "live": "运行中", "decommissioned": "已注销", "none": "未开通"}


def system_rows(systems):
    """The project's systems (services/projects.project_systems): 试运行 before the project's acceptance
    (第十五条), in use once marked; and their cloud resources."""
    return [[s["system"].number, s["system"].system_name, STATUSES.get(s["status"], s["status"]),
             PHASES.get(s["phase"], ""), len(s["resources"]),
             "、".join(f"{r.name}" for r in s["resources"][:8]) + ("…" if len(s["resources"]) > 8 else ""),
             local_time(s["system"].in_use_at)] for s in systems]


def sla_rows(session, project, systems, now=None):
    """The availability of the project's systems this month and last (Beijing months)."""
    from .sla import current_month, monthly_report, previous_month
    year, month = current_month(now)
    names = {s["system"].system_name for s in systems}
    rows = []
    for y, m in (previous_month(year, month), (year, month)):
        for fig in monthly_report(session, None, y, m, now, every_department=True):
            if fig.department_id == project.department_id and fig.system_name in names:
                rows.append([f"{y}年{m}月", fig.system_name, f"{fig.ratio * 100:.3f}%", fig.incidents])
    return rows


def dossier_sections(session, project, now=None):
    """The dossier as [(sheet name, heading, column headings, rows)]."""
    now = now or utcnow()
    figures = project_money.summary(session, project, now)
    systems = projects.project_systems(session, project)
    ends = project_performance.warranty_end(project)
    basics = declaration_rows(project) + [
        ("批复概算（元）", yuan(project.approved_estimate)),
        ("批准的建设内容", project.approved_scope),
        ("立项批复", f"{project.approval_document}（{day(project.approval_date)}）" if project.approval_document else ""),
        ("采购方式 / 中标单位 / 监理单位", " / ".join(x for x in (project.procurement_method, project.supplier,
                                                           project.supervisor) if x)),
        ("验收合格日期", day(project.accepted_on)),
        ("质量保修期（第十六条）", f"{project.warranty_years}年，至 {day(ends)}" if ends else ""),
    ]
    decisions = [[local_time(d.recorded_at), label(DECISION_STAGE_LABELS, d.stage), label(DECISION_BODY_LABELS, d.body),
                  label(DECISION_OUTCOME_LABELS, d.outcome), d.document_number, day(d.decided_on),
                  d.opinion or d.reason] for d in project.decisions]
    documents = [[label(DOCUMENT_PURPOSE_LABELS, d.purpose), d.filename, f"{d.size:,}", local_time(d.uploaded_at),
                  d.sha256[:16]] for d in project.documents]
    money = [("批复概算（元）", yuan(figures.estimate)), ("当前有效投资（元）", yuan(figures.investment)),
             ("合同金额合计（元）", yuan(figures.contracted)), ("已支付（元）", yuan(figures.paid)),
             ("政务云费用累计（元）", yuan(figures.fees)),
             ("待审批的投资变更", f"调整为 {yuan(figures.pending.new_amount)} 元，待市大数据管理局审批"
              if figures.pending else "无")]
    contracts = []
    for c in project_money.contracts_of(session, project.id):
        paid = project_money.paid_total(session, contract_id=c.id)
        contracts.append([c.number, c.title, c.supplier, yuan(c.amount), day(c.signed_on), yuan(paid),
                          yuan(Decimal(c.amount) - paid)])
    payments = [[p.contract.number, yuan(p.amount), day(p.paid_on), p.voucher, p.note] for p in session.scalars(
        select(ProjectPayment).where(ProjectPayment.project_id == project.id)
        .order_by(ProjectPayment.paid_on, ProjectPayment.id))]
    changes = [[local_time(c.requested_at), yuan(c.previous_amount), yuan(c.new_amount),
                f"{(Decimal(c.new_amount) / Decimal(c.estimate) - 1) * 100:+.2f}%" if c.estimate else "",
                label(CHANGE_STATE_LABELS, c.state), c.reason, c.decision_comment]
               for c in project_money.changes_of(session, project.id)]
    fee_rows = [[f"{y}年{m}月", yuan(a)] for y, m, a in figures.fee_months] + [["合计", yuan(figures.fees)]]
    acceptance = [[a.round, label(ACCEPTANCE_OUTCOME_LABELS, a.outcome), day(a.held_on), a.opinion,
                   a.rectification_items, day(a.rectification_deadline)] for a in project.acceptances]
    evaluations = []
    for e in project_performance.evaluations_of(session, project.id):
        evaluations.append([local_time(e.opened_at), "已完成" if e.state == "completed" else "评估中",
                            len(e.scores), "" if e.total is None else str(e.total),
                            project_performance.zh_grade(e.grade),
                            "" if e.self_score is None else str(e.self_score), e.conclusion])
    return [
        ("基本信息", "项目基本信息", ["项目", "内容"], basics),
        ("决策记录", "审查、审批与决策记录", ["记录时间", "环节", "决定机关", "结论", "文号", "文件日期", "意见 / 理由"],
         decisions),
        ("项目文件", "项目文件清单", ["类别", "文件名", "大小（字节）", "上传时间", "SHA-256（前16位）"], documents),
        ("资金", "项目资金（第十二条）", ["项目", "金额 / 说明"], money),
        ("合同", "合同", ["合同编号", "合同名称", "供应商", "合同金额（元）", "签订日期", "已支付（元）", "未支付（元）"],
         contracts),
        ("支付", "支付记录", ["合同编号", "金额（元）", "支付日期", "凭证号", "备注"], payments),
        ("投资变更", "投资变更（超出概算10%须经市大数据管理局批准）",
         ["申请时间", "变更前（元）", "变更后（元）", "较概算", "状态", "理由", "审批意见"], changes),
        ("应用系统", "应用系统及政务云资源", ["申请编号", "系统名称", "资源状态", "使用阶段", "云资源数", "云资源",
                                        "投入使用时间"], system_rows(systems)),
        ("政务云费用", "政务云费用（按月）", ["月份", "费用（元）"], fee_rows),
        ("可用率", "服务等级（可用率）", ["月份", "系统名称", "可用率", "故障事件"], sla_rows(session, project, systems, now)),
        ("验收", "验收（第十五条）", ["轮次", "结论", "验收日期", "验收意见", "整改意见", "整改期限"], acceptance),
        ("绩效评估", "绩效评估（第十七条）", ["开始时间", "状态", "专家人数", "总分", "等级", "自评分", "结论"], evaluations),
    ]


def dossier(session, project, fmt, now=None):
    """(bytes, mimetype, filename) of the project's dossier."""
    now = now or utcnow()
    sections = dossier_sections(session, project, now)
    title = f"信息化项目档案：{project.name}"
    name = f"project-{project.number}-dossier"
    if fmt == "xlsx":
        return workbook(sections), XLSX, name + ".xlsx"
    header = [("项目编号", project.number), ("申报单位", project.department.name if project.department else ""),
              ("当前状态", label(PROJECT_STATE_LABELS, project.state)),
              ("生成时间", f"{local_time(now)}（北京时间）")]
    tables = [(heading, columns, rows or [["（无）"] + [""] * (len(columns) - 1)], None)
              for _sheet, heading, columns, rows in sections[1:]]
    tables.insert(0, (sections[0][1], sections[0][2], sections[0][3][1:], None))
    return form_pdf(title, header, tables, [], landscape_page=True), "application/pdf", name + ".pdf"


# -- the workbook -----------------------------------------------------------------------------------

def workbook(sheets):
    """An XLSX of [(sheet name, title, column headings, rows)]: the title in A1, the headings in row 2."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    wb.remove(wb.active)
    for name, title, headings, rows in sheets:
        ws = wb.create_sheet(name[:31])
        ws.append([title])
        ws["A1"].font = Font(bold=True, size=14)
        ws.append(list(headings))
        for cell in ws[2]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append([_cell(v) for v in row])
        for column, heading in zip(ws.columns, headings):
            width = max([len(str(heading))] + [len(str(c.value or "")) for c in list(column)[2:50]])
            ws.column_dimensions[column[0].column_letter].width = min(max(10, width * 1.8), 60)
        for row in ws.iter_rows(min_row=3):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _cell(value):
    """Amounts as numbers (yuan text "1,234.50" becomes Decimal), the rest as it is."""
    if isinstance(value, str) and value and value.replace(",", "").replace(".", "", 1).isdigit() and "." in value:
        return Decimal(value.replace(",", ""))
    if isinstance(value, datetime):
        return local_time(value)
    return value

"""Helpers of the project money, warranty, evaluation, export and API tests: a project put straight
into a state of the flow (the flow itself is tested with the projects' own tests), and the acting
users' RequestInfo."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

from portal.database import utcnow
from portal.models.accounts import User
from portal.models.projects import Project, ProjectState
from portal.services.audit import RequestInfo
from portal.services.projects import add_years

_numbers = iter(range(1, 10_000))


def make_project(session, department_id, *, state=ProjectState.DESIGN_APPROVED, approved_estimate="1000000.00",
                 name="智慧停车平台", plan_year=2027, accepted_on=None, warranty_years=3, estimate=None, **fields):
    """A project of department_id in state, with the approved estimate (yuan) given; committed."""
    project = Project(number=f"XM-T-{next(_numbers):05d}-{department_id}", department_id=department_id,
                      state=state, plan_year=plan_year, name=name, content="建设停车诱导与缴费系统",
                      necessity="缓解停车难", data_sharing="向共享交换平台提供泊位数据",
                      estimate=Decimal(estimate or approved_estimate or "0.00"),
                      approved_estimate=Decimal(approved_estimate) if approved_estimate else None,
                      responsible_person="张责任", responsible_phone="13800000000", leader="李主管",
                      schedule="2027年3月至2027年12月", planned_start=date(2027, 3, 1),
                      planned_end=date(2027, 12, 31), accepted_on=accepted_on, warranty_years=warranty_years,
                      warranty_ends_on=(add_years(accepted_on, warranty_years) if accepted_on else None),
                      declared_at=utcnow() - timedelta(days=90), **fields)
    session.add(project)
    session.commit()
    return project


def ctx_of(session, seed, key):
    user = session.scalar(select(User).where(User.id == seed.user_ids[key]))
    return RequestInfo(actor=user, correlation_id="test")


def rich_project(session, seed, *, year=2026):
    """A project in use with every part of its dossier: decisions, documents, contracts, payments, an
    investment change waiting, a system with its statement lines, two acceptance rounds, an evaluation."""
    from portal.models.billing import Statement, StatementLine
    from portal.models.project_money import ExpertScore, PerformanceEvaluation
    from portal.models.projects import AnnualPlan, ProjectAcceptance, ProjectDecision, ProjectDocument
    from portal.models.requests import ResourceRequest
    from portal.services import project_money as money

    project = make_project(session, seed.dept_a, state=ProjectState.IN_USE, name="城市智慧停车平台",
                           plan_year=year, accepted_on=date(2026, 6, 30), approval_document="酒发改审批〔2026〕12号",
                           approval_date=date(2026, 1, 20), approved_scope="停车诱导、缴费、数据共享三个子系统",
                           procurement_method="公开招标", supplier="甘肃某信息技术有限公司", supervisor="某监理公司",
                           contract_amount=Decimal("900000.00"))
    session.add(AnnualPlan(year=year, state="approved", investment_limit=Decimal("50000000.00"),
                           approved_document="酒政发〔2025〕88号", approved_on=date(2025, 11, 20)))
    for stage, body, outcome, number, opinion in (
            ("declaration", "department", "submitted", "", "按期申报"),
            ("preliminary_review", "bureau", "passed", "", "符合规划，依托政务云部署，数据共享充分"),
            ("annual_plan", "city_government", "passed", "酒政发〔2025〕88号", "列入年度计划"),
            ("feasibility", "ndrc", "passed", "酒发改审批〔2026〕12号", "同意立项"),
            ("design_review", "expert", "passed", "", "概算合理，同意实施方案"),
            ("acceptance", "bureau", "rectification", "", "安全测评未完成，限期整改"),
            ("acceptance", "bureau", "passed", "", "验收合格")):
        session.add(ProjectDecision(project_id=project.id, stage=stage, body=body, outcome=outcome,
                                    document_number=number, decided_on=date(2026, 1, 20) if number else None,
                                    opinion=opinion, recorded_by_id=seed.user_ids["bureau"]))
    for purpose, filename in (("feasibility", "可行性研究报告.pdf"), ("estimate", "投资概算.xlsx"),
                              ("funding_plan", "资金筹措计划.pdf"), ("design", "初步设计.pdf")):
        session.add(ProjectDocument(project_id=project.id, purpose=purpose, filename=filename,
                                    stored_name=f"{project.id}-{purpose}", content_type="application/pdf",
                                    size=123456, sha256="ab" * 32, uploaded_by_id=seed.user_ids["dept"]))
    session.add_all([
        ProjectAcceptance(project_id=project.id, round=1, outcome="rectification", held_on=date(2026, 6, 1),
                          opinion="部分功能未达标", rectification_items="完成等保测评", rectification_deadline=date(2026, 6, 25)),
        ProjectAcceptance(project_id=project.id, round=2, outcome="passed", held_on=date(2026, 6, 30),
                          opinion="整改完成，验收合格")])
    system = ResourceRequest(number=f"ZWY-T-P{project.id}", department_id=seed.dept_a, system_name="智慧停车",
                             state="provisioned", spec={}, approved_spec={}, project_id=project.id,
                             in_use_at=utcnow())
    session.add(system)
    session.commit()
    dept = ctx_of(session, seed, "dept")
    contract = money.add_contract(session, dept, project, number="HT-2027-01", title="平台开发", supplier="甘肃某信息技术有限公司",
                                  amount=Decimal("900000.00"), signed_on=date(2026, 3, 1))
    money.add_payment(session, dept, project, contract, amount=Decimal("270000.00"), paid_on=date(2026, 3, 15),
                      voucher="PZ-001", note="首付款30%")
    money.request_change(session, dept, project, Decimal("1200000.00"), "增加视频识别子系统", {})
    start = datetime(2026, 4, 1, tzinfo=timezone.utc)
    statement = Statement(department_id=seed.dept_a, year=2026, month=4, version=1, total=Decimal("321.45"))
    statement.lines = [StatementLine(position=1, system_id=system.id, system_name="智慧停车", resource_type="vcpu",
                                     period_start=start, period_end=start + timedelta(days=30), unit_price=1,
                                     unit_seconds=3600, quantity_hours=1, amount=Decimal("321.45"))]
    session.add(statement)
    evaluation = PerformanceEvaluation(project_id=project.id, department_id=seed.dept_a, state="completed",
                                       indicators=[{"key": "a", "name": "运行", "aspect": "operation", "weight": 50},
                                                   {"key": "b", "name": "效果", "aspect": "effect", "weight": 50}],
                                       self_assessment="运行平稳", self_score=Decimal("92"), total=Decimal("86.50"),
                                       grade="good", conclusion="达到预期目标", completed_at=utcnow())
    session.add(evaluation)
    session.flush()
    session.add(ExpertScore(evaluation_id=evaluation.id, expert_id=seed.user_ids["expert"], scores={"a": 85, "b": 88},
                            weighted=Decimal("86.50"), opinion="良好"))
    session.commit()
    return project

"""Demo data: a few departments and one user per role, created only when missing."""
import secrets
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from ..models.accounts import Department, DepartmentLevel, Role, User
from ..models.projects import Project, ProjectState
from . import users
from .audit import RequestInfo

DEMO_DEPARTMENTS = [
    dict(code="EDU", name="市教育局", level=DepartmentLevel.CITY,
         security_officer_name="王安全", security_officer_phone="0571-88000001",
         it_lead_name="李信息", it_lead_phone="13800000001", it_lead_email="it@edu.example.gov.cn",
         emergency_contact_name="赵应急", emergency_contact_phone="13900000001"),
    dict(code="PSB", name="市公安局", level=DepartmentLevel.CITY,
         security_officer_name="陈保密", security_officer_phone="0571-88000002",
         it_lead_name="周网络", it_lead_phone="13800000002", it_lead_email="it@psb.example.gov.cn",
         emergency_contact_name="吴值班", emergency_contact_phone="13900000002"),
    dict(code="QX", name="青溪县人民政府", level=DepartmentLevel.COUNTY,
         security_officer_name="孙安全", security_officer_phone="0571-66000001",
         it_lead_name="郑信息", it_lead_phone="13800000003", it_lead_email="it@qx.example.gov.cn",
         emergency_contact_name="冯应急", emergency_contact_phone="13900000003"),
    dict(code="QX-WJ", name="青溪县卫生健康局", level=DepartmentLevel.SUB_UNIT, parent="QX",
         security_officer_name="褚安全", security_officer_phone="0571-66000002",
         it_lead_name="卫信息", it_lead_phone="13800000004", it_lead_email="it@qxwj.example.gov.cn",
         emergency_contact_name="蒋应急", emergency_contact_phone="13900000004"),
]

DEMO_USERS = [
    dict(username="edu-admin", full_name="教育局管理员", role=Role.DEPARTMENT, department="EDU",
         is_department_admin=True),
    dict(username="edu-user", full_name="教育局工作人员", role=Role.DEPARTMENT, department="EDU"),
    dict(username="psb-user", full_name="公安局工作人员", role=Role.DEPARTMENT, department="PSB"),
    dict(username="bureau", full_name="大数据局审核员", role=Role.BUREAU),
    dict(username="vendor", full_name="云服务商运维", role=Role.VENDOR),
    dict(username="expert", full_name="评审专家", role=Role.EXPERT),
    # 三权分立: one system, one security and one audit administrator
    dict(username="auditor", full_name="审计管理员", role=Role.AUDITOR),
    dict(username="admin", full_name="系统管理员", role=Role.ADMIN),
    dict(username="security", full_name="安全管理员", role=Role.SECURITY),
]


def demo_password():
    """Return a random password that passes the strength rules."""
    return "Demo-" + secrets.token_urlsafe(9) + "7a"


def load_demo(session, *, policy, passwords, password_for=None):
    """Create the demo departments and users that are missing; return {username: password} of new users."""
    password_for = password_for or (lambda username: demo_password())
    ctx = RequestInfo(correlation_id="load-demo")
    by_code = {d.code: d for d in session.scalars(select(Department))}
    for spec in DEMO_DEPARTMENTS:
        if spec["code"] in by_code:
            continue
        fields = {k: v for k, v in spec.items() if k != "parent"}
        if "parent" in spec:
            fields["parent_id"] = by_code[spec["parent"]].id
        department = Department(**fields)
        session.add(department)
        session.flush()
        by_code[department.code] = department
    session.commit()
    created = {}
    existing = set(session.scalars(select(User.username)))
    for spec in DEMO_USERS:
        if spec["username"] in existing:
            continue
        data = {k: v for k, v in spec.items() if k != "department"}
        data["department_id"] = by_code[spec["department"]].id if "department" in spec else None
        password = password_for(spec["username"])
        users.create_user(session, ctx, data, password, policy=policy, passwords=passwords)
        created[spec["username"]] = password
    _demo_project(session, by_code["EDU"])
    return created


def _demo_project(session, department):
    """One project of the education bureau past its design review (第七条(七)): its new systems may
    request cloud resources at once."""
    if session.scalar(select(Project.id).where(Project.number == DEMO_PROJECT["number"])) is not None:
        return
    session.add(Project(department_id=department.id, state=ProjectState.DESIGN_APPROVED, **DEMO_PROJECT))
    session.commit()


DEMO_PROJECT = dict(
    number="XM-DEMO-0001", plan_year=2026, name="智慧教育云平台", content="建设全市中小学统一的教育资源与管理平台",
    necessity="整合各校分散建设的系统，数据共享", data_sharing="学籍与资源目录向市数据共享平台开放",
    estimate=Decimal("3200000.00"), approved_estimate=Decimal("3000000.00"),
    approved_scope="教育资源平台、学籍管理、统一身份认证，部署于政务云", approval_document="发改审批〔2026〕12号",
    approval_date=date(2026, 3, 18), responsible_person="李信息", schedule="2026年4月至12月")

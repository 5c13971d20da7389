"""Helpers of the project money, warranty, evaluation, export and API tests: a project put straight
into a state of the flow (the flow itself is tested with the projects' own tests), and the acting
users' RequestInfo."""
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from portal.database import utcnow
from portal.models.accounts import User
from portal.models.projects import Project, ProjectState
from portal.services.audit import RequestInfo

_numbers = iter(range(1, 10_000))


def make_project(session, department_id, *, state=ProjectState.DESIGN_APPROVED, approved_estimate="1000000.00",
                 name="智慧停车平台", plan_year=2027, accepted_on=None, warranty_years=3, **fields):
    """A project of department_id in state, with the approved estimate (yuan) given; committed."""
    project = Project(number=f"XM-T-{next(_numbers):05d}-{department_id}", department_id=department_id,
                      state=state, plan_year=plan_year, name=name, content="建设停车诱导与缴费系统",
                      necessity="缓解停车难", data_sharing="向共享交换平台提供泊位数据",
                      estimate=Decimal(approved_estimate) if approved_estimate else Decimal("0.00"),
                      approved_estimate=Decimal(approved_estimate) if approved_estimate else None,
                      responsible_person="张责任", responsible_phone="13800000000", leader="李主管",
                      schedule="2027年3月至2027年12月", planned_start=date(2027, 3, 1),
                      planned_end=date(2027, 12, 31), accepted_on=accepted_on, warranty_years=warranty_years,
                      warranty_ends_on=(_years_after(accepted_on, warranty_years) if accepted_on else None),
                      declared_at=utcnow() - timedelta(days=90), **fields)
    session.add(project)
    session.commit()
    return project


def _years_after(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def ctx_of(session, seed, key):
    user = session.scalar(select(User).where(User.id == seed.user_ids[key]))
    return RequestInfo(actor=user, correlation_id="test")

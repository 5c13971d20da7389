"""第十二条: an investment change over 10 % of the approved estimate waits for the bureau; contracts stay
within the investment in effect, payments within their contract; the project's figures (estimate,
investment, contracted, paid, cloud fees of its systems to date)."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.errors import Forbidden, ValidationFailed, WrongState
from portal.models.audit import AuditEvent
from portal.models.billing import Statement, StatementLine
from portal.models.operations import Notification
from portal.models.project_money import ChangeState, InvestmentChange
from portal.models.requests import ResourceRequest
from portal.services import project_money as money
from portal.statemachine import TransitionNotAllowed
from tests.project_money_support import ctx_of, make_project

SETTINGS = {}


@pytest.fixture
def project(db_session, seed):
    return make_project(db_session, seed.dept_a, approved_estimate="1000000.00")


def test_the_rule_is_exact_at_ten_percent():
    estimate = Decimal("1000000.00")
    assert not money.needs_approval(estimate, Decimal("1100000.00"))      # exactly 10 %
    assert money.needs_approval(estimate, Decimal("1100100.00"))          # 10.01 %
    assert money.needs_approval(estimate, Decimal("1100000.01"))          # one cent over
    assert not money.needs_approval(estimate, Decimal("900000.00"))       # a decrease


def test_exactly_ten_percent_takes_effect_at_once(db_session, seed, project):
    dept = ctx_of(db_session, seed, "dept")
    change = money.request_change(db_session, dept, project, Decimal("1100000.00"), "增加数据接口", SETTINGS)
    db_session.commit()
    assert change.state == ChangeState.EFFECTIVE and change.effective_at is not None
    assert money.current_investment(db_session, project) == Decimal("1100000.00")
    assert money.pending_change(db_session, project.id) is None
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "investment_change.request")).one()
    assert event.detail == "增加数据接口" and event.after["state"] == "effective"


def test_ten_point_zero_one_percent_waits_for_the_bureau(db_session, seed, project):
    dept, bureau = ctx_of(db_session, seed, "dept"), ctx_of(db_session, seed, "bureau")
    before = db_session.scalar(select(Notification.id).order_by(Notification.id.desc()).limit(1)) or 0
    change = money.request_change(db_session, dept, project, Decimal("1100100.00"), "增加视频分析模块",
                                  {"SMTP_HOST": ""})
    db_session.commit()
    assert change.state == ChangeState.PENDING and change.effective_at is None
    assert money.current_investment(db_session, project) == Decimal("1000000.00")  # not yet
    notified = db_session.scalars(select(Notification).where(Notification.id > before)).all()
    assert {n.user_id for n in notified} == {seed.user_ids["bureau"]}
    assert "超出批准概算" in notified[0].body
    # a second change while one waits is refused; a department cannot decide
    with pytest.raises(WrongState):
        money.request_change(db_session, dept, project, Decimal("1050000.00"), "再变更", SETTINGS)
    db_session.rollback()
    with pytest.raises(Forbidden):
        money.decide_change(db_session, dept, change, "approve")
    money.decide_change(db_session, bureau, change, "approve", "同意")
    db_session.commit()
    assert change.state == ChangeState.APPROVED and change.effective_at is not None
    assert change.decided_by_id == seed.user_ids["bureau"]
    assert money.current_investment(db_session, project) == Decimal("1100100.00")
    with pytest.raises(TransitionNotAllowed):  # decided once
        money.decide_change(db_session, bureau, change, "reject", "晚了")


def test_a_rejected_change_leaves_the_figures(db_session, seed, project):
    dept, bureau = ctx_of(db_session, seed, "dept"), ctx_of(db_session, seed, "bureau")
    money.request_change(db_session, dept, project, Decimal("1050000.00"), "小幅调整", SETTINGS)  # 5 %: in effect
    change = money.request_change(db_session, dept, project, Decimal("1500000.00"), "扩大范围", SETTINGS)
    db_session.commit()
    assert change.previous_amount == Decimal("1050000.00") and change.estimate == Decimal("1000000.00")
    with pytest.raises(ValidationFailed):  # a rejection gives its reason
        money.decide_change(db_session, bureau, change, "reject", "")
    money.decide_change(db_session, bureau, change, "reject", "超出年度计划投资控制规模")
    db_session.commit()
    figures = money.summary(db_session, project)
    assert change.state == ChangeState.REJECTED
    assert (figures.estimate, figures.investment, figures.pending) == (Decimal("1000000.00"),
                                                                      Decimal("1050000.00"), None)
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "investment_change.reject")).one()
    assert event.detail == "超出年度计划投资控制规模" and event.before["state"] == "pending"


def test_small_steps_cannot_climb_past_ten_percent(db_session, seed, project):
    """The measure is the approved estimate: 6 % then 12 % waits, although the second step is 5.7 %."""
    dept = ctx_of(db_session, seed, "dept")
    assert money.request_change(db_session, dept, project, Decimal("1060000.00"), "一", SETTINGS).state == "effective"
    assert money.request_change(db_session, dept, project, Decimal("1120000.00"), "二", SETTINGS).state == "pending"


def test_contracts_stay_within_the_investment_and_payments_within_their_contract(db_session, seed, project):
    dept, bureau = ctx_of(db_session, seed, "dept"), ctx_of(db_session, seed, "bureau")
    signed = date(2026, 6, 1)
    main = money.add_contract(db_session, dept, project, number="HT-001", title="平台开发", supplier="某软件公司",
                              amount=Decimal("800000.00"), signed_on=signed)
    money.add_contract(db_session, dept, project, number="HT-002", title="监理", supplier="某监理公司",
                       amount=Decimal("200000.00"), signed_on=signed)
    db_session.commit()
    with pytest.raises(ValidationFailed) as over:  # 1 000 000.01 contracted > 1 000 000 in effect
        money.add_contract(db_session, dept, project, number="HT-003", title="等保测评", supplier="测评机构",
                           amount=Decimal("0.01"), signed_on=signed)
    assert over.value.field == "amount"
    db_session.rollback()
    with pytest.raises(Forbidden):  # the bureau does not record the department's contracts
        money.add_contract(db_session, bureau, project, number="HT-009", title="x", supplier="y",
                           amount=Decimal("1.00"), signed_on=signed)
    money.add_payment(db_session, dept, project, main, amount=Decimal("500000.00"), paid_on=date(2026, 7, 1),
                      voucher="PZ-1")
    money.add_payment(db_session, dept, project, main, amount=Decimal("300000.00"), paid_on=date(2026, 8, 1))
    db_session.commit()
    with pytest.raises(ValidationFailed) as overpaid:  # the contract is paid in full
        money.add_payment(db_session, dept, project, main, amount=Decimal("0.01"), paid_on=date(2026, 9, 1))
    assert overpaid.value.field == "amount"
    db_session.rollback()
    with pytest.raises(ValidationFailed):  # before the signature
        money.add_payment(db_session, dept, project, main, amount=Decimal("1.00"), paid_on=date(2026, 5, 31))
    db_session.rollback()
    with pytest.raises(ValidationFailed):  # an amendment never goes below what was paid
        money.amend_contract(db_session, dept, project, main, Decimal("799999.99"), "减少")
    db_session.rollback()
    with pytest.raises(ValidationFailed):  # nor beyond the investment in effect
        money.amend_contract(db_session, dept, project, main, Decimal("850000.00"), "补充协议")
    db_session.rollback()
    # the way to pay more: change the investment (5 %: in effect), amend the contract, then pay
    money.request_change(db_session, dept, project, Decimal("1050000.00"), "新增接口开发", SETTINGS)
    money.amend_contract(db_session, dept, project, main, Decimal("850000.00"), "补充协议一")
    money.add_payment(db_session, dept, project, main, amount=Decimal("50000.00"), paid_on=date(2026, 9, 1))
    db_session.commit()
    figures = money.summary(db_session, project)
    assert (figures.investment, figures.contracted, figures.paid) == (
        Decimal("1050000.00"), Decimal("1050000.00"), Decimal("850000.00"))
    with pytest.raises(ValidationFailed):  # an investment below what is contracted
        money.request_change(db_session, dept, project, Decimal("1000000.00"), "压减", SETTINGS)
    db_session.rollback()
    actions = set(db_session.scalars(select(AuditEvent.action).where(AuditEvent.object_type.in_(
        ("project_contract", "project_payment")))))
    assert actions == {"project_contract.create", "project_contract.amend", "project_payment.create"}


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-5.00"), Decimal("1.001"), Decimal("NaN"),
                                    Decimal("Infinity"), Decimal("1000000000000.00"), "100", 100])
def test_amounts_must_be_positive_cents(db_session, seed, project, amount):
    with pytest.raises(ValidationFailed):
        money.request_change(db_session, ctx_of(db_session, seed, "dept"), project, amount, "理由", SETTINGS)
    db_session.rollback()
    assert db_session.scalar(select(InvestmentChange.id)) is None


def test_another_department_and_a_project_without_approved_estimate_are_refused(db_session, seed, project):
    with pytest.raises(Forbidden):
        money.request_change(db_session, ctx_of(db_session, seed, "dept_b"), project, Decimal("1.00"), "x", SETTINGS)
    early = make_project(db_session, seed.dept_a, state="approved", approved_estimate=None)
    with pytest.raises(WrongState):
        money.request_change(db_session, ctx_of(db_session, seed, "dept"), early, Decimal("1.00"), "x", SETTINGS)


def test_cloud_fees_are_the_project_systems_lines_of_the_newest_statements(db_session, seed, project):
    system = db_session.scalars(select(ResourceRequest).where(ResourceRequest.department_id == seed.dept_a,
                                                              ResourceRequest.system_id.is_(None))).first()
    system.project_id = project.id
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)

    def statement(month, version, amounts):
        s = Statement(department_id=seed.dept_a, year=2026, month=month, version=version, total=sum(amounts))
        s.lines = [StatementLine(position=i, system_id=sid, system_name="x", resource_type="vcpu",
                                 period_start=start, period_end=start + timedelta(days=1), unit_price=1,
                                 unit_seconds=3600, quantity_hours=1, amount=a)
                   for i, (sid, a) in enumerate(zip((system.id, 999999), amounts))]
        db_session.add(s)

    statement(3, 1, [Decimal("100.00"), Decimal("7.00")])
    statement(3, 2, [Decimal("120.50"), Decimal("7.00")])   # the newest version counts
    statement(4, 1, [Decimal("80.25"), Decimal("9.00")])    # 999999: another system, not the project's
    db_session.commit()
    total, months = money.cloud_fees(db_session, project, now=datetime(2026, 5, 2, tzinfo=timezone.utc))
    assert months == [(2026, 3, Decimal("120.50")), (2026, 4, Decimal("80.25"))]
    assert total == Decimal("200.75")

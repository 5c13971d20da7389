"""The money of an informatization project (第十二条): investment changes, contracts, payments and
the project's figures (estimate, investment in effect, contracted, paid, cloud fees to date).

The rules, each checked here and nowhere else:
- a change whose new investment exceeds the approved estimate by more than 10 % (new > estimate × 1.1,
  exact decimals: exactly 10 % is within) waits for the bureau; within 10 % (or a decrease) it takes
  effect when recorded. The measure is the approved estimate, not the investment in effect, so a
  series of small changes cannot climb past 10 % without the bureau;
- one change waits at a time (a second is refused while one is pending);
- the contracts together never exceed the investment in effect (a bigger contract needs an
  investment change first), and a contract's payments never exceed its amount (a bigger payment
  needs the contract amended first, by a supplementary agreement; an amendment never goes below
  what has been paid);
- payments are dated on or after the contract's signature and not in the future (Beijing).
Every record and decision is audited with its reason; the caller commits.
"""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from ..database import utcnow
from ..errors import Forbidden, ValidationFailed, WrongState
from ..models.accounts import Role
from ..models.billing import Statement, StatementLine
from ..models.project_money import (CHANGE_STATE_LABELS, IN_EFFECT, INVESTMENT_CHANGES, ChangeState,
                                    InvestmentChange, ProjectContract, ProjectPayment)
from ..scoping import get_scoped
from ..text import _l
from ..workdays import CHINA
from .audit import record_event
from .notifications import notify_department, notify_roles
from .transitions import lock, transition

CENT = Decimal("0.01")
APPROVAL_THRESHOLD = Decimal("1.10")   # 第十二条: over the estimate by more than 10 %
MAX_AMOUNT = Decimal("999999999999.99")  # Numeric(14, 2)
RECORDERS = (Role.DEPARTMENT,)          # the project's own department records its money
DECIDERS = (Role.BUREAU,)


def _money(value, field):
    """A positive amount in yuan with at most two decimals, or ValidationFailed."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValidationFailed(_l("Enter an amount in yuan, such as 1200000.00."), field=field)
    if value <= 0 or value > MAX_AMOUNT or value != value.quantize(CENT):
        raise ValidationFailed(_l("Enter a positive amount in yuan with at most two decimals."), field=field)
    return value.quantize(CENT)


def _require(ctx, roles):
    if ctx.actor is None or ctx.actor.role not in roles:
        raise Forbidden()


def _own(ctx, project):
    """Only a user of the project's department records its money."""
    _require(ctx, RECORDERS)
    if ctx.actor.department_id != project.department_id:
        raise Forbidden()


def needs_approval(estimate, new_amount):
    """True when new_amount exceeds the approved estimate by more than 10 % (exactly 10 % does not)."""
    return new_amount > estimate * APPROVAL_THRESHOLD


def estimate_of(project):
    """The project's approved estimate in yuan (批复概算, set by the design review), or None before."""
    value = project.approved_estimate
    return None if value is None else Decimal(value).quantize(CENT)


def changes_of(session, project_id):
    return list(session.scalars(select(InvestmentChange).where(InvestmentChange.project_id == project_id)
                                .order_by(InvestmentChange.requested_at, InvestmentChange.id)))


def current_investment(session, project):
    """The investment in effect: the newest change in effect, else the approved estimate."""
    newest = session.scalars(select(InvestmentChange).where(
        InvestmentChange.project_id == project.id, InvestmentChange.state.in_(IN_EFFECT))
        .order_by(InvestmentChange.effective_at.desc(), InvestmentChange.id.desc()).limit(1)).first()
    return Decimal(newest.new_amount) if newest is not None else estimate_of(project)


def pending_change(session, project_id):
    return session.scalars(select(InvestmentChange).where(InvestmentChange.project_id == project_id,
                                                          InvestmentChange.state == ChangeState.PENDING)).first()


def contracted_total(session, project_id):
    return session.scalar(select(func.coalesce(func.sum(ProjectContract.amount), 0))
                          .where(ProjectContract.project_id == project_id)) or Decimal("0")


def paid_total(session, project_id=None, contract_id=None):
    stmt = select(func.coalesce(func.sum(ProjectPayment.amount), 0))
    stmt = stmt.where(ProjectPayment.contract_id == contract_id) if contract_id is not None \
        else stmt.where(ProjectPayment.project_id == project_id)
    return Decimal(session.scalar(stmt) or 0).quantize(CENT)


# -- investment changes -------------------------------------------------------------------------

def request_change(session, ctx, project, new_amount, reason, settings=None):
    """The department changes the project's investment to new_amount (yuan): in effect at once within
    10 % of the estimate, else pending the bureau's approval (the bureau is notified). Returns the change."""
    _own(ctx, project)
    new_amount = _money(new_amount, "new_amount")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_l("Give the reason for the change."), field="reason")
    estimate = estimate_of(project)
    if estimate is None or estimate <= 0:
        raise WrongState(_l("The project has no approved estimate yet."))
    lock(session, project)  # two changes at once: the second waits, then sees the first
    if pending_change(session, project.id) is not None:
        raise WrongState(_l("A change of the investment already awaits the bureau's approval."))
    previous = current_investment(session, project)
    if new_amount < contracted_total(session, project.id):
        raise ValidationFailed(_l("The investment cannot be less than the amount already contracted."),
                               field="new_amount")
    now = utcnow()
    waits = needs_approval(estimate, new_amount)
    change = InvestmentChange(project_id=project.id, department_id=project.department_id, estimate=estimate,
                              previous_amount=previous, new_amount=new_amount, reason=reason,
                              requested_by_id=ctx.actor.id, requested_at=now,
                              state=ChangeState.PENDING if waits else ChangeState.EFFECTIVE,
                              effective_at=None if waits else now)
    session.add(change)
    session.flush()
    record_event(session, ctx, "investment_change.request", object_type="investment_change", object_id=change.id,
                 department_id=project.department_id, after={**change.snapshot(), "project_id": project.id},
                 detail=reason)
    if waits and settings is not None:
        notify_roles(session, settings, DECIDERS, department_id=project.department_id,
                     subject=f"[政务云] 项目投资变更待审批：{_project_name(project)}",
                     body=(f"{_project_name(project)} 申请将投资由 {previous} 元调整为 {new_amount} 元，"
                           f"超出批准概算 {estimate} 元的百分之十，须经市大数据管理局批准（第十二条）。\n"
                           f"理由：{reason}\n"),
                     topic=f"investment_change:{change.id}")
    return change


def _project_name(project):
    return getattr(project, "name", "") or f"#{project.id}"


def get_change(session, user, change_id):
    return get_scoped(session, InvestmentChange, change_id, user, kind=_l("investment change"))


def decide_change(session, ctx, change, decision, comment="", settings=None):
    """The bureau approves (the new investment takes effect now) or rejects (the figures stay) a
    pending change; a rejection needs its reason."""
    _require(ctx, DECIDERS)
    if decision not in ("approve", "reject"):
        raise ValidationFailed(_l("Choose approve or reject."), field="decision")
    comment = (comment or "").strip()
    if decision == "reject" and not comment:
        raise ValidationFailed(_l("Give the reason for the rejection."), field="comment")

    def decided(change, now):
        change.decided_by_id, change.decision_comment = ctx.actor.id, comment

    transition(session, ctx, INVESTMENT_CHANGES, change, decision, detail=comment, effects=decided)
    if settings is not None:
        outcome = "已批准，自即日起生效" if decision == "approve" else f"未获批准（{comment}），投资不变"
        notify_department(session, settings, change.department_id,
                          subject=f"[政务云] 项目投资变更{'已批准' if decision == 'approve' else '未获批准'}",
                          body=f"投资由 {change.previous_amount} 元调整为 {change.new_amount} 元的申请{outcome}。\n",
                          topic=f"investment_change:{change.id}")
    return change


def withdraw_change(session, ctx, change):
    """The department withdraws its pending change."""
    _require(ctx, RECORDERS)
    if ctx.actor.department_id != change.department_id:
        raise Forbidden()
    transition(session, ctx, INVESTMENT_CHANGES, change, "withdraw")
    return change


def change_label(change):
    return CHANGE_STATE_LABELS.get(change.state, change.state)


# -- contracts and payments ---------------------------------------------------------------------

def _check_within_investment(session, project, extra, field):
    investment = current_investment(session, project)
    if investment is None:
        raise WrongState(_l("The project has no approved estimate yet."))
    if contracted_total(session, project.id) + extra > investment:
        raise ValidationFailed(_l("The contracts would exceed the investment in effect (%(amount)s yuan); "
                                  "change the investment first.", amount=investment), field=field)


def add_contract(session, ctx, project, *, number, title, supplier, amount, signed_on, note=""):
    """Record a contract of the project; the contracts together stay within the investment in effect."""
    _own(ctx, project)
    amount = _money(amount, "amount")
    number, title, supplier = (number or "").strip(), (title or "").strip(), (supplier or "").strip()
    for field, value in (("number", number), ("title", title), ("supplier", supplier)):
        if not value:
            raise ValidationFailed(_l("This field is required."), field=field)
    if not isinstance(signed_on, date) or signed_on > _today():
        raise ValidationFailed(_l("The date cannot be in the future."), field="signed_on")
    lock(session, project)
    if session.scalar(select(ProjectContract.id).where(ProjectContract.project_id == project.id,
                                                       ProjectContract.number == number)):
        raise ValidationFailed(_l("The project already has a contract with this number."), field="number")
    _check_within_investment(session, project, amount, "amount")
    contract = ProjectContract(project_id=project.id, department_id=project.department_id, number=number,
                               title=title, supplier=supplier, amount=amount, signed_on=signed_on, note=note or "",
                               recorded_by_id=ctx.actor.id, recorded_at=utcnow())
    session.add(contract)
    session.flush()
    record_event(session, ctx, "project_contract.create", object_type="project_contract", object_id=contract.id,
                 department_id=project.department_id, after={**contract.snapshot(), "project_id": project.id},
                 detail=title)
    return contract


def get_contract(session, user, contract_id):
    return get_scoped(session, ProjectContract, contract_id, user, kind=_l("project contract"))


def amend_contract(session, ctx, project, contract, amount, reason):
    """A supplementary agreement changes a contract's amount: never below what has been paid on it,
    and the contracts together stay within the investment in effect."""
    _own(ctx, project)
    amount = _money(amount, "amount")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_l("Give the reason for the change."), field="reason")
    lock(session, project)
    lock(session, contract)
    if amount < paid_total(session, contract_id=contract.id):
        raise ValidationFailed(_l("The amount cannot be less than what has been paid on the contract."),
                               field="amount")
    _check_within_investment(session, project, amount - Decimal(contract.amount), "amount")
    before = contract.snapshot()
    contract.amount = amount
    session.flush()
    record_event(session, ctx, "project_contract.amend", object_type="project_contract", object_id=contract.id,
                 department_id=project.department_id, before=before, after=contract.snapshot(), detail=reason)
    return contract


def add_payment(session, ctx, project, contract, *, amount, paid_on, voucher="", note=""):
    """Record a payment on a contract: the contract's payments never exceed its amount."""
    _own(ctx, project)
    if contract.project_id != project.id:
        raise ValidationFailed(_l("The contract is not one of this project's."), field="contract_id")
    amount = _money(amount, "amount")
    if not isinstance(paid_on, date) or paid_on > _today():
        raise ValidationFailed(_l("The date cannot be in the future."), field="paid_on")
    if paid_on < contract.signed_on:
        raise ValidationFailed(_l("A payment cannot precede the contract's signature."), field="paid_on")
    lock(session, contract)  # two payments at once: the second counts the first
    paid = paid_total(session, contract_id=contract.id)
    if paid + amount > Decimal(contract.amount):
        raise ValidationFailed(_l("The payments would exceed the contract's amount (%(amount)s yuan, %(paid)s "
                                  "paid); amend the contract first.", amount=contract.amount, paid=paid),
                               field="amount")
    payment = ProjectPayment(contract_id=contract.id, project_id=project.id, department_id=project.department_id,
                             amount=amount, paid_on=paid_on, voucher=(voucher or "").strip(), note=note or "",
                             recorded_by_id=ctx.actor.id, recorded_at=utcnow())
    session.add(payment)
    session.flush()
    record_event(session, ctx, "project_payment.create", object_type="project_payment", object_id=payment.id,
                 department_id=project.department_id,
                 after={"contract": contract.number, "amount": str(amount), "paid_on": paid_on.isoformat()},
                 detail=note or "")
    return payment


def contracts_of(session, project_id):
    return list(session.scalars(select(ProjectContract).where(ProjectContract.project_id == project_id)
                                .order_by(ProjectContract.signed_on, ProjectContract.id)))


def _today(now=None):
    return (now or utcnow()).astimezone(CHINA).date()


# -- cloud fees of the project's systems ----------------------------------------------------------

def system_ids(session, project):
    """The ids of the project's systems (a system is its first request; its changes point at it)."""
    from ..models.requests import ResourceRequest
    return sorted({row.system_id or row.id for row in session.execute(
        select(ResourceRequest.id, ResourceRequest.system_id).where(ResourceRequest.project_id == project.id))})


def cloud_fees(session, project, now=None):
    """The cloud fees of the project's systems to date: the newest statement version of each month,
    and the months not rated yet rated now from the metered usage (nothing stored). Returns
    (total, [(year, month, amount)])."""
    from .statements import compute
    ids = set(system_ids(session, project))
    if not ids:
        return Decimal("0.00"), []
    newest = (select(Statement.year, Statement.month, func.max(Statement.version).label("v"))
              .where(Statement.department_id == project.department_id)
              .group_by(Statement.year, Statement.month).subquery())
    rows = session.execute(
        select(Statement.year, Statement.month, func.coalesce(func.sum(StatementLine.amount), 0))
        .join(newest, (Statement.year == newest.c.year) & (Statement.month == newest.c.month)
              & (Statement.version == newest.c.v))
        .join(StatementLine, StatementLine.statement_id == Statement.id)
        .where(Statement.department_id == project.department_id, StatementLine.system_id.in_(ids))
        .group_by(Statement.year, Statement.month)).all()
    months = {(y, m): Decimal(a).quantize(CENT) for y, m, a in rows}
    local = (now or utcnow()).astimezone(CHINA)
    rated = set(session.execute(select(Statement.year, Statement.month)
                                .where(Statement.department_id == project.department_id)).all())
    if (local.year, local.month) not in rated:  # this month so far, from the usage
        amount = sum((line.amount for line in compute(session, project.department_id, local.year, local.month).lines
                      if line.system_id in ids), Decimal("0.00"))
        if amount:
            months[(local.year, local.month)] = Decimal(amount).quantize(CENT)
    listing = [(y, m, a) for (y, m), a in sorted(months.items())]
    return sum((a for _y, _m, a in listing), Decimal("0.00")), listing


@dataclass(frozen=True)
class Money:
    estimate: Decimal | None
    investment: Decimal | None
    contracted: Decimal
    paid: Decimal
    fees: Decimal
    fee_months: list
    pending: InvestmentChange | None

    @property
    def over_estimate(self):
        """The investment in effect over the estimate, as a fraction (0.05 = 5 %), or None."""
        if not self.estimate or self.investment is None:
            return None
        return (self.investment - self.estimate) / self.estimate


def summary(session, project, now=None):
    """The project's figures: estimate, investment in effect, contracted, paid, cloud fees to date."""
    fees, months = cloud_fees(session, project, now)
    return Money(estimate=estimate_of(project), investment=current_investment(session, project),
                 contracted=Decimal(contracted_total(session, project.id)).quantize(CENT),
                 paid=paid_total(session, project_id=project.id), fees=fees, fee_months=months,
                 pending=pending_change(session, project.id))

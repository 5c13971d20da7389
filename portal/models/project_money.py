"""The money of an informatization project (第十二条), its warranty reminders (第十六条) and its
performance evaluation (第十七条).

Money: the approved estimate is the project's (models/projects.py); contracts and their payments are
recorded here, and every change of the investment is an InvestmentChange. A change whose new
investment exceeds the approved estimate by more than 10 % waits for the bureau (pending →
approved / rejected / withdrawn, a StateMachine as data); one within 10 % takes effect when recorded
(state effective). The project's current investment is the newest change in effect, else the estimate.
"""
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (JSON, CheckConstraint, Date, ForeignKey, Integer, Numeric, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import Base, UTCDateTime, utcnow
from ..statemachine import StateMachine
from ..text import _l


def _in(values):
    return ", ".join(f"'{v.value}'" for v in values)


class ChangeState(StrEnum):
    EFFECTIVE = "effective"  # within 10 % of the estimate: in effect when recorded
    PENDING = "pending"      # over 10 %: waits for the bureau
    APPROVED = "approved"    # the bureau approved it: in effect since then
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


C = ChangeState
IN_EFFECT = (C.EFFECTIVE, C.APPROVED)
CHANGE_TRANSITIONS = {
    (C.PENDING, "approve"): C.APPROVED,
    (C.PENDING, "reject"): C.REJECTED,
    (C.PENDING, "withdraw"): C.WITHDRAWN,
}
CHANGE_STATE_LABELS = {
    C.EFFECTIVE: _l("In effect (within 10 percent of the estimate)"),
    C.PENDING: _l("Awaiting the bureau's approval"),
    C.APPROVED: _l("Approved by the bureau"),
    C.REJECTED: _l("Rejected"),
    C.WITHDRAWN: _l("Withdrawn"),
}
INVESTMENT_CHANGES = StateMachine("investment_change", "investment_change", CHANGE_TRANSITIONS, CHANGE_STATE_LABELS,
                                  kind=_l("investment change"), stamps={C.APPROVED: "effective_at"},
                                  changed_at="decided_at", snapshots=True)


class ProjectContract(Base):
    """A contract of a project (design, development, supervision, equipment ...) and its amount.

    Its amount may be amended (a supplementary agreement), never below what has been paid on it.
    """

    __tablename__ = "project_contract"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        UniqueConstraint("project_id", "number", name="uq_project_contract_project_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    number: Mapped[str] = mapped_column(String(64))       # 合同编号
    title: Mapped[str] = mapped_column(String(200))       # 合同名称
    supplier: Mapped[str] = mapped_column(String(200))    # 供应商 / 承建单位
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    signed_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    payments: Mapped[list["ProjectPayment"]] = relationship(back_populates="contract",
                                                            order_by="ProjectPayment.paid_on, ProjectPayment.id")

    __scope_column__ = "department_id"

    def snapshot(self):
        return {"number": self.number, "supplier": self.supplier, "amount": str(self.amount),
                "signed_on": self.signed_on.isoformat() if self.signed_on else None}


class ProjectPayment(Base):
    """A payment made on a contract (拨付 / 支付)."""

    __tablename__ = "project_payment"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("project_contract.id", ondelete="RESTRICT"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    paid_on: Mapped[date] = mapped_column(Date)
    voucher: Mapped[str] = mapped_column(String(64), default="")  # 凭证号
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contract: Mapped[ProjectContract] = relationship(back_populates="payments")

    __scope_column__ = "department_id"


class InvestmentChange(Base):
    """A change of a project's total investment (第十二条), from previous_amount to new_amount."""

    __tablename__ = "investment_change"
    __table_args__ = (
        CheckConstraint(f"state IN ({_in(ChangeState)})", name="state"),
        CheckConstraint("new_amount > 0", name="new_amount_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=ChangeState.PENDING, index=True)
    estimate: Mapped[Decimal] = mapped_column(Numeric(14, 2))         # the approved estimate it is measured on
    previous_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # the investment in effect when asked
    new_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    reason: Mapped[str] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_comment: Mapped[str] = mapped_column(Text, default="")
    effective_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __scope_column__ = "department_id"

    def snapshot(self):
        return {"state": self.state, "estimate": str(self.estimate), "previous_amount": str(self.previous_amount),
                "new_amount": str(self.new_amount)}


class WarrantyNotice(Base):
    """A reminder sent before a project's warranty ends (第十六条): one per threshold and end day."""

    __tablename__ = "warranty_notice"
    __table_args__ = (
        UniqueConstraint("project_id", "warranty_ends_on", "days_before", name="uq_warranty_notice_project_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int | None] = mapped_column(Integer, index=True)
    warranty_ends_on: Mapped[date] = mapped_column(Date)
    days_before: Mapped[int] = mapped_column(Integer)   # the threshold (90, 30 ...)
    days_left: Mapped[int] = mapped_column(Integer)     # as counted on the day it was sent (Beijing)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recipients: Mapped[int] = mapped_column(Integer, default=0)


class EvaluationState(StrEnum):
    OPEN = "open"            # experts score, the department assesses itself
    COMPLETED = "completed"  # the bureau closed it: the total is final


EVALUATION_STATE_LABELS = {EvaluationState.OPEN: _l("Open for scores"),
                           EvaluationState.COMPLETED: _l("Evaluation completed")}
EVALUATIONS = StateMachine("performance_evaluation", "performance_evaluation",
                           {(EvaluationState.OPEN, "complete"): EvaluationState.COMPLETED},
                           EVALUATION_STATE_LABELS, kind=_l("performance evaluation"),
                           stamps={EvaluationState.COMPLETED: "completed_at"})


class PerformanceEvaluation(Base):
    """绩效评估 (第十七条) of a project in use: its indicators (with weights, fixed when opened), the
    experts' scores, the department's self-assessment and, once completed, the total."""

    __tablename__ = "performance_evaluation"
    __table_args__ = (CheckConstraint(f"state IN ({_in(EvaluationState)})", name="state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=EvaluationState.OPEN)
    # [{"key", "name", "aspect": "operation" | "effect", "weight": int}], weights summing to 100
    indicators: Mapped[list] = mapped_column(JSON, default=list)
    self_assessment: Mapped[str] = mapped_column(Text, default="")
    self_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    self_assessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    total: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    grade: Mapped[str] = mapped_column(String(16), default="")
    conclusion: Mapped[str] = mapped_column(Text, default="")
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    scores: Mapped[list["ExpertScore"]] = relationship(back_populates="evaluation", order_by="ExpertScore.id")

    __scope_column__ = "department_id"

    def snapshot(self):
        return {"state": self.state, "total": None if self.total is None else str(self.total), "grade": self.grade}


class ExpertScore(Base):
    """One expert's scores (0-100 per indicator) in an evaluation, with an opinion."""

    __tablename__ = "expert_score"
    __table_args__ = (UniqueConstraint("evaluation_id", "expert_id", name="uq_expert_score_evaluation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("performance_evaluation.id", ondelete="RESTRICT"),
                                               index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    scores: Mapped[dict] = mapped_column(JSON, default=dict)  # indicator key -> score
    weighted: Mapped[Decimal] = mapped_column(Numeric(5, 2))   # this expert's weighted score
    opinion: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    evaluation: Mapped[PerformanceEvaluation] = relationship(back_populates="scores")

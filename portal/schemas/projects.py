"""The inputs and answers of informatization projects in the API (issue 19, regulation 附件1): the 申报表,
the declaration, the decisions of the flow of 第七条, the money of 第十二条 and the evaluation of
第十七条. Amounts are decimal text in yuan ("1100000.00", never a JSON number: no float rounding);
dates are text (2026-12-31). Bounds are the services' (services/projects.py, project_money.py)."""
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from .base import Input, Output, Page, line, text

AMOUNT_PATTERN = r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$"
Amount = Annotated[str, Field(pattern=AMOUNT_PATTERN, max_length=15,
                              description="yuan as decimal text with at most two decimals, e.g. 1100000.00")]
Id = Annotated[int, Field(ge=1, le=999_999_999)]


def _date_text(value):
    """A date is sent as text (yyyy-mm-dd), never as a number."""
    if not isinstance(value, str) or len(value) != 10:
        raise PydanticCustomError("date_type", "enter a date such as 2026-12-31")
    return value


Day = Annotated[date, Field(strict=False, description="yyyy-mm-dd"), BeforeValidator(_date_text)]
ProjectTypeIn = Literal["infrastructure", "software", "security", "data"]
KindIn = Literal["new", "extension", "operation"]
FundingIn = Literal["fiscal", "superior", "financing", "self", "mixed"]


class ProjectQuery(Page):
    state: line(24) = ""
    year: Annotated[int, Field(ge=2000, le=2100)] | None = None
    q: line(100) = ""


class ProjectCreate(Input):
    """A draft of the 申报表 (a department user; declared later)."""

    name: line(200, 1)
    project_type: ProjectTypeIn = "software"
    construction_kind: KindIn = "new"
    content: text(20000) = ""
    necessity: text(20000) = ""
    on_government_cloud: bool = True
    cloud_exemption: text(20000) = ""
    data_sharing: text(20000) = ""
    estimate: Amount = "0"
    funding_source: FundingIn = "fiscal"
    funding_note: text(20000) = ""
    schedule: text(20000) = ""
    planned_start: Day | None = None
    planned_end: Day | None = None
    responsible_person: line(64) = ""
    responsible_phone: line(32) = ""
    leader: line(64) = ""


class Declaration(Input):
    urgent_reason: text(4000) = Field("", description="outside the declaration window: why it is urgent (第八条)")


DecisionAction = Literal["start_review", "review", "add_to_plan", "admit_urgent", "feasibility", "design_review",
                         "acceptance"]


class DecisionIn(Input):
    """A decision of the bureau (or recorded by it for 发改委, experts, a third party), by action:
    start_review; review (outcome passed / returned / rejected, checklist of 第七条(二)); add_to_plan;
    admit_urgent (reason, 第八条); feasibility (approved, document_number, decided_on); design_review
    (passed, body expert / third_party, approved_estimate, approved_scope); acceptance (passed,
    held_on, rectification_items and rectification_deadline when not passed)."""

    action: DecisionAction
    outcome: Literal["", "passed", "returned", "rejected"] = ""
    passed: bool | None = None
    checklist: dict[Literal["fits_plan", "on_cloud", "data_sharing", "technology"], bool] | None = None
    opinion: text(4000) = ""
    reason: text(4000) = ""
    document_number: line(120) = ""
    decided_on: Day | None = None
    body: Literal["", "expert", "third_party"] = ""
    reviewer: line(200) = ""
    approved_estimate: Amount | None = None
    approved_scope: text(20000) = ""
    held_on: Day | None = None
    rectification_items: text(4000) = ""
    rectification_deadline: Day | None = None


class ChangeIn(Input):
    new_amount: Amount = Field(description="the total investment after the change (yuan)")
    reason: text(4000, 1)


class ChangeDecisionIn(Input):
    decision: Literal["approve", "reject"]
    comment: text(4000) = Field("", description="required with reject")


class ContractIn(Input):
    number: line(64, 1)
    title: line(200, 1)
    supplier: line(200, 1)
    amount: Amount
    signed_on: Day
    note: text(2000) = ""


class AmendmentIn(Input):
    amount: Amount = Field(description="the contract's new amount (a supplementary agreement), not below what is paid")
    reason: text(4000, 1)


class PaymentIn(Input):
    amount: Amount
    paid_on: Day
    voucher: line(64) = ""
    note: text(2000) = ""


class IndicatorIn(Input):
    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
    name: line(60, 1)
    aspect: Literal["operation", "effect"]
    weight: Annotated[int, Field(ge=1, le=100)]


class EvaluationOpen(Input):
    indicators: Annotated[list[IndicatorIn], Field(min_length=1, max_length=12)] | None = Field(
        None, description="weights summing to 100, both aspects; the default indicators when absent")


class ScoresIn(Input):
    scores: Annotated[dict[Annotated[str, Field(max_length=32)], Annotated[int, Field(ge=0, le=100)]],
                      Field(max_length=12)]
    opinion: text(4000) = ""


class SelfAssessmentIn(Input):
    self_assessment: text(20000, 1)
    self_score: Annotated[int, Field(ge=0, le=100)] | None = None


class ConclusionIn(Input):
    conclusion: text(4000, 1)


# -- what the API answers

class ProjectSummary(Output):
    id: int
    number: str
    department_id: int
    name: str
    state: str
    plan_year: int
    urgent: bool
    project_type: str
    construction_kind: str
    estimate: Decimal
    approved_estimate: Decimal | None


class ProjectDetail(ProjectSummary):
    urgent_reason: str
    content: str
    necessity: str
    on_government_cloud: bool
    cloud_exemption: str
    data_sharing: str
    funding_source: str
    funding_note: str
    schedule: str
    planned_start: date | None
    planned_end: date | None
    responsible_person: str
    leader: str
    approved_scope: str
    approval_document: str
    approval_date: date | None
    procurement_method: str
    supplier: str
    contract_amount: Decimal | None
    supervisor: str
    accepted_on: date | None
    warranty_years: int
    warranty_ends_on: date | None
    declared_at: datetime | None
    state_changed_at: datetime


class ProjectList(Output):
    items: list[ProjectSummary]
    page: int
    pages: int
    total: int


class DecisionOut(Output):
    id: int
    stage: str
    body: str
    outcome: str
    action: str
    document_number: str
    decided_on: date | None
    reviewer: str
    opinion: str
    reason: str
    checklist: dict | None
    recorded_at: datetime


class DecisionList(Output):
    items: list[DecisionOut]


class ChangeOut(Output):
    id: int
    project_id: int
    state: str
    estimate: Decimal
    previous_amount: Decimal
    new_amount: Decimal
    reason: str
    requested_at: datetime
    decided_at: datetime | None
    decision_comment: str
    effective_at: datetime | None


class PaymentOut(Output):
    id: int
    contract_id: int
    amount: Decimal
    paid_on: date
    voucher: str
    note: str


class ContractOut(Output):
    id: int
    project_id: int
    number: str
    title: str
    supplier: str
    amount: Decimal
    signed_on: date
    note: str
    payments: list[PaymentOut] = []


class FeeMonth(Output):
    year: int
    month: int
    amount: Decimal


class MoneyOut(Output):
    """第十二条: the approved estimate, the investment in effect, contracted, paid, cloud fees to date."""

    project_id: int
    estimate: Decimal | None
    investment: Decimal | None
    contracted: Decimal
    paid: Decimal
    cloud_fees: Decimal
    fee_months: list[FeeMonth]
    pending_change: ChangeOut | None
    contracts: list[ContractOut]
    changes: list[ChangeOut]


class ScoreOut(Output):
    expert_id: int
    scores: dict
    weighted: Decimal
    opinion: str
    submitted_at: datetime


class EvaluationOut(Output):
    id: int
    project_id: int
    state: str
    indicators: list
    self_assessment: str
    self_score: Decimal | None
    total: Decimal | None
    grade: str
    conclusion: str
    opened_at: datetime
    completed_at: datetime | None
    scores: list[ScoreOut] = []

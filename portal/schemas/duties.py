"""The inputs and answers of the duties' API (issue 20): emergency plans and their versions,
drills (steps, restores, follow-ups), rectification notices, key changes. Every input strict and
bounded; a refused one changes nothing (422)."""
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from .base import Input, Output, Page, line, text
from .operations import Id, Timestamp, _given_as_text

Day = Annotated[date, Field(strict=False, description="a day, YYYY-MM-DD (Beijing)"), BeforeValidator(_given_as_text)]
Minutes = Annotated[int, Field(ge=0, le=100000)]


class PlanRole(Input):
    role: line(120, 1)
    duty: text(500, 1)


class PlanContent(Input):
    """A version's content: scenario, roles with their duties, steps in order, recovery targets."""

    scenario: text(8000, 1)
    roles: list[PlanRole] = Field(min_length=1, max_length=30)
    steps: list[text(500, 1)] = Field(min_length=1, max_length=60)
    rto_minutes: Annotated[int, Field(ge=1, le=100000, description="recovery time objective, minutes")]
    rpo_minutes: Annotated[Minutes, Field(description="recovery point objective, minutes")]


class PlanCreate(PlanContent):
    """A department's plan for one of its systems (system_id), or the vendor's platform plan."""

    title: line(200, 1)
    drill_interval_months: int = Field(12, ge=1, le=36)
    system_id: Id | None = None


class PlanDecision(Input):
    decision: Literal["approve", "return"]
    note: text(2000) = Field("", description="the reason; required with return")


class VersionOut(Output):
    id: int
    number: int
    state: str
    scenario: str
    roles: list[dict]
    steps: list[str]
    rto_minutes: int
    rpo_minutes: int
    submitted_at: datetime | None
    approved_at: datetime | None
    decision_note: str
    document_name: str


class PlanOut(Output):
    id: int
    scope: str
    department_id: int | None
    system_id: int | None
    title: str
    drill_interval_months: int
    versions: list[VersionOut]


class PlanList(Output):
    items: list[PlanOut]
    page: int
    pages: int
    total: int


class DrillQuery(Input):
    year: int | None = Field(None, ge=2000, le=2100)
    plan_id: Id | None = None


class DrillCreate(Input):
    plan_id: Id
    scheduled_for: Day
    title: line(200, 1)
    scenario: text(4000) = ""


class DrillAction(Input):
    action: Literal["start", "cancel", "close"]
    participants: list[line(120, 1)] = Field(default_factory=list, max_length=60)
    note: text(2000) = Field("", description="the reason; required with cancel")


class StepCreate(Input):
    title: line(200, 1)
    at: Timestamp | None = None
    actor: line(120) = ""
    outcome: Literal["ok", "problem", "note"] = "ok"
    note: text(2000) = ""


class DrillRestore(Input):
    artifact_id: Id
    mode: Literal["new_volume", "in_place", "server_rebuild", "new_server"]
    target_name: line(120) = ""


class DrillFinish(Input):
    result: Literal["passed", "partial", "failed"]
    participants: list[line(120, 1)] = Field(default_factory=list, max_length=60)
    summary: text(8000, 1)
    problems: text(8000) = Field("", description="required unless the result is passed")
    ended_at: Timestamp | None = None


class FollowUpCreate(Input):
    description: text(2000, 1)
    owner: line(120) = ""
    due_date: Day


class FollowUpClose(Input):
    note: text(2000, 1)


class StepOut(Output):
    id: int
    at: datetime
    title: str
    actor: str
    outcome: str
    kind: str
    note: str


class FollowUpOut(Output):
    id: int
    description: str
    owner: str
    due_date: date
    state: str
    closed_at: datetime | None
    closing_note: str


class DrillOut(Output):
    id: int
    plan_id: int
    plan_version_id: int | None
    department_id: int | None
    title: str
    scenario: str
    scheduled_for: date
    state: str
    participants: list[str]
    started_at: datetime | None
    ended_at: datetime | None
    result: str | None
    summary: str
    problems: str
    restore_job_id: int | None
    restore_seconds: float | None
    backup_age_minutes: float | None
    rto_minutes: int | None
    rpo_minutes: int | None
    rto_met: bool | None
    rpo_met: bool | None
    steps: list[StepOut]
    follow_ups: list[FollowUpOut]


class DrillList(Output):
    items: list[DrillOut]


class RectificationQuery(Page):
    state: Literal["", "issued", "answered", "returned", "accepted", "withdrawn"] = ""


class RectificationCreate(Input):
    target: Literal["vendor", "department"]
    department_id: Id | None = Field(None, description="required with target department")
    title: line(200, 1)
    finding: text(4000, 1)
    requirement: text(4000, 1)
    due_date: Day


class RectificationAnswerIn(Input):
    """The receiver's answer (the evidence document is uploaded on the page)."""

    text: text(4000, 1)


class RectificationDecision(Input):
    decision: Literal["accept", "return", "withdraw"]
    note: text(2000) = Field("", description="the reason; required with return and withdraw")


class AnswerOut(Output):
    id: int
    round: int
    text: str
    answered_at: datetime
    document_name: str
    document_sha256: str
    decision: str | None
    decision_note: str


class RectificationOut(Output):
    id: int
    number: str
    target: str
    department_id: int | None
    title: str
    finding: str
    requirement: str
    due_date: date
    state: str
    rounds: int
    issued_at: datetime
    answered_at: datetime | None
    closed_at: datetime | None
    decision_note: str
    answers: list[AnswerOut]


class RectificationList(Output):
    items: list[RectificationOut]
    page: int
    pages: int
    total: int


class KeyChangeQuery(Page):
    state: Literal["", "submitted", "approved", "rejected", "cancelled", "completed"] = ""


class KeyChangeCreate(Input):
    kind: Literal["upgrade", "network", "security", "other"]
    title: line(200, 1)
    description: text(4000, 1)
    impact: text(4000, 1)
    rollback_plan: text(4000, 1)
    starts_at: Timestamp
    ends_at: Timestamp
    security_confirmed: bool = Field(description="第二十一条: no equipment or software that may endanger public "
                                                 "or national security; must be true")
    maintenance_window_id: Id | None = None


class KeyChangeDecision(Input):
    action: Literal["approve", "reject", "cancel", "complete"]
    note: text(2000) = Field("", description="required with reject (the reason) and complete (what was done)")


class KeyChangeOut(Output):
    id: int
    kind: str
    state: str
    title: str
    description: str
    impact: str
    rollback_plan: str
    starts_at: datetime
    ends_at: datetime
    applied_at: datetime
    decided_at: datetime | None
    decision_note: str
    completed_at: datetime | None
    result_note: str
    maintenance_window_id: int | None


class KeyChangeList(Output):
    items: list[KeyChangeOut]
    page: int
    pages: int
    total: int

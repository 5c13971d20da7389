"""The inputs and answers of the billing API: statements (费用结算单) and monthly reports (月度汇总报备)."""
from datetime import datetime
from typing import Literal

from pydantic import Field

from .base import Input, Output, Page
from .operations import Id


class StatementQuery(Page):
    year: int | None = Field(None, ge=2000, le=2100)
    month: int | None = Field(None, ge=1, le=12)
    state: Literal["", "draft", "reviewed", "frozen"] = ""
    department_id: Id | None = None


class StatementAction(Input):
    """What the statement page's buttons send (the bureau)."""

    action: Literal["review", "reopen", "freeze"] = Field(
        description="review: draft → reviewed; reopen: reviewed → draft; freeze: reviewed → frozen (final)")


class StatementSummary(Output):
    id: int
    department_id: int
    year: int
    month: int
    version: int
    state: str
    total: str = Field(description="yuan, a decimal with 2 places")
    gap_seconds: int = Field(description="time of the month no metering sample covers")
    rated_at: datetime


class StatementLineOut(Output):
    position: int
    system_id: int | None
    system_name: str
    resource_type: str
    period_start: datetime
    period_end: datetime
    rate_id: int | None
    unit_price: str
    unit_seconds: int
    quantity_hours: str
    amount: str


class StatementDetail(StatementSummary):
    content_hash: str
    reviewed_by: str
    reviewed_at: datetime | None
    frozen_by: str
    frozen_at: datetime | None
    note: str
    intact: bool | None = Field(description="frozen: whether its content still matches its hash; else None")
    lines: list[StatementLineOut]


class StatementList(Output):
    items: list[StatementSummary]
    page: int
    pages: int
    total: int


class ReportQuery(Page):
    year: int | None = Field(None, ge=2000, le=2100)
    month: int | None = Field(None, ge=1, le=12)


class ReportSummary(Output):
    id: int
    year: int
    month: int
    generated_at: datetime
    generated_by: str
    content_hash: str


class ReportEntryOut(Output):
    department_id: int
    figures: dict


class ReportDetail(ReportSummary):
    entries: list[ReportEntryOut] = Field(description="one per department you may see")
    totals: dict = Field(description="the 合计 row of those entries")


class ReportList(Output):
    items: list[ReportSummary]
    page: int
    pages: int
    total: int

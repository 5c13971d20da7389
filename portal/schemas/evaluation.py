"""The inputs and answers of the vendor's evaluation (第二十八条), the annual assessment (第四条(三))
and the security monitoring reports (第六条(五)) in the API. Bounds are the web forms'."""
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field

from .base import Input, Output, Page, text

Score = Annotated[int, Field(ge=1, le=5)]
Weight = Annotated[int, Field(ge=0, le=100)]
Year = Annotated[int, Field(ge=2000, le=2100)]


class RatingCreate(Input):
    """The department's rating of the quarter whose window is open (EVALUATION_WINDOW_DAYS after it ends)."""

    year: Year
    quarter: Annotated[int, Field(ge=1, le=4)]
    attitude: Score = Field(description="service attitude, 1 (very poor) to 5 (very good)")
    response: Score
    resolution: Score
    comment: text(2000) = ""
    low_reason: text(2000) = Field("", description="required when an aspect is at or below EVALUATION_LOW_SCORE")


class RatingQuery(Page):
    year: Annotated[int, Field(ge=2000, le=2100)] | None = None
    quarter: Annotated[int, Field(ge=1, le=4)] | None = None


class RatingOut(Output):
    id: int
    department_id: int
    year: int
    quarter: int
    attitude: int
    response: int
    resolution: int
    comment: str
    low_reason: str
    rated_at: datetime


class Weights(Input):
    sla: Weight
    response: Weight
    resolution: Weight
    drills: Weight
    rectifications: Weight
    ratings: Weight


class AssessmentCreate(Input):
    """Compute (or, while a draft, recompute) a year's assessment; weights default to EVALUATION_WEIGHTS."""

    year: Year
    weights: Weights | None = None


class AssessmentSign(Input):
    comment: text(2000) = ""


class IndicatorOut(Output):
    key: str
    name: str
    weight: int
    achieved: int
    out_of: int
    points: Decimal
    basis: str
    no_data: bool
    columns: list[str]
    rows: list[list[Any]]


class AssessmentOut(Output):
    id: int
    year: int
    state: str
    weights: dict[str, int]
    targets: dict[str, float]
    indicators: list[IndicatorOut]
    total: Decimal
    content_hash: str
    computed_at: datetime
    signed_at: datetime | None


class AssessmentSummary(Output):
    id: int
    year: int
    state: str
    total: Decimal
    computed_at: datetime
    signed_at: datetime | None


class SecurityReportQuery(Page):
    period: Annotated[str, Field(max_length=16, pattern=r"^[0-9QH-]*$")] = ""


class SecurityReportOut(Output):
    id: int
    department_id: int
    period: str
    months: int
    starts_at: datetime
    ends_at: datetime
    figures: dict[str, Any]
    content_hash: str
    generated_at: datetime

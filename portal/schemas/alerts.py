"""What Alertmanager's webhook (version 4) posts to govcloud: every field typed and bounded.

Fields this version of the schema does not name are ignored (a newer Alertmanager may add some);
the ones it names are strict. Firing alerts carry the zero time (0001-01-01) as their end.
"""
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from .base import Input, line, text

MAX_ALERTS = 100  # the receiver's max_alerts in config/alertmanager/alertmanager.yml


def _given_as_text(value):
    if not isinstance(value, str):
        raise PydanticCustomError("datetime_type", "a time is text")
    return value


def _aware(value: datetime):
    if value.tzinfo is None or value.utcoffset() is None:
        raise PydanticCustomError("timezone_aware", "a time with its time zone")
    return value


AlertTime = Annotated[datetime, Field(strict=False), BeforeValidator(_given_as_text), AfterValidator(_aware)]
LabelName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")]
Labels = Annotated[dict[LabelName, line(255)], Field(max_length=40)]
Annotations = Annotated[dict[LabelName, text(2000)], Field(max_length=20)]


class Received(Input):
    model_config = ConfigDict(strict=True, extra="ignore", str_strip_whitespace=True, frozen=True)


class Alert(Received):
    status: Literal["firing", "resolved"]
    labels: Labels
    annotations: Annotations = {}
    startsAt: AlertTime  # noqa: N815 (Alertmanager's names)
    endsAt: AlertTime  # noqa: N815
    generatorURL: line(1000) = ""  # noqa: N815
    fingerprint: Annotated[str, Field(pattern=r"^[0-9a-f]{1,32}$")]


class AlertmanagerMessage(Received):
    version: Literal["4"]
    status: Literal["firing", "resolved"]
    receiver: line(200)
    groupKey: line(2000)  # noqa: N815
    truncatedAlerts: int = Field(0, ge=0, le=1_000_000)  # noqa: N815
    groupLabels: Labels = {}  # noqa: N815
    commonLabels: Labels = {}  # noqa: N815
    commonAnnotations: Annotations = {}  # noqa: N815
    externalURL: line(1000) = ""  # noqa: N815
    alerts: Annotated[list[Alert], Field(min_length=1, max_length=MAX_ALERTS)]

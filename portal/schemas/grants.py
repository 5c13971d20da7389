"""The inputs and answers of 运维授权 in the API (第十八条): a vendor applies for a window on one
system, the department's administrator approves (naming the management endpoint) or refuses, and
revokes; the vendor may withdraw an application. Bounds are the web forms' (portal/grants/forms.py)."""
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from ..text import _l
from .base import Input, Output, Page, line, refuse, text


def _time_text(value):
    """A time is sent as text (RFC 3339 with its offset), never as a number of seconds."""
    if not isinstance(value, str) or len(value) > 40:
        raise PydanticCustomError("datetime_type", "enter a time such as 2026-12-31T08:00:00+08:00")
    return value


Time = Annotated[AwareDatetime, Field(strict=False), BeforeValidator(_time_text)]


class GrantCreate(Input):
    system_id: Annotated[int, Field(ge=1, le=999_999_999)] = Field(description="a system in service")
    reason: text(2000, 2)
    starts_at: Time = Field(description="with its offset, e.g. 2026-12-31T08:00:00+08:00")
    ends_at: Time = Field(description="after starts_at, at most 30 days later")


class GrantDecision(Input):
    """Approve with the management endpoint the vendor may reach, or refuse with a reason."""

    decision: Literal["approve", "refuse"]
    comment: text(2000) = Field("", description="required with refuse")
    ssh_host: line(255) = ""
    ssh_port: Annotated[int, Field(ge=1, le=65535)] = 22
    ssh_username: line(64) = ""
    ssh_host_key: line(4000) = Field("", description="the host's public key, '<type> <base64>' (pinned)")

    @model_validator(mode="after")
    def _endpoint_only_with_approve(self):
        if self.decision == "refuse" and (self.ssh_host or self.ssh_username or self.ssh_host_key):
            refuse(_l("A management endpoint is named only with an approval."))
        return self


class GrantRevoke(Input):
    comment: text(2000) = ""


class GrantQuery(Page):
    state: Literal["", "requested", "approved", "refused", "revoked", "expired", "withdrawn"] = ""


class GrantOut(Output):
    id: int
    department_id: int
    system_id: int
    vendor_id: int
    state: str
    reason: str
    starts_at: datetime
    ends_at: datetime
    decided_by_id: int | None
    decided_at: datetime | None
    decision_comment: str
    ended_at: datetime | None
    ssh_host: str
    ssh_port: int
    ssh_username: str
    public_key: str = Field(description="to put in authorized_keys of the management endpoint")
    created_at: datetime

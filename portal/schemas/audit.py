"""The audit log's search in the API: the filters of the audit page (portal/audit/forms.py), typed
and bounded; dates are whole days in Beijing time, as on the page."""
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from ..text import _l
from .base import Input, Output, Page, line, refuse

class AuditFilters(Input):
    """What the search and the export narrow by; empty fields do not narrow."""

    since: date | None = Field(None, description="from this day (Beijing time)")
    until: date | None = Field(None, description="to the end of this day (Beijing time)")
    department_id: Annotated[int, Field(ge=1, le=999_999_999)] | None = None
    actor: line(64) = Field("", description="a username")
    action: line(64) = Field("", description="e.g. backup.policy.create")
    object_type: line(64) = ""
    object_id: line(64) = ""
    request_id: line(64) = ""
    outcome: Literal["", "success", "failure", "denied"] = ""

    @model_validator(mode="after")
    def _ordered(self):
        if self.since and self.until and self.until < self.since:
            refuse(_l("The end date is before the start date."))
        return self


class AuditQuery(AuditFilters, Page):
    """The filters and one page of what they select, newest first: numbered (`page`), or from a
    cursor (`before`, the `next_before` of the previous answer), whose cost does not grow with the log."""

    before: Annotated[int, Field(ge=1, le=2**62)] | None = Field(
        None, description="continue with the events older than this id (keyset pagination; `page` is ignored, "
                          "and `page`, `pages` and `total` are not counted)")


class AuditEventOut(Output):
    id: int
    seq: int | None
    occurred_at: datetime
    actor_username: str
    actor_role: str
    department_id: int | None
    action: str
    object_type: str
    object_id: str
    outcome: str
    request_id: str
    remote_addr: str
    before: dict | list | None
    after: dict | list | None
    detail: str
    hash: str | None


class AuditListing(Output):
    """One page of the audit log, newest first; `next_before` continues it (null on the last page)."""

    items: list[AuditEventOut]
    page: int | None
    pages: int | None
    total: int | None
    next_before: int | None

"""The inputs and answers of contacts and agreements in the API (issue 20: 第十七条, 第二十六条).
Phones and e-mails in an answer are masked unless the caller may see them (`clear`); bounds are the
web forms' (portal/departments/forms.py, portal/contacts/forms.py)."""
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from .base import Input, Output, line

Phone = Annotated[line(32), StringConstraints(pattern=r"^[0-9+\-() ]{0,32}$")]
Email = Annotated[line(120), StringConstraints(pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")]


def _date_text(value):
    """A day is sent as text (2026-12-31), never as a number."""
    if not isinstance(value, str) or len(value) != 10:
        raise PydanticCustomError("date_type", "enter a date such as 2026-12-31")
    return value


Day = Annotated[date, Field(strict=False), BeforeValidator(_date_text)]
MAX_DOCUMENT_BASE64 = 180_000  # about 130 KB of document within the API's body limit; larger ones: the page


class AgreementCreate(Input):
    """A signed agreement with its document (PDF, Word or Excel) in base64."""

    system_id: Annotated[int, Field(ge=1, le=999_999_999)]
    parties: line(500, 1)
    signed_on: Day
    expires_on: Day
    filename: line(200, 1)
    document_base64: Annotated[str, Field(min_length=4, max_length=MAX_DOCUMENT_BASE64,
                                          pattern=r"^[A-Za-z0-9+/]+={0,2}$")]


class ContactsPatch(Input):
    """The department's own contacts: only the fields given change."""

    security_officer_name: line(64) | None = None
    security_officer_phone: Phone | None = None
    security_officer_email: Email | None = None
    it_lead_name: line(64) | None = None
    it_lead_phone: Phone | None = None
    it_lead_email: Email | None = None
    emergency_contact_name: line(64) | None = None
    emergency_contact_phone: Phone | None = None
    emergency_contact_email: Email | None = None
    backup_contact_name: line(64) | None = None
    backup_contact_phone: Phone | None = None
    backup_contact_email: Email | None = None


class PersonCreate(Input):
    kind: Literal["staff", "system_owner", "system_contact"]
    system_id: Annotated[int, Field(ge=1, le=999_999_999)] | None = Field(
        None, description="required for a system's owner or contact; none for staff")
    name: line(64, 1)
    title: line(64) = ""
    phone: Phone
    email: Email = ""


class ImportantMark(Input):
    important: bool
    reason: line(500) = ""


class PersonOut(Output):
    id: int | None = None
    role: str = Field(description="security_officer, it_lead, emergency_primary, emergency_backup, staff, "
                                  "system_owner or system_contact")
    system_id: int | None = None
    system_name: str = ""
    name: str
    title: str = ""
    phone: str = Field(description="masked (138****5678) unless the caller may see it")
    email: str = Field(description="masked (a***@example.cn) unless the caller may see it")


class AgreementOut(Output):
    id: int
    system_id: int
    parties: str
    signed_on: date
    expires_on: date
    filename: str
    sha256: str
    valid: bool


class SystemDutyOut(Output):
    system_id: int
    system_name: str
    security_level: int
    important: bool
    marked_important: bool
    agreements: list[AgreementOut]
    has_valid_agreement: bool


class DepartmentContactsOut(Output):
    department_id: int
    code: str
    name: str
    clear: bool = Field(description="true: phones and e-mails are in clear for the caller")
    confirmed_at: datetime | None
    confirmed_by: str
    confirmation_due_on: date
    confirmation_overdue: bool
    people: list[PersonOut]
    systems: list[SystemDutyOut]


class OverdueOut(Output):
    department_id: int
    code: str
    name: str
    due_on: date
    days_overdue: int


class MissingOut(Output):
    department_id: int
    department_name: str
    system_id: int
    system_name: str
    security_level: int
    marked_important: bool
    latest_expires_on: date | None


class OverdueList(Output):
    items: list[OverdueOut]


class MissingList(Output):
    items: list[MissingOut]

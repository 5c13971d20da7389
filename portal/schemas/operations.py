"""The inputs and answers of the running cloud's API: cloud resources (inventory), usage, SLA,
incidents and maintenance windows. Every filter is typed and bounded; every write strict."""
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, computed_field
from pydantic_core import PydanticCustomError

from ..text import _l
from .base import Input, Output, Page, line, refuse, text

Id = Annotated[int, Field(ge=1, le=2_147_483_647)]
RESOURCE_KINDS = ("project", "router", "network", "subnet", "security_group", "keypair", "server", "volume",
                  "floating_ip")


def _given_as_text(value):
    if not isinstance(value, str):  # no Unix timestamps: 1e9 is not a time
        raise PydanticCustomError("datetime_type", "a time is text")
    return value


def _aware_and_near(value: datetime):
    if value.tzinfo is None or value.utcoffset() is None:
        refuse(_l("Give the time with its time zone, e.g. 2026-12-31T08:00:00+08:00."))
    if not 2000 <= value.year <= 2100:
        refuse(_l("Give a time between the years 2000 and 2100."))
    return value


Timestamp = Annotated[datetime, Field(strict=False, description="ISO 8601 with a time zone"),
                      BeforeValidator(_given_as_text), AfterValidator(_aware_and_near)]


class MonthQuery(Input):
    """A calendar month (Beijing time); without year and month, the current one."""

    year: int | None = Field(None, ge=2000, le=2100)
    month: int | None = Field(None, ge=1, le=12)


# -- cloud resources (inventory)

class ResourceQuery(Page):
    kind: Literal["", *RESOURCE_KINDS] = ""
    system_id: Id | None = Field(None, description="the system (its first request's id)")
    deleted: bool = Field(False, description="true: the resources removed from the cloud instead of the live ones")
    q: line(100) = Field("", description="part of the name")


class CloudResourceOut(Output):
    id: int
    department_id: int
    system_id: int | None
    kind: str
    key: str
    name: str
    openstack_id: str
    attributes: dict | None
    deleted: bool
    created_at: datetime
    updated_at: datetime


class CloudResourceList(Output):
    items: list[CloudResourceOut]
    page: int
    pages: int
    total: int


# -- usage

class UsageLine(Output):
    department_id: int
    system_id: int | None = Field(description="None: resources of no system (未归属)")
    system_name: str
    resource_type: str
    unit_hours: str = Field(description="a decimal: vCPU-hours, GiB-hours, ...")


class MonthlyUsage(Output):
    year: int
    month: int
    items: list[UsageLine]


class DepartmentUsage(Output):
    """One department's row of the newest inventory snapshot (the /usage page and the API)."""

    code: str
    name: str
    servers: dict
    vcpus: int
    ram_gib: float
    volume_gib: float
    floating_ips: int
    last_backup_at: datetime | None


class CurrentUsage(Output):
    taken_at: datetime | None = Field(description="when the collector took the snapshot; None: never")
    departments: list[DepartmentUsage]
    capacity: dict = Field(description="the platform's capacity (bureau, vendor, auditor and admin only)")
    services: dict = Field(description="the platform's services up (1) or down (0); likewise")


# -- SLA

class SlaFigure(Output):
    """One system's availability in a month (the /sla page, reports, /metrics and the API)."""

    department_id: int
    department_name: str
    system_name: str
    total_minutes: float
    maintenance_minutes: float
    minutes_lost: float
    incidents: int

    @computed_field(description="availability 0–1: up time / (total time - approved maintenance)")
    @property
    def ratio(self) -> float:
        counted = self.total_minutes - self.maintenance_minutes
        if counted <= 0:
            return 1.0
        return max(0.0, (counted - self.minutes_lost) / counted)


class SlaReport(Output):
    year: int
    month: int
    target: float
    items: list[SlaFigure]


# -- incidents

class IncidentQuery(Page):
    state: Literal["", "open", "acknowledged", "resolved", "active"] = Field(
        "", description="active: open or acknowledged")


class IncidentSummary(Output):
    id: int
    department_id: int | None
    system_name: str
    title: str
    state: str
    started_at: datetime
    detected_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    root_cause: str


class IncidentEventOut(Output):
    at: datetime
    kind: str
    actor_username: str
    note: str


class IncidentDetail(IncidentSummary):
    events: list[IncidentEventOut]


class IncidentList(Output):
    items: list[IncidentSummary]
    page: int
    pages: int
    total: int


class IncidentAcknowledge(Input):
    note: text(2000) = ""


class IncidentRootCause(Input):
    root_cause: text(4000, 1)


# -- maintenance windows

class WindowQuery(Page):
    state: Literal["", "submitted", "approved", "rejected", "cancelled"] = ""


class WindowCreate(Input):
    """A 维护窗口 the vendor applies for; a planned one at least 2 working days ahead, at most 7 days long."""

    kind: Literal["planned", "emergency"]
    title: line(120, 1)
    department_ids: list[Id] = Field(min_length=1, max_length=200, description="the affected departments")
    systems: list[line(120)] = Field(default_factory=list, max_length=100,
                                     description="the affected systems by name; empty: every system")
    starts_at: Timestamp
    ends_at: Timestamp
    reason: text(2000, 1)
    impact: text(2000, 1)


class WindowDecision(Input):
    decision: Literal["approve", "reject", "cancel"] = Field(
        description="approve and reject: the bureau; cancel: the vendor or the bureau")
    note: text(2000) = Field("", description="the reason; required with reject")


class WindowOut(Output):
    id: int
    kind: str
    state: str
    title: str
    reason: str
    impact: str
    systems: list[str]
    department_ids: list[int]
    starts_at: datetime
    ends_at: datetime
    applied_at: datetime
    decided_at: datetime | None
    decision_note: str


class WindowList(Output):
    items: list[WindowOut]
    page: int
    pages: int
    total: int


# -- the live inventory (issue 18)

INVENTORY_KINDS = ("server", "volume", "snapshot", "backup", "network", "subnet", "router", "security_group",
                   "floating_ip")


class InventoryQuery(Page):
    kind: Literal[INVENTORY_KINDS] = "server"
    department_id: Id | None = None
    system_id: Id | None = Field(None, description="the system (its first request's id)")
    status: line(32) = Field("", description="the cloud's status, e.g. ACTIVE, SHUTOFF, available")
    flavor: line(64) = ""
    image: line(64) = ""
    host: line(255) = ""
    q: line(100) = Field("", description="part of a name; a whole IP address or id matches exactly")
    sort: Literal["name", "status", "flavor", "host", "created", "department"] = "name"
    desc: bool = False
    gone: bool = Field(False, description="true: what the cloud no longer has although the portal did not delete it")


class InventoryItemOut(Output):
    id: int
    kind: str
    openstack_id: str
    department_id: int | None
    system_id: int | None
    name: str
    status: str
    flavor: str
    image: str
    host: str | None = Field(None, description="the hypervisor; the vendor and the administrator only")
    attributes: dict
    cloud_created_at: datetime | None
    cloud_updated_at: datetime | None
    synced_at: datetime
    gone_at: datetime | None


class InventoryList(Output):
    items: list[InventoryItemOut]
    page: int
    pages: int
    total: int
    updated_at: datetime | None = Field(None, description="when the inventory was last brought up to date")


class ServerAction(Input):
    action: Literal["start", "stop", "reboot_soft", "reboot_hard"]

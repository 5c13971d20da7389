"""The inputs of resource requests (附件1/附件2): the spec, the request's fields, reviews, operator
actions, changes and decommissions. Used by the API and by the web forms' server-side checks.

A draft may be incomplete (no flavor chosen yet) but never invalid: every number is within the
limits, every name well-formed. What a submission needs beyond that (a flavor of the cloud, at
least one server) is checked at submission by portal/specs.validate_spec.
"""
import base64
import binascii
import ipaddress
from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from ..specs import MAX_BANDWIDTH_MBPS, NAME_RE, SSH_KEY_RE, Limits, cidr_ok, parse_ports
from ..text import _l
from .base import Input, Output, Page, line, refuse, text

HARD_COUNT = 1000      # ceilings of numbers the settings do not bound
HARD_GB = 1_000_000
Name = Annotated[line(20), Field(description="a-z, 0-9 and -, starting with a letter (at most 20)",
                                  json_schema_extra={"pattern": "^([a-z][a-z0-9-]{0,19})?$"})]
Gb = Annotated[int, Field(ge=1, description="whole GB, at most REQUEST_MAX_VOLUME_GB")]


def _limits(info: ValidationInfo):
    return (info.context or {}).get("limits") or Limits()


def _name(value, what):
    if value and not NAME_RE.match(value):
        refuse(_l("%(what)s: the name must start with a letter and use a-z, 0-9 and - (at most 20).", what=what))
    return value


class ServerLine(Input):
    """One server of a group changed alone (附件2): a flavor of its own, or cancelled."""

    flavor: line(64) = ""
    cancel: bool = False


class ServerGroup(Input):
    """Servers of one kind: `count` servers named <name>-1 … <name>-<count>."""

    name: Name = ""
    flavor: line(64) = ""
    image: line(128) = ""
    count: int = Field(1, ge=1, description="at most REQUEST_MAX_COUNT; all groups at most REQUEST_MAX_SERVERS")
    data_volumes: list[Gb] = Field(default_factory=list, max_length=8, description="GB of each data volume")
    instances: Annotated[dict[line(24), "ServerLine"], Field(max_length=HARD_COUNT)] = Field(
        default_factory=dict, description="附件2, one server alone: {\"web-2\": {\"flavor\": \"m1.medium\"}} or "
                                          "{\"web-1\": {\"cancel\": true}}")

    @field_validator("name")
    @classmethod
    def _check_name(cls, v):
        return _name(v, _l("Server"))


class Volume(Input):
    name: Name = ""
    size_gb: Gb
    attach_to: line(24) = Field("", description="the server it is attached to, e.g. web-1")

    @field_validator("name")
    @classmethod
    def _check_name(cls, v):
        return _name(v, _l("Volume"))


class Rule(Input):
    """An inbound rule of the system's security group."""

    port: line(11) = Field("", description='"80" or a range "8000-8080"; empty for icmp')
    protocol: Literal["tcp", "udp", "icmp"] = "tcp"
    source: line(43) = Field(description="an IPv4 network, e.g. 10.0.0.0/8")

    @model_validator(mode="after")
    def _check(self):
        if self.protocol != "icmp" and parse_ports(self.port) is None:
            refuse(_l("Enter a port (1-65535) or a range such as 8000-8080."))
        try:
            source = ipaddress.ip_network(self.source, strict=False)
        except ValueError:
            source = None
        if source is None or source.version != 4:
            refuse(_l("Enter who may connect as an IPv4 network, e.g. 10.0.0.0/8 or 0.0.0.0/0."))
        return self


class Network(Input):
    cidr: line(18) = Field("", description="a private IPv4 network /16 to /28; empty: chosen automatically")

    @field_validator("cidr")
    @classmethod
    def _check_cidr(cls, v):
        if v and not cidr_ok(v):
            refuse(_l("Enter a private IPv4 network such as 192.168.10.0/24 (prefix /16 to /28), or leave it empty for an automatic one."))
        return v


class Spec(Input):
    """The resources a request asks for."""

    servers: list[ServerGroup] = Field(default_factory=list, max_length=50)
    volumes: list[Volume] = Field(default_factory=list, max_length=100)
    network: Network = Network()
    rules: list[Rule] = Field(default_factory=list, max_length=100)
    floating_ips: int = Field(0, ge=0, le=HARD_COUNT)
    bandwidth_mbps: int = Field(0, ge=0, le=MAX_BANDWIDTH_MBPS)  # 附件1 带宽 (Mbps), recorded and shown
    ssh_public_key: line(16384) = ""

    @field_validator("ssh_public_key")
    @classmethod
    def _check_key(cls, v):
        if v and not SSH_KEY_RE.match(v):
            refuse(_l("The SSH public key must be one line starting with ssh-rsa, ssh-ed25519 or ecdsa-sha2-."))
        return v

    @model_validator(mode="after")
    def _within_limits(self, info: ValidationInfo):
        check_totals(self.servers, self.volumes, self.floating_ips, _limits(info))
        return self


def check_totals(servers, volumes, floating_ips, limits):
    """Refuse a spec larger than the settings allow (counted without expanding it)."""
    for group in servers:
        if group.count > limits.count:
            refuse(_l("A server group has at most %(max)d servers.", max=limits.count))
    total = sum(g.count for g in servers)
    if total > limits.servers:
        refuse(_l("A request has at most %(max)d servers.", max=limits.servers))
    sizes = [v.size_gb for v in volumes] + [s for g in servers for s in g.data_volumes]
    if any(size > limits.volume_gb for size in sizes):
        refuse(_l("A volume has at most %(max)d GB.", max=limits.volume_gb))
    if sum(g.count * sum(g.data_volumes) for g in servers) + sum(v.size_gb for v in volumes) > limits.total_gb:
        refuse(_l("The volumes of a request have at most %(max)d GB together.", max=limits.total_gb))
    if floating_ips > total:
        refuse(_l("At most one floating IP per server."))


SecurityLevel = Annotated[int, Field(ge=1, le=4, description="等保级别 1–4")]
ProjectId = Annotated[int, Field(ge=1, le=999_999_999, description="the 信息化项目 of the department that passed "
                                                                 "the design review (附件1 第七条(七))")]


class RequestFields(Input):
    """The fields of a 政务云资源需求申请 (附件1) besides the spec."""

    system_name: line(120, 1)
    purpose: text(4000) = ""
    project_ref: line(200) = ""
    security_level: SecurityLevel = 2
    construction_plan: text(20000) = ""
    project_id: ProjectId | None = None
    existing_system: bool = Field(False, description="a system already built and in use moves to the cloud "
                                                     "(附件1 第四条): no project needed, project_ref names it")


class DraftFields(RequestFields):
    """What a draft of any kind holds besides its spec (a change or decommission also its reason)."""

    reason: text(4000) = ""


class Document(Input):
    """A document of a request (附件1 needs a construction plan and a self-test report), its bytes in base64."""

    purpose: Literal["construction_plan", "self_test"]
    filename: line(200, 1)
    content_base64: Annotated[str, Field(min_length=4, max_length=20_000_000,
                                         description="the file in base64 (PDF, Word or Excel); the body is "
                                                     "bounded by API_MAX_BODY_BYTES")]

    @field_validator("content_base64")
    @classmethod
    def _base64(cls, value):
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            refuse(_l("The file must be given in base64."))
        return value

    def content(self):
        return base64.b64decode(self.content_base64)


class RequestCreate(RequestFields):
    spec: Spec = Spec()
    documents: Annotated[list[Document], Field(max_length=4, description="uploaded before a submit")] = []
    submit: bool = Field(False, description="submit at once; if the request cannot be submitted, nothing is stored")


class RequestPatch(Input):
    """Only the fields given change."""

    system_name: line(120, 1) | None = None
    purpose: text(4000) | None = None
    project_ref: line(200) | None = None
    security_level: SecurityLevel | None = None
    construction_plan: text(20000) | None = None
    reason: text(4000) | None = None
    project_id: ProjectId | None = None
    existing_system: bool | None = None
    spec: Spec | None = None


class ChangeCreate(Input):
    reason: text(4000) = ""
    spec: Spec | None = None
    submit: bool = False
    backup_confirmed: bool = Field(False, description="a change that removes servers or volumes: the data was "
                                                      "migrated (第十条二), with migration_note")
    migration_note: text(4000) = ""


class DecommissionCreate(Input):
    reason: text(4000, 1)
    backup_confirmed: bool
    migration_note: text(4000) = Field("", description="where the data was migrated to; required with "
                                                       "backup_confirmed (第十条二)")
    submit: bool = True


Adjust = Annotated[dict[Name, Annotated[int, Field(ge=0, le=HARD_GB)]], Field(max_length=100)]


class Review(Input):
    decision: Literal["start", "approve", "reject", "return", "green_channel"]
    comment: text(4000) = ""
    counts: Adjust | None = Field(None, description="server group name -> the count approved")
    volume_sizes: Adjust | None = Field(None, description="volume name -> the GB approved")
    floating_ips: Annotated[int, Field(ge=0, le=HARD_COUNT)] | None = None

    @model_validator(mode="after")
    def _adjust_only_with_approve(self):
        if self.decision != "approve" and (self.counts or self.volume_sizes or self.floating_ips is not None):
            refuse(_l("Quantities can only be adjusted with an approval."))
        return self


class Operation(Input):
    action: Literal["retry", "rollback", "resolve"]
    comment: text(4000) = Field("", description="how the failure was handled; required with resolve")


class RequestQuery(Page):
    state: line(16) = ""
    kind: Literal["", "new", "change", "decommission"] = ""
    q: line(100) = ""


# -- what the API answers

class VersionOut(Output):
    version: int
    submitted_at: datetime
    review_comment: str


class DocumentOut(Output):
    id: int
    purpose: str
    filename: str
    size: int
    sha256: str


class RequestSummary(Output):
    id: int
    number: str
    kind: str
    state: str
    department_id: int
    system_id: int
    system_name: str
    urgent: bool
    version: int
    submitted_at: datetime | None


class RequestDetail(RequestSummary):
    has_etag: ClassVar[bool] = True  # answered with an ETag header (If-Match takes it back)

    purpose: str
    project_ref: str
    project_id: int | None = None
    existing_system: bool = False
    security_level: int
    construction_plan: str
    reason: str
    backup_confirmed: bool
    spec: dict
    approved_spec: dict | None
    adjustment: list | None
    review_comment: str
    failure_message: str
    versions: list[VersionOut]
    documents: list[DocumentOut] = []


class RequestList(Output):
    items: list[RequestSummary]
    page: int
    pages: int
    total: int


class ResourceOut(Output):
    kind: str
    name: str
    openstack_id: str | None
    attributes: dict | None


class ResourceList(Output):
    items: list[ResourceOut]


class ReceiptOut(Output):
    id: int
    number: str
    request_id: int
    issued_at: datetime
    operator: str
    items: list | dict | None
    confirmed_at: datetime | None

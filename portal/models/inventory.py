"""The live inventory (issue 18): every server, volume, network, subnet, router, security group,
floating IP, snapshot and backup of the cloud as the collector last saw it, one row each, so the
pages never call the cloud while rendering. Kept current by monitoring/inventory_sync.py.
"""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import Base, UTCDateTime, utcnow
from ..text import _l


class ItemKind(StrEnum):
    SERVER = "server"
    VOLUME = "volume"
    SNAPSHOT = "snapshot"
    BACKUP = "backup"
    NETWORK = "network"
    SUBNET = "subnet"
    ROUTER = "router"
    SECURITY_GROUP = "security_group"
    FLOATING_IP = "floating_ip"


class InventoryItem(Base):
    """One cloud object. `gone_at` is set when the cloud no longer has it (deleted behind the portal's
    back unless a request of the portal deleted it); such rows stay, as drift, until a full resync
    a day later."""

    __tablename__ = "inventory_item"
    __table_args__ = (UniqueConstraint("kind", "openstack_id", name="uq_inventory_item_kind"),
                      Index("ix_inventory_item_list", "kind", "gone_at", "department_id", "name"),
                      Index("ix_inventory_item_status", "kind", "status"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    openstack_id: Mapped[str] = mapped_column(String(64))
    project_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="SET NULL"), index=True)
    system_id: Mapped[int | None] = mapped_column(ForeignKey("resource_request.id", ondelete="SET NULL"),
                                                  index=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(32), default="")
    flavor: Mapped[str] = mapped_column(String(64), default="", index=True)
    image: Mapped[str] = mapped_column(String(255), default="", index=True)
    host: Mapped[str] = mapped_column(String(255), default="", index=True)
    # lower-cased name, ids and addresses, for the search box (LIKE)
    search_text: Mapped[str] = mapped_column(Text, default="")
    # the rest, by kind: power_state, vcpus, ram_mib, disk_gb, fixed_ips, floating_ips, volumes,
    # size_gib, attached_to, cidr, rules, revision, expected (the state a portal action asked for)
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    cloud_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cloud_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    gone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    department: Mapped["Department | None"] = relationship()  # noqa: F821
    system: Mapped["ResourceRequest | None"] = relationship()  # noqa: F821

    __scope_column__ = "department_id"


class InventorySync(Base):
    """The sync's cursor and figures, one row per mode ("full", "incremental")."""

    __tablename__ = "inventory_sync"

    mode: Mapped[str] = mapped_column(String(16), primary_key=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cursor: Mapped[datetime | None] = mapped_column(UTCDateTime)  # changes since this time are asked for
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    duration_seconds: Mapped[float] = mapped_column(default=0.0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    gone: Mapped[int] = mapped_column(Integer, default=0)
    # the cloud's flavors [{name, vcpus, ram, disk}] as the full sync last read them (capacity page)
    flavors: Mapped[list] = mapped_column(JSON, default=list)


ITEM_KIND_LABELS = {ItemKind.SERVER: _l("Servers"), ItemKind.VOLUME: _l("Volumes"),
                    ItemKind.SNAPSHOT: _l("Snapshots"), ItemKind.BACKUP: _l("Volume backups"),
                    ItemKind.NETWORK: _l("Networks"), ItemKind.SUBNET: _l("Subnets"),
                    ItemKind.ROUTER: _l("Routers"), ItemKind.SECURITY_GROUP: _l("Security groups"),
                    ItemKind.FLOATING_IP: _l("Floating IPs")}
# Nova's and Cinder's statuses as the pages show them
STATUS_LABELS = {"ACTIVE": _l("Running"), "SHUTOFF": _l("Stopped"), "ERROR": _l("Error"),
                 "BUILD": _l("Building"), "REBOOT": _l("Rebooting"), "HARD_REBOOT": _l("Rebooting"),
                 "RESIZE": _l("Resizing"), "VERIFY_RESIZE": _l("Resize to confirm"),
                 "PAUSED": _l("Paused"), "SUSPENDED": _l("Suspended"), "DELETED": _l("Deleted"),
                 "available": _l("Available"), "in-use": _l("In use"), "error": _l("Error"),
                 "creating": _l("Creating"), "deleting": _l("Deleting"), "extending": _l("Extending"),
                 "attaching": _l("Attaching"), "detaching": _l("Detaching")}
NETWORK_STATUS_LABELS = {"ACTIVE": _l("Active"), "DOWN": _l("Down"), "BUILD": _l("Building"),
                         "ERROR": _l("Error")}

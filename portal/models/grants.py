"""运维授权 (第十八条): a vendor operator enters a department's system only under its grant."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import Base, UTCDateTime, utcnow
from ..statemachine import StateMachine
from ..text import _l


class GrantState(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"  # live between starts_at and ends_at
    REFUSED = "refused"
    REVOKED = "revoked"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


G = GrantState
# (from, action) -> to
GRANT_TRANSITIONS = {
    (G.REQUESTED, "approve"): G.APPROVED,
    (G.REQUESTED, "refuse"): G.REFUSED,
    (G.REQUESTED, "withdraw"): G.WITHDRAWN,
    (G.APPROVED, "revoke"): G.REVOKED,
    (G.APPROVED, "expire"): G.EXPIRED,
    (G.REQUESTED, "expire"): G.EXPIRED,
}
GRANT_TERMINAL = frozenset({G.REFUSED, G.REVOKED, G.EXPIRED, G.WITHDRAWN})
GRANT_STATE_LABELS = {
    G.REQUESTED: _l("Awaiting the department"),
    G.APPROVED: _l("Granted"),
    G.REFUSED: _l("Refused"),
    G.REVOKED: _l("Revoked"),
    G.EXPIRED: _l("Expired"),
    G.WITHDRAWN: _l("Withdrawn"),
}
GRANTS = StateMachine("grant", "vendor_grant", GRANT_TRANSITIONS, GRANT_STATE_LABELS, kind=_l("grant"),
                      stamps={G.REVOKED: "ended_at", G.EXPIRED: "ended_at", G.WITHDRAWN: "ended_at"})


class VendorGrant(Base):
    """A vendor operator's access to one system of a department, for a time window.

    The department's administrator approves it and names the management (SSH) endpoint; the
    portal then holds a key pair made for this grant alone and destroys the private key when
    the grant is revoked or expires.
    """

    __tablename__ = "vendor_grant"
    __table_args__ = (
        CheckConstraint("state IN ('requested', 'approved', 'refused', 'revoked', 'expired', "
                        "'withdrawn')", name="state"),
        CheckConstraint("ends_at > starts_at", name="window"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"),
                                               index=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("resource_request.id", ondelete="RESTRICT"),
                                           index=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"),
                                           index=True)
    state: Mapped[str] = mapped_column(String(16), default=GrantState.REQUESTED, index=True)
    reason: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id",
                                                                 ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_comment: Mapped[str] = mapped_column(Text, default="")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the management endpoint the department opens for this grant (e.g. its bastion host)
    ssh_host: Mapped[str] = mapped_column(String(255), default="")
    ssh_port: Mapped[int] = mapped_column(Integer, default=22)
    ssh_username: Mapped[str] = mapped_column(String(64), default="")
    ssh_host_key: Mapped[str] = mapped_column(Text, default="")  # "<type> <base64>", pinned
    public_key: Mapped[str] = mapped_column(Text, default="")  # to put in authorized_keys
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    department = relationship("Department")
    system = relationship("ResourceRequest")
    vendor = relationship("User", foreign_keys=[vendor_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    __scope_column__ = "department_id"

    def is_live(self, now):
        return self.state == GrantState.APPROVED and self.starts_at <= now < self.ends_at

    def snapshot(self):
        return {"state": self.state, "starts_at": self.starts_at.isoformat(),
                "ends_at": self.ends_at.isoformat(), "vendor_id": self.vendor_id,
                "system_id": self.system_id}

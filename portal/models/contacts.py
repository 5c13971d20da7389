"""The departments' duties of issue 20 that are about people and papers: contacts beyond the
department's own columns (staff, each system's owner and contacts, 第二十六条), important systems
and their confidentiality agreements (第十七条), and the reminders sent about both (once each).

Phones and e-mails are personal information: SealedText at rest, masked wherever the viewer
does not need them (services/contacts.py), masked in every audit record (crypto.masking).
"""
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..crypto.fields import SealedText
from ..crypto.masking import mask
from ..database import Base, UTCDateTime, utcnow
from ..text import _l

PERSON_KINDS = ("staff", "system_owner", "system_contact")
PERSON_KIND_LABELS = {
    "staff": _l("IT staff"),
    "system_owner": _l("System owner"),
    "system_contact": _l("System contact"),
}
NOTICE_KINDS = ("confirm_remind", "confirm_overdue", "agreement_remind", "agreement_expired")


class ContactPerson(Base):
    """One more person of a department: IT staff (no system), or a system's owner or contact."""

    __tablename__ = "contact_person"
    __table_args__ = (
        CheckConstraint("kind IN ('staff', 'system_owner', 'system_contact')", name="kind"),
        CheckConstraint("(kind = 'staff') = (system_id IS NULL)", name="system_iff_not_staff"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    system_id: Mapped[int | None] = mapped_column(ForeignKey("resource_request.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(64), default="")  # 职务
    phone: Mapped[str] = mapped_column(SealedText(32), default="")  # sealed at rest
    email: Mapped[str] = mapped_column(SealedText(120), default="")  # sealed at rest
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    system = relationship("ResourceRequest")

    __scope_column__ = "department_id"

    FIELDS = ("kind", "system_id", "name", "title", "phone", "email")

    def snapshot(self):
        return {f: mask(f, getattr(self, f)) if f in ("phone", "email") else getattr(self, f) for f in self.FIELDS}


class ImportantSystem(Base):
    """A system marked important (第十七条: 重要应用系统, including those with sensitive information)
    whatever its security level; level 3 and above are important without a mark."""

    __tablename__ = "important_system"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("resource_request.id", ondelete="RESTRICT"), unique=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    marked_by: Mapped[str] = mapped_column(String(64), default="")
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __scope_column__ = "department_id"


class ConfidentialityAgreement(Base):
    """A 保密协议 between a department and the vendor about one system, with its signed document
    (stored in the instance folder like a request's documents)."""

    __tablename__ = "confidentiality_agreement"
    __table_args__ = (CheckConstraint("expires_on > signed_on", name="expires_after_signed"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("resource_request.id", ondelete="RESTRICT"), index=True)
    parties: Mapped[str] = mapped_column(String(500))
    signed_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    filename: Mapped[str] = mapped_column(String(200), default="")
    stored_name: Mapped[str | None] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(80), default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    system = relationship("ResourceRequest")
    department = relationship("Department")

    __scope_column__ = "department_id"

    FIELDS = ("system_id", "parties", "signed_on", "expires_on", "filename", "sha256")

    def snapshot(self):
        return {f: (v.isoformat() if isinstance(v, date) else v) for f in self.FIELDS for v in [getattr(self, f)]}


class DutyNotice(Base):
    """A reminder or an overdue notice sent about a department's confirmation or an agreement's
    expiry: once per (kind, object, due day, threshold in days)."""

    __tablename__ = "duty_notice"
    __table_args__ = (
        CheckConstraint("kind IN ('confirm_remind', 'confirm_overdue', 'agreement_remind', 'agreement_expired')",
                        name="kind"),
        UniqueConstraint("kind", "object_id", "due_on", "threshold", name="uq_duty_notice_once"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    threshold: Mapped[int] = mapped_column(Integer)  # days before the due day (0: overdue notice)
    department_id: Mapped[int | None] = mapped_column(Integer, index=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recipients: Mapped[int] = mapped_column(Integer, default=0)

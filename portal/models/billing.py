"""Models of metering (用量), the rate card (计费标准), statements (费用结算单) and monthly reports.

Usage is stored as integer unit-seconds (vCPU-seconds, MiB-seconds of RAM, GiB-seconds of
storage, IP-seconds), so hours and money are computed exactly from integers and Decimal prices;
the only rounding is the documented one in portal.services.rating.
"""
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, Numeric, String, Text,
                        UniqueConstraint)
from sqlalchemy import event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..database import Base, UTCDateTime, utcnow
from ..errors import Immutable
from ..text import _l


def _in(values):
    return ", ".join(f"'{v.value}'" for v in values)


class MeteringRunState(StrEnum):
    BASELINE = "baseline"  # the first sample: nothing before it to measure, no usage
    OK = "ok"
    GAP = "gap"  # the time since the previous run exceeded the tolerance: the interval is unmetered


class MeteringRun(Base):
    """One sample of the cloud; the state seen at interval_end is charged for [interval_start, interval_end).

    interval_start is the previous run's interval_end (unique), so a restarted or doubled
    collector can neither count an interval twice nor leave one out silently: a second run for
    the same start fails on the unique constraint, and a pause longer than the tolerance becomes
    a run in state gap (no usage, shown on the statements of the months it touches).
    """

    __tablename__ = "metering_run"
    __table_args__ = (
        CheckConstraint(f"state IN ({_in(MeteringRunState)})", name="state"),
        CheckConstraint("interval_start IS NULL OR interval_end > interval_start", name="interval_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # NULL only for a baseline run; unique, so two collectors cannot both continue one run
    interval_start: Mapped[datetime | None] = mapped_column(UTCDateTime, unique=True)
    interval_end: Mapped[datetime] = mapped_column(UTCDateTime, unique=True)
    state: Mapped[str] = mapped_column(String(8), default=MeteringRunState.OK)
    resources: Mapped[int] = mapped_column(Integer, default=0)
    unknown_projects: Mapped[int] = mapped_column(Integer, default=0)  # projects of no department
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UsageRecord(Base):
    """Usage of one resource type by one system during one metering run (unit-seconds)."""

    __tablename__ = "usage_record"
    __table_args__ = (
        UniqueConstraint("run_id", "department_id", "system_key", "resource_type",
                         name="uq_usage_record_run_id"),
        Index("ix_usage_record_department_period", "department_id", "interval_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("metering_run.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"))
    system_id: Mapped[int | None] = mapped_column(ForeignKey("resource_request.id", ondelete="SET NULL"))
    system_key: Mapped[str] = mapped_column(String(32))  # str(system_id) or "" (未归属)
    system_name: Mapped[str] = mapped_column(String(120))
    resource_type: Mapped[str] = mapped_column(String(64))  # see rating.RESOURCE_UNITS
    quantity: Mapped[int] = mapped_column(BigInteger)  # units held during the interval (vCPUs, MiB, GiB, IPs)
    interval_start: Mapped[datetime] = mapped_column(UTCDateTime)
    interval_end: Mapped[datetime] = mapped_column(UTCDateTime)

    __scope_column__ = "department_id"


class Rate(Base):
    """A price in the 计费标准: yuan per unit-hour of a resource type, from effective_from on.

    Rates are never edited: a price change is a new row; the newest effective_from at or before an
    instant is the price at that instant.
    """

    __tablename__ = "rate"
    __table_args__ = (
        UniqueConstraint("resource_type", "effective_from", name="uq_rate_resource_type"),
        CheckConstraint("unit_price >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_type: Mapped[str] = mapped_column(String(64))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(14, 6))  # yuan per unit-hour
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StatementState(StrEnum):
    DRAFT = "draft"
    REVIEWED = "reviewed"  # reviewed by the bureau
    FROZEN = "frozen"  # immutable; its content hash is in the audit log


STATEMENT_STATE_LABELS = {StatementState.DRAFT: _l("Draft"), StatementState.REVIEWED: _l("Reviewed"),
                          StatementState.FROZEN: _l("Frozen")}


class Statement(Base):
    """A 费用结算单: one department, one month, one version."""

    __tablename__ = "statement"
    __table_args__ = (
        UniqueConstraint("department_id", "year", "month", "version", name="uq_statement_department_id"),
        CheckConstraint(f"state IN ({_in(StatementState)})", name="state"),
        CheckConstraint("month BETWEEN 1 AND 12", name="month"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(16), default=StatementState.DRAFT)
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0.00"))
    gap_seconds: Mapped[int] = mapped_column(BigInteger, default=0)  # unmetered time in the month
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_by: Mapped[str] = mapped_column(String(64), default="")
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    frozen_by: Mapped[str] = mapped_column(String(64), default="")
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")

    department = relationship("Department")
    lines: Mapped[list["StatementLine"]] = relationship(
        back_populates="statement", order_by="StatementLine.position", cascade="all, delete-orphan")

    __scope_column__ = "department_id"

    FIELDS = ("department_id", "year", "month", "version", "state", "total", "content_hash")

    def snapshot(self):
        return {f: str(getattr(self, f)) if f == "total" else getattr(self, f) for f in self.FIELDS}

    @property
    def unpriced(self):
        """The resource types the rate card had no price for (the note reads "no rate for T; ...")."""
        return [part.strip().removeprefix("no rate for ") for part in (self.note or "").split(";") if part.strip()]


class StatementLine(Base):
    """One line: a system x a resource type x a price period, its usage and its amount."""

    __tablename__ = "statement_line"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statement.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    system_id: Mapped[int | None] = mapped_column(Integer)  # the system's request id (no FK: history stays)
    system_name: Mapped[str] = mapped_column(String(120))
    resource_type: Mapped[str] = mapped_column(String(64))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    rate_id: Mapped[int | None] = mapped_column(ForeignKey("rate.id", ondelete="RESTRICT"))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(14, 6))
    unit_seconds: Mapped[int] = mapped_column(BigInteger)
    quantity_hours: Mapped[Decimal] = mapped_column(Numeric(18, 4))  # for reading; amount uses unit_seconds
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))

    statement: Mapped[Statement] = relationship(back_populates="lines")


class MonthlyReport(Base):
    """A 月度汇总报备 (第十条三) generated for one month (by the scheduler or on demand)."""

    __tablename__ = "monthly_report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    generated_by: Mapped[str] = mapped_column(String(64), default="")  # "scheduler" or a username
    content_hash: Mapped[str] = mapped_column(String(64), default="")

    entries: Mapped[list["MonthlyReportEntry"]] = relationship(
        back_populates="report", order_by="MonthlyReportEntry.id", cascade="all, delete-orphan")


class MonthlyReportEntry(Base):
    """One department's figures in a monthly report (departments see only their own)."""

    __tablename__ = "monthly_report_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("monthly_report.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    figures: Mapped[dict] = mapped_column(JSON, default=dict)

    report: Mapped[MonthlyReport] = relationship(back_populates="entries")
    department = relationship("Department")

    __scope_column__ = "department_id"



def _stored_state(statement):
    """Return the statement's state as stored in the database (before this flush's changes)."""
    if inspect(statement).transient or inspect(statement).pending:
        return None
    history = inspect(statement).attrs.state.history
    if history.deleted:
        return history.deleted[0]
    return statement.state


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_frozen(session, _flush_context, _instances):
    """Refuse any change to a frozen statement or its lines, whatever code path tries it."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, Statement) and _stored_state(obj) == StatementState.FROZEN:
            if obj in session.deleted or session.is_modified(obj, include_collections=False):
                raise Immutable("费用结算单", obj.id)
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, StatementLine):
            statement = obj.statement or (session.get(Statement, obj.statement_id) if obj.statement_id else None)
            if statement is not None and _stored_state(statement) == StatementState.FROZEN:
                raise Immutable("费用结算单", statement.id)



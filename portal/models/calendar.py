"""The working-day calendar (工作日历): each year's holidays and adjusted workdays as published.

A year in this table overrides the chinesecalendar package's; a year in neither is reckoned
Monday to Friday (portal.workdays).
"""
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import Base, UTCDateTime, utcnow


class WorkCalendarYear(Base):
    """A year's arrangement entered by the admin: the notice it comes from, who entered it, when."""

    __tablename__ = "work_calendar_year"
    __table_args__ = (CheckConstraint("year BETWEEN 2000 AND 2100", name="year"),
                      CheckConstraint("version >= 1", name="version"))

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    reference: Mapped[str] = mapped_column(String(200), default="")  # e.g. 国办发明电〔2026〕8号
    text: Mapped[str] = mapped_column(Text)  # as entered, for the record and the next edit
    version: Mapped[int] = mapped_column(Integer, default=1)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    entered_by_name: Mapped[str] = mapped_column(String(64), default="")
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    days: Mapped[list["WorkCalendarDay"]] = relationship(back_populates="calendar_year",
                                                         cascade="all, delete-orphan",
                                                         order_by="WorkCalendarDay.day")


class WorkCalendarDay(Base):
    """One holiday (kind "holiday", 放假) or adjusted workday (kind "workday", 调休上班)."""

    __tablename__ = "work_calendar_day"
    __table_args__ = (CheckConstraint("kind IN ('holiday', 'workday')", name="kind"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("work_calendar_year.year", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(40))
    calendar_year: Mapped[WorkCalendarYear] = relationship(back_populates="days")

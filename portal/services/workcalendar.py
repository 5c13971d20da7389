"""The working-day calendar (工作日历) every working-day count uses: entered years, the library's
years, and Monday to Friday for the rest (portal.workdays).

The admin enters or imports a year's arrangement as the State Council publishes it (each November
or December); an entered year overrides what the chinesecalendar package knows of it.
"""
from dataclasses import dataclass
from functools import cache

import chinese_calendar
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from ..database import utcnow
from ..errors import Forbidden, NotFound, PortalError, ValidationFailed
from ..models.accounts import Role
from ..models.calendar import WorkCalendarDay, WorkCalendarYear
from ..text import _l
from ..workdays import (CHINA, FIRST_YEAR, LAST_YEAR, Arrangement, ArrangementError, WorkCalendar,
                        format_arrangement, parse_arrangement)
from .audit import record_event

EDITORS = {Role.ADMIN}
WARNED = {Role.ADMIN, Role.BUREAU}  # who sees that next year's arrangement is missing
LIBRARY = f"chinesecalendar {getattr(chinese_calendar, '__version__', '')}".strip()
ENTERED = "entered"
HOLIDAY, WORKDAY = "holiday", "workday"


class StaleCalendar(PortalError):
    """Someone else saved the year since the form was opened."""

    http_status = 409

    def __init__(self, year):
        self.year = year
        super().__init__(_l("The arrangement of %(year)s was changed by someone else since you opened it. "
                            "Your text was kept below: check the current one and save again.", year=year))


class ArrangementInvalid(ValidationFailed):
    """The entered text breaks the rules of an arrangement; lines lists every problem."""

    def __init__(self, error):
        self.lines = error.lines()
        super().__init__(_l("The arrangement was not saved: %(problems)s", problems="；".join(self.lines)),
                         field="text")


@cache
def library_arrangements():
    """Return {year: Arrangement} of every year the chinesecalendar package knows, names in Chinese."""
    chinese = {h.value: h.chinese for h in chinese_calendar.Holiday}
    years = {}
    for table, kind in ((chinese_calendar.holidays, HOLIDAY), (chinese_calendar.workdays, WORKDAY)):
        for day, name in table.items():
            entry = years.setdefault(day.year, ({}, {}))
            entry[0 if kind == HOLIDAY else 1][day] = chinese.get(name, name)
    return {y: Arrangement(y, h, w, LIBRARY) for y, (h, w) in years.items()}


def _entered(row):
    holidays = {d.day: d.name for d in row.days if d.kind == HOLIDAY}
    workdays = {d.day: d.name for d in row.days if d.kind == WORKDAY}
    return Arrangement(row.year, holidays, workdays, ENTERED)


def load_calendar(session):
    """Return the WorkCalendar in force: entered years over the library's."""
    years = dict(library_arrangements())
    for row in session.scalars(select(WorkCalendarYear)):
        years[row.year] = _entered(row)
    return WorkCalendar(years.values())


def missing_years(session, today=None):
    """Years whose arrangement is due and not known (the current one; the next from 1 November)."""
    today = today or utcnow().astimezone(CHINA).date()
    entered = set(session.scalars(select(WorkCalendarYear.year)
                                  .where(WorkCalendarYear.year.in_([today.year, today.year + 1]))))
    known = WorkCalendar([Arrangement(y) for y in entered | set(library_arrangements())])
    return known.missing_years(today)


def warnings_for(session, user, today=None):
    """The missing years user should be told of (admin and bureau), else []."""
    if user is None or getattr(user, "role", None) not in WARNED:
        return []
    return missing_years(session, today)


@dataclass
class YearView:
    """One row of the calendar's year list."""

    year: int
    arrangement: Arrangement | None
    entered: WorkCalendarYear | None

    @property
    def source(self):
        if self.entered is not None:
            return ENTERED
        return "library" if self.arrangement is not None else "assumed"


def list_years(session, today=None):
    """Return YearViews of every known year, plus this year and the next two, newest first."""
    today = today or utcnow().astimezone(CHINA).date()
    entered = {row.year: row for row in session.scalars(select(WorkCalendarYear))}
    calendar = load_calendar(session)
    wanted = set(calendar.years) | set(range(today.year, today.year + 2))
    return [YearView(y, calendar.years.get(y), entered.get(y)) for y in sorted(wanted, reverse=True)]


def get_year(session, year):
    """Return the YearView of year (any year between FIRST_YEAR and LAST_YEAR)."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise NotFound(_l("Year"), year)
    row = session.get(WorkCalendarYear, year)
    arrangement = _entered(row) if row is not None else library_arrangements().get(year)
    return YearView(year, arrangement, row)


def text_of(view):
    """The text to start editing from: as entered, else the library's arrangement, else empty."""
    if view.entered is not None:
        return view.entered.text
    return format_arrangement(view.arrangement) if view.arrangement is not None else ""


def _summary(arrangement, reference=""):
    return {"holidays": len(arrangement.holidays), "workdays": len(arrangement.workdays),
            "reference": reference, "days": format_arrangement(arrangement).splitlines()}


def save_year(session, ctx, year, text, *, reference="", version=None):
    """Enter (or replace) the arrangement of year; version is the one the editor started from
    (None: the year had no entry). Raises ValidationFailed with every problem, StaleCalendar (409)."""
    if ctx.actor is None or ctx.actor.role not in EDITORS:
        raise Forbidden()
    reference = (reference or "").strip()
    if len(reference) > 200:
        raise ValidationFailed(_l("The reference is too long (at most 200 characters)."), field="reference")
    try:
        arrangement = parse_arrangement(year, text or "", ENTERED)
    except ArrangementError as exc:
        raise ArrangementInvalid(exc) from None
    row = session.get(WorkCalendarYear, year)
    before = _summary(_entered(row), row.reference) if row is not None else None
    now = utcnow()
    if row is None:
        if version is not None:
            raise StaleCalendar(year)  # it was entered, then reverted, while the editor had it open
        row = WorkCalendarYear(year=year, version=1, text=text, reference=reference, entered_at=now,
                               entered_by_id=ctx.actor.id, entered_by_name=ctx.actor.username)
        session.add(row)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            raise StaleCalendar(year) from None
    else:
        # compare-and-set: of two editors who started from one version, one saves, the other is told
        claimed = session.execute(update(WorkCalendarYear)
                                  .where(WorkCalendarYear.year == year, WorkCalendarYear.version == version)
                                  .values(version=WorkCalendarYear.version + 1, text=text, reference=reference,
                                          entered_at=now, entered_by_id=ctx.actor.id,
                                          entered_by_name=ctx.actor.username)
                                  .execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            session.rollback()
            raise StaleCalendar(year)
        session.execute(delete(WorkCalendarDay).where(WorkCalendarDay.year == year))
        session.expire(row)
    for day, name in arrangement.holidays.items():
        session.add(WorkCalendarDay(day=day, year=year, kind=HOLIDAY, name=name))
    for day, name in arrangement.workdays.items():
        session.add(WorkCalendarDay(day=day, year=year, kind=WORKDAY, name=name))
    record_event(session, ctx, "calendar.save", object_type="work_calendar", object_id=year,
                 before=before, after=_summary(arrangement, reference))
    session.commit()
    return session.get(WorkCalendarYear, year)


def revert_year(session, ctx, year, *, version):
    """Remove the entered arrangement of year: the library's (or Monday to Friday) applies again."""
    if ctx.actor is None or ctx.actor.role not in EDITORS:
        raise Forbidden()
    row = session.get(WorkCalendarYear, year)
    if row is None:
        raise ValidationFailed(_l("No arrangement of %(year)s was entered: there is nothing to remove.", year=year))
    before = _summary(_entered(row), row.reference)
    gone = session.execute(delete(WorkCalendarYear)
                           .where(WorkCalendarYear.year == year, WorkCalendarYear.version == version)
                           .execution_options(synchronize_session=False))
    if gone.rowcount != 1:
        session.rollback()
        raise StaleCalendar(year)
    session.execute(delete(WorkCalendarDay).where(WorkCalendarDay.year == year))
    record_event(session, ctx, "calendar.revert", object_type="work_calendar", object_id=year,
                 before=before, after=None)
    session.commit()

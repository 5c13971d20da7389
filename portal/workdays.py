"""Chinese working days (工作日): statutory holidays and adjusted workdays (调休上班) count.

第十三条: a planned maintenance interruption is applied for at least 2 working days ahead.
The rule used here: the window may start from 00:00 (Asia/Shanghai) of the second working day
after the day of the application. Applied on Monday -> Wednesday; on Friday -> Tuesday.

A `WorkCalendar` holds one `Arrangement` per year: the State Council's holidays and adjusted
workdays as published. A year it does not know is reckoned Monday to Friday, and every answer
that crossed such a year says so (`Reckoned.assumed_years`) instead of failing: the next year's
arrangement is published each November or December, often after a package release. Pure logic:
the portal builds the calendar from its table and the chinesecalendar package
(`portal.services.workcalendar`).
"""
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from .text import _l

CHINA = ZoneInfo("Asia/Shanghai")
PLANNED_NOTICE_WORKING_DAYS = 2
FIRST_YEAR, LAST_YEAR = 2000, 2100
WARN_FROM_MONTH = 11  # from 1 November the next year's arrangement is missed (it is usually out by then)
# Bounds of an arrangement entered by hand (a published one has ~30 days in 7-8 lines).
MAX_TEXT = 10_000
MAX_LINES = 120
MAX_RANGE_DAYS = 31
MAX_NAME = 40


@dataclass(frozen=True)
class Arrangement:
    """One year's 放假安排: holidays (放假) and adjusted workdays on a weekend (调休上班)."""

    year: int
    holidays: dict = field(default_factory=dict)  # date -> name
    workdays: dict = field(default_factory=dict)  # date -> name
    source: str = ""


class Reckoned(NamedTuple):
    """A computed date or time, and the years that were reckoned Monday to Friday."""

    value: object
    assumed_years: tuple = ()

    @property
    def assumed(self):
        return bool(self.assumed_years)


class WorkCalendar:
    """Working days of the years it holds; any other year falls back to Monday to Friday."""

    def __init__(self, arrangements=()):
        self.years = {a.year: a for a in arrangements}

    def knows(self, year):
        return year in self.years

    def is_working_day(self, day):
        """Return True when day is a working day (the Monday-Friday rule in an unknown year)."""
        arrangement = self.years.get(day.year)
        if arrangement is not None:
            if day in arrangement.workdays:
                return True
            if day in arrangement.holidays:
                return False
        return day.weekday() < 5

    def describe(self, day):
        """Return (is working day, holiday or workday name or "", year known)."""
        arrangement = self.years.get(day.year)
        name = ""
        if arrangement is not None:
            name = arrangement.workdays.get(day) or arrangement.holidays.get(day) or ""
        return self.is_working_day(day), name, arrangement is not None

    def _days_after(self, day, assumed):
        """Yield the days after day, adding to assumed each year reckoned Monday to Friday."""
        while True:
            day += timedelta(days=1)
            if not self.knows(day.year):
                assumed.add(day.year)
            yield day

    def add_working_days(self, day, count):
        """Return the count-th working day after day (day itself never counts), as Reckoned."""
        if count < 1:
            raise ValueError("count must be at least 1")
        found, assumed = 0, set()
        for current in self._days_after(day, assumed):
            found += self.is_working_day(current)
            if found == count:
                return Reckoned(current, tuple(sorted(assumed)))

    def working_days_between(self, start, end):
        """Return the number of working days in (start, end] (0 when end <= start), as Reckoned."""
        count, assumed = 0, set()
        if end > start:
            for current in self._days_after(start, assumed):
                count += self.is_working_day(current)
                if current >= end:
                    break
        return Reckoned(count, tuple(sorted(assumed)))

    def earliest_planned_start(self, applied_at, notice=PLANNED_NOTICE_WORKING_DAYS):
        """Return Reckoned(earliest aware start of a planned window applied for at applied_at)."""
        if applied_at.tzinfo is None:
            raise ValueError("applied_at must be timezone-aware")
        local_day = applied_at.astimezone(CHINA).date()
        start_day, assumed = self.add_working_days(local_day, notice)
        return Reckoned(datetime.combine(start_day, time(0, 0), tzinfo=CHINA), assumed)

    def planned_start_allowed(self, applied_at, starts_at, notice=PLANNED_NOTICE_WORKING_DAYS):
        return starts_at >= self.earliest_planned_start(applied_at, notice).value

    def missing_years(self, today):
        """Years whose arrangement should be entered by today: the current one, and from
        1 November the next one."""
        wanted = [today.year] + ([today.year + 1] if today.month >= WARN_FROM_MONTH else [])
        return [y for y in wanted if not self.knows(y)]


def as_local_date(value):
    """Return the Asia/Shanghai calendar date of an aware datetime (or a date unchanged)."""
    if isinstance(value, datetime):
        return value.astimezone(CHINA).date()
    if isinstance(value, date):
        return value
    raise TypeError(value)


# -- the text of a published arrangement ------------------------------------------------------
#
# One line per holiday period or adjusted workday, as the State Council's notice lists them:
#     春节 2027-02-05~2027-02-11 休
#     春节 2027-02-14 班
# A date is 2027-02-05, 2027/2/5, 2027年2月5日 or 2月5日; a range joins two with ~, ～, 至 or ..;
# 休 (放假) marks days off, 班 (上班) an adjusted workday; the rest of the line is the name.

class ArrangementError(ValueError):
    """The text of an arrangement breaks a rule; problems is a list of (line number, message)."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__("; ".join(f"{n}: {m}" for n, m in problems))

    def lines(self):
        """Return the problems as text, each with its line number (0: the whole text)."""
        return [str(m) if not n else str(_l("Line %(number)s: %(problem)s", number=n, problem=m))
                for n, m in self.problems]


OFF_WORDS = {"休", "放假", "假", "休息", "holiday", "off"}
WORK_WORDS = {"班", "上班", "调休上班", "workday", "work"}
FULL_WIDTH = str.maketrans({"，": " ", "、": " ", "；": " ", "：": " ", "～": "~", "（": " ", "）": " ",
                            "－": "-", "／": "/", "\u3000": " ", ",": " ", ";": " ", ":": " "})
DATE_RE = (r"(?:(?P<{p}y>\d{{4}})[-/.年])?(?P<{p}m>\d{{1,2}})[-/.月](?P<{p}d>\d{{1,2}})日?")
SPAN_RE = re.compile(r"^" + DATE_RE.format(p="a") + r"(?:(?:~|至|\.\.|到)(?:" + DATE_RE.format(p="b")
                     + r"|(?P<only>\d{1,2})日))?$")  # 2月5日至11日: the end in the same month
WEEKDAY_SUFFIX = re.compile(r"[(（]?(?:星期|周)[一二三四五六日天][)）]?")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _span(token, year):
    match = SPAN_RE.match(token)
    if match is None:
        return None
    days = []
    if match.group("only"):
        try:
            first = date(int(match.group("ay") or year), int(match.group("am")), int(match.group("ad")))
            return first, first.replace(day=int(match.group("only")))
        except ValueError:
            raise ArrangementError([(0, _l("%(token)s is not a valid date.", token=token))]) from None
    for p in ("a", "b"):
        if match.group(f"{p}m") is None:
            continue
        y = int(match.group(f"{p}y") or year)
        try:
            days.append(date(y, int(match.group(f"{p}m")), int(match.group(f"{p}d"))))
        except ValueError:
            raise ArrangementError([(0, _l("%(token)s is not a valid date.", token=token))]) from None
    return days[0], days[-1]


def parse_arrangement(year, text, source=""):
    """Return the Arrangement of year written in text; raise ArrangementError (Chinese messages)."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ArrangementError([(0, _l("The year must be between %(first)s and %(last)s.", first=FIRST_YEAR, last=LAST_YEAR))])
    if len(text) > MAX_TEXT:
        raise ArrangementError([(0, _l("The text is too long (at most %(max)s characters).", max=MAX_TEXT))])
    if CONTROL.search(text):
        raise ArrangementError([(0, _l("The text contains control characters."))])
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        raise ArrangementError([(0, _l("Too many lines (at most %(max)s).", max=MAX_LINES))])
    holidays, workdays, problems = {}, {}, []
    for number, raw in enumerate(lines, 1):
        line = WEEKDAY_SUFFIX.sub(" ", raw.split("#", 1)[0]).translate(FULL_WIDTH).strip()
        if not line:
            continue
        spans, kinds, words = [], [], []
        try:
            for token in line.split():
                span = _span(token, year)
                if span is not None:
                    spans.append(span)
                elif token.lower() in OFF_WORDS:
                    kinds.append("off")
                elif token.lower() in WORK_WORDS:
                    kinds.append("work")
                else:
                    words.append(token)
        except ArrangementError as exc:
            problems.append((number, exc.problems[0][1]))
            continue
        name = " ".join(words)
        if len(spans) != 1:
            problems.append((number, _l("Each line needs exactly one date or range of dates (e.g. 2027-02-05~2027-02-11).")))
            continue
        if len(kinds) != 1:
            problems.append((number, _l("Each line needs 休 (days off) or 班 (adjusted workday).")))
            continue
        if not name:
            problems.append((number, _l("Name the holiday (e.g. 春节).")))
            continue
        if len(name) > MAX_NAME:
            problems.append((number, _l("The holiday name is too long (at most %(max)s characters).", max=MAX_NAME)))
            continue
        first, last = spans[0]
        if first.year != year or last.year != year:
            problems.append((number, _l("The dates must lie in %(year)s.", year=year)))
            continue
        if last < first:
            problems.append((number, _l("The range ends before it starts.")))
            continue
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            problems.append((number, _l("A range may span at most %(max)s days.", max=MAX_RANGE_DAYS)))
            continue
        target, other = (holidays, workdays) if kinds[0] == "off" else (workdays, holidays)
        day = first
        while day <= last:
            if day in other:
                problems.append((number, _l("%(day)s cannot be both a day off and a workday.", day=day.isoformat())))
                break
            if kinds[0] == "work" and day.weekday() < 5:
                problems.append((number, _l("%(day)s is a weekday already: an adjusted workday falls on a Saturday or Sunday.", day=day.isoformat())))
                break
            target[day] = name
            day += timedelta(days=1)
    if not problems and not holidays:
        problems.append((0, _l("An arrangement needs at least one day off.")))
    if problems:
        raise ArrangementError(problems)
    return Arrangement(year, holidays, workdays, source)


def periods(arrangement):
    """Return [(first, last, name, kind)] of arrangement, runs of days joined, kind "休" or "班"."""
    entries = [(d, n, "休") for d, n in arrangement.holidays.items()]
    entries += [(d, n, "班") for d, n in arrangement.workdays.items()]
    entries.sort()
    runs, run = [], None
    for day, name, kind in entries:
        if run and run[1] + timedelta(days=1) == day and run[2:] == [name, kind]:
            run[1] = day
            continue
        if run:
            runs.append(tuple(run))
        run = [day, day, name, kind]
    if run:
        runs.append(tuple(run))
    return runs


def format_arrangement(arrangement):
    """Return the text of arrangement in the form parse_arrangement reads."""
    out = []
    for first, last, name, kind in periods(arrangement):
        span = first.isoformat() if first == last else f"{first.isoformat()}~{last.isoformat()}"
        out.append(f"{name} {span} {kind}")
    return "\n".join(out)


# -- time limits (办理时限) -------------------------------------------------------------------------
#
# A step begun on a day has `limit` working days: the day it began does not count, the limit ends at
# 24:00 (Asia/Shanghai) of the limit-th working day after it. Begun on Monday with 2 working days:
# due at the end of Wednesday. Before the end of that day the step is in time; after, overdue.

class Deadline(NamedTuple):
    """When a step is due, and how it stands at a moment."""

    due_at: datetime           # aware, 00:00 Beijing time of the day after the last working day
    due_day: date              # the last working day
    remaining: int             # working days left after today (0: due today); negative: overdue by
    overdue: bool
    assumed_years: tuple = ()

    @property
    def due_today(self):
        return not self.overdue and self.remaining == 0


def deadline(calendar, started_at, limit, now):
    """Return the Deadline of a step begun at started_at with limit working days, seen at now."""
    if started_at.tzinfo is None or now.tzinfo is None:
        raise ValueError("started_at and now must be timezone-aware")
    start_day = as_local_date(started_at)
    due_day, assumed = calendar.add_working_days(start_day, max(1, int(limit)))
    due_at = datetime.combine(due_day + timedelta(days=1), time(0, 0), tzinfo=CHINA)
    today = as_local_date(now)
    if now >= due_at:
        late, more = calendar.working_days_between(due_day, today)
        return Deadline(due_at, due_day, -max(1, late), True, tuple(sorted(set(assumed) | set(more))))
    left, more = calendar.working_days_between(today, due_day)
    return Deadline(due_at, due_day, left, False, tuple(sorted(set(assumed) | set(more))))

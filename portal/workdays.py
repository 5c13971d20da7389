"""Chinese working days (工作日): statutory holidays and adjusted workdays (调休) count.

第十三条: a planned maintenance interruption is applied for at least 2 working days ahead.
The rule used here: the window may start from 00:00 (Asia/Shanghai) of the second working day
after the day of the application. Applied on Monday -> Wednesday; on Friday -> Tuesday; the
calendar of the chinesecalendar package decides what a working day is.
"""
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

CHINA = ZoneInfo("Asia/Shanghai")
PLANNED_NOTICE_WORKING_DAYS = 2


def is_working_day(day):
    """Return True when day is a working day in mainland China (holidays and 调休 included)."""
    return chinese_calendar.is_workday(day)


def add_working_days(day, count):
    """Return the count-th working day after day (day itself never counts)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    current = day
    found = 0
    while found < count:
        current += timedelta(days=1)
        if is_working_day(current):
            found += 1
    return current


def earliest_planned_start(applied_at, notice=PLANNED_NOTICE_WORKING_DAYS):
    """Return the earliest aware datetime a planned window applied for at applied_at may start."""
    if applied_at.tzinfo is None:
        raise ValueError("applied_at must be timezone-aware")
    local_day = applied_at.astimezone(CHINA).date()
    start_day = add_working_days(local_day, notice)
    return datetime.combine(start_day, time(0, 0), tzinfo=CHINA)


def planned_start_allowed(applied_at, starts_at, notice=PLANNED_NOTICE_WORKING_DAYS):
    """Return True when a planned window starting at starts_at respects the notice period."""
    return starts_at >= earliest_planned_start(applied_at, notice)


def as_local_date(value):
    """Return the Asia/Shanghai calendar date of an aware datetime (or a date unchanged)."""
    if isinstance(value, datetime):
        return value.astimezone(CHINA).date()
    if isinstance(value, date):
        return value
    raise TypeError(value)

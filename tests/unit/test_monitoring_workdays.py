"""第十三条: a planned maintenance starts at least 2 Chinese working days after the application."""
from datetime import date, datetime, timezone

import pytest

from portal.workdays import CHINA, add_working_days, earliest_planned_start, is_working_day, planned_start_allowed


def at(y, m, d, hh=10, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=CHINA)


def test_ordinary_week():
    # Monday 2026-11-23 -> Wednesday; Friday 2026-11-27 -> Tuesday
    assert earliest_planned_start(at(2026, 11, 23)) == at(2026, 11, 25, 0)
    assert earliest_planned_start(at(2026, 11, 27)) == at(2026, 12, 1, 0)


def test_across_national_day_2026():
    # 2026-10-01..07 are holidays; applied on Tue 29 Sep: Wed 30 Sep is day 1, Thu 8 Oct day 2
    assert not is_working_day(date(2026, 10, 1))
    assert earliest_planned_start(at(2026, 9, 29)) == at(2026, 10, 8, 0)
    assert not planned_start_allowed(at(2026, 9, 29), at(2026, 10, 7, 23, 59))
    assert planned_start_allowed(at(2026, 9, 29), at(2026, 10, 8, 2))


def test_adjusted_workday_saturday_counts():
    # Saturday 2026-10-10 is an adjusted workday (调休): applied Fri 9 Oct, Sat is day 1, Mon 12 day 2
    assert is_working_day(date(2026, 10, 10))
    assert earliest_planned_start(at(2026, 10, 9)) == at(2026, 10, 12, 0)
    # without the 调休 it would have been Tuesday; an ordinary Saturday does not count
    assert earliest_planned_start(at(2026, 11, 20)) == at(2026, 11, 24, 0)


def test_across_spring_festival_2026():
    # Spring Festival 2026: 15..23 Feb off, Sat 14 Feb and Sat 28 Feb adjusted workdays
    assert is_working_day(date(2026, 2, 14))
    assert not is_working_day(date(2026, 2, 16))
    # applied Fri 13 Feb: Sat 14 (调休) is day 1, the holiday runs to the 23rd, Tue 24 is day 2
    assert earliest_planned_start(at(2026, 2, 13)) == at(2026, 2, 24, 0)


def test_day_boundary_is_beijing_time():
    # 2026-11-22 17:00 UTC is Monday 01:00 in Beijing -> Wednesday
    assert earliest_planned_start(datetime(2026, 11, 22, 17, 0, tzinfo=timezone.utc)) == at(2026, 11, 25, 0)


def test_add_working_days_needs_a_positive_count_and_aware_times():
    with pytest.raises(ValueError):
        add_working_days(date(2026, 1, 5), 0)
    with pytest.raises(ValueError):
        earliest_planned_start(datetime(2026, 1, 5, 10, 0))

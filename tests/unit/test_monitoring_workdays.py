"""第十三条: a planned maintenance starts at least 2 Chinese working days after the application.

The calendar of record is WorkCalendar: the years chinesecalendar knows (to 2026), the years the
admin entered, and Monday to Friday, flagged, for the rest.
"""
from datetime import date, datetime, timezone

import pytest

from portal.services.workcalendar import library_arrangements
from portal.workdays import (CHINA, Arrangement, ArrangementError, WorkCalendar, format_arrangement,
                             parse_arrangement, periods)

LIBRARY = WorkCalendar(library_arrangements().values())
# 2027 as the State Council might publish it: New Year 1-3 Jan with Sunday 3 Jan... kept simple,
# and a Spring Festival week 5-11 Feb with Sunday 14 Feb and Saturday 20 Feb worked.
PUBLISHED_2027 = """\
元旦 2027-01-01~2027-01-03 休
春节 2月5日至11日 休
春节 2027-02-14（星期日） 班
春节 2027/2/20 班
清明节 2027年4月3日~2027年4月5日 休
劳动节 2027-05-01～2027-05-05 休
劳动节 2027-04-25 班
端午节 2027-06-09~2027-06-11 休
中秋节 2027-09-15~2027-09-17 休
国庆节 2027-10-01~2027-10-07 休
国庆节 2027-09-26 班
国庆节 2027-10-09 班
"""


def at(y, m, d, hh=10, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=CHINA)


def with_2027():
    return WorkCalendar([*library_arrangements().values(), parse_arrangement(2027, PUBLISHED_2027)])


def test_ordinary_week():
    # Monday 2026-11-23 -> Wednesday; Friday 2026-11-27 -> Tuesday
    assert LIBRARY.earliest_planned_start(at(2026, 11, 23)) == (at(2026, 11, 25, 0), ())
    assert LIBRARY.earliest_planned_start(at(2026, 11, 27)) == (at(2026, 12, 1, 0), ())


def test_across_national_day_2026():
    # 2026-10-01..07 are holidays; applied on Tue 29 Sep: Wed 30 Sep is day 1, Thu 8 Oct day 2
    assert not LIBRARY.is_working_day(date(2026, 10, 1))
    assert LIBRARY.earliest_planned_start(at(2026, 9, 29)).value == at(2026, 10, 8, 0)
    assert not LIBRARY.planned_start_allowed(at(2026, 9, 29), at(2026, 10, 7, 23, 59))
    assert LIBRARY.planned_start_allowed(at(2026, 9, 29), at(2026, 10, 8, 2))


def test_adjusted_workday_saturday_counts():
    # Saturday 2026-10-10 is an adjusted workday (调休): applied Fri 9 Oct, Sat is day 1, Mon 12 day 2
    assert LIBRARY.is_working_day(date(2026, 10, 10))
    assert LIBRARY.earliest_planned_start(at(2026, 10, 9)).value == at(2026, 10, 12, 0)
    # without the 调休 it would have been Tuesday; an ordinary Saturday does not count
    assert LIBRARY.earliest_planned_start(at(2026, 11, 20)).value == at(2026, 11, 24, 0)


def test_across_spring_festival_2026():
    # Spring Festival 2026: 15..23 Feb off, Sat 14 Feb and Sat 28 Feb adjusted workdays
    assert LIBRARY.is_working_day(date(2026, 2, 14))
    assert not LIBRARY.is_working_day(date(2026, 2, 16))
    # applied Fri 13 Feb: Sat 14 (调休) is day 1, the holiday runs to the 23rd, Tue 24 is day 2
    assert LIBRARY.earliest_planned_start(at(2026, 2, 13)).value == at(2026, 2, 24, 0)


def test_day_boundary_is_beijing_time():
    # 2026-11-22 17:00 UTC is Monday 01:00 in Beijing -> Wednesday
    assert LIBRARY.earliest_planned_start(datetime(2026, 11, 22, 17, 0, tzinfo=timezone.utc)).value == \
        at(2026, 11, 25, 0)


def test_add_working_days_needs_a_positive_count_and_aware_times():
    with pytest.raises(ValueError):
        LIBRARY.add_working_days(date(2026, 1, 5), 0)
    with pytest.raises(ValueError):
        LIBRARY.earliest_planned_start(datetime(2026, 1, 5, 10, 0))


def test_the_library_stops_at_2026():
    # the reason for issue 13: chinesecalendar 1.11 raises for 2027; the portal's calendar does not
    import chinese_calendar
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 4))
    assert LIBRARY.knows(2026) and not LIBRARY.knows(2027)


def test_applying_on_30_and_31_december_2026_for_january_2027_falls_back_and_says_so():
    # Wed 30 Dec: Thu 31 Dec (2026, known) is day 1, Fri 1 Jan 2027 (unknown: a weekday) day 2
    assert LIBRARY.earliest_planned_start(at(2026, 12, 30)) == (at(2027, 1, 1, 0), (2027,))
    # Thu 31 Dec: Fri 1 Jan and Mon 4 Jan 2027, both by the Monday-Friday rule
    assert LIBRARY.earliest_planned_start(at(2026, 12, 31)) == (at(2027, 1, 4, 0), (2027,))
    # a result that never reached 2027 is not flagged
    assert LIBRARY.earliest_planned_start(at(2026, 12, 28)) == (at(2026, 12, 30, 0), ())


def test_applying_across_the_year_with_2027_entered():
    cal = with_2027()
    # New Year 1-3 Jan off: applied Wed 30 Dec -> Thu 31 Dec day 1, Mon 4 Jan day 2, and not assumed
    assert cal.earliest_planned_start(at(2026, 12, 30)) == (at(2027, 1, 4, 0), ())
    # applied Thu 31 Dec: Mon 4 Jan day 1, Tue 5 Jan day 2
    assert cal.earliest_planned_start(at(2026, 12, 31)) == (at(2027, 1, 5, 0), ())


def test_2027_spring_festival_week_and_an_adjusted_sunday():
    cal = with_2027()
    assert all(not cal.is_working_day(date(2027, 2, d)) for d in range(5, 12))  # Fri 5 .. Thu 11 off
    assert cal.is_working_day(date(2027, 2, 14)) and date(2027, 2, 14).weekday() == 6  # Sunday worked
    assert not LIBRARY.is_working_day(date(2027, 2, 14))  # the fallback would not know it
    # applied Thu 4 Feb: the festival 5-11, Fri 12 day 1, Sun 14 (调休) day 2
    assert cal.earliest_planned_start(at(2027, 2, 4)) == (at(2027, 2, 14, 0), ())
    # the fallback, without the arrangement: Fri 5, Mon 8 — and says it assumed
    assert LIBRARY.earliest_planned_start(at(2027, 2, 4)) == (at(2027, 2, 8, 0), (2027,))
    assert cal.working_days_between(date(2027, 2, 1), date(2027, 2, 28)) == (16, ())
    assert cal.describe(date(2027, 2, 8)) == (False, "春节", True)
    assert cal.describe(date(2028, 2, 8)) == (True, "", False)


def test_missing_years_warn_from_1_november():
    cal = with_2027()
    assert LIBRARY.missing_years(date(2026, 10, 31)) == []
    assert LIBRARY.missing_years(date(2026, 11, 1)) == [2027]
    assert LIBRARY.missing_years(date(2026, 12, 31)) == [2027]
    assert LIBRARY.missing_years(date(2027, 3, 1)) == [2027]  # the year has begun and is still unknown
    assert cal.missing_years(date(2026, 12, 1)) == []
    assert cal.missing_years(date(2027, 11, 1)) == [2028]


def test_the_published_text_round_trips():
    arrangement = parse_arrangement(2027, PUBLISHED_2027)
    assert len(arrangement.holidays) == 3 + 7 + 3 + 5 + 3 + 3 + 7 and len(arrangement.workdays) == 5
    assert arrangement.holidays[date(2027, 2, 11)] == "春节"
    again = parse_arrangement(2027, format_arrangement(arrangement))
    assert (again.holidays, again.workdays) == (arrangement.holidays, arrangement.workdays)
    assert periods(arrangement)[0] == (date(2027, 1, 1), date(2027, 1, 3), "元旦", "休")
    for year, known in library_arrangements().items():
        again = parse_arrangement(year, format_arrangement(known))
        assert (again.holidays, again.workdays) == (known.holidays, known.workdays), year


@pytest.mark.parametrize("text,problem", [
    ("", "at least one day off"),
    ("春节 2027-02-05 休\n春节 2027-02-05 班", "both a day off and a workday"),
    ("春节 2027-02-15 班", "is a weekday already"),  # a Monday cannot be an adjusted workday
    ("春节 2027-02-05", "休 (days off) or 班"),
    ("2027-02-05 休", "Name the holiday"),
    ("春节 2028-02-05 休", "must lie in 2027"),
    ("春节 2027-02-30 休", "not a valid date"),
    ("春节 2027-03-05~2027-02-05 休", "ends before it starts"),
    ("春节 2027-01-01~2027-03-01 休", "at most 31 days"),
    ("春节 2027-02-05 2027-02-06 休", "exactly one date"),
    ("春节\x00 2027-02-05 休", "control characters"),
    ("春节 2027-02-05 休\n" * 121, "Too many lines"),
    ("x" * 10_001, "too long"),
    ("春" * 41 + " 2027-02-05 休", "name is too long"),
])
def test_bad_text_is_refused_with_the_line(text, problem):
    with pytest.raises(ArrangementError) as caught:
        parse_arrangement(2027, text)
    assert any(problem in str(m) for _n, m in caught.value.problems), caught.value.problems


def test_every_problem_is_reported_with_its_line_number():
    with pytest.raises(ArrangementError) as caught:
        parse_arrangement(2027, "元旦 2027-01-01 休\n春节 2027-02-15 班\n# a comment\n\n国庆 2027-13-01 休")
    assert [n for n, _m in caught.value.problems] == [2, 5]
    assert caught.value.lines()[0].startswith("Line 2:")


def test_year_bounds():
    with pytest.raises(ArrangementError):
        parse_arrangement(1999, "元旦 1999-01-01 休")
    assert WorkCalendar([Arrangement(2030)]).knows(2030)

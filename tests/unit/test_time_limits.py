"""办理时限 (issue 17): a step's deadline counted in Chinese working days, pure logic."""
from datetime import date, datetime, timezone

import pytest

from portal.services.reviews import capacity_check, memory_gb
from portal.services.timelimits import TimeLimits
from portal.specs import normalize_spec, root_disk_gb, validate_spec
from portal.workdays import CHINA, Arrangement, WorkCalendar, deadline

# National Day 2026 as published: 1-7 October off, Saturday 10 October a workday (调休上班)
OCTOBER = WorkCalendar([Arrangement(2026, holidays={date(2026, 10, d): "国庆节" for d in range(1, 8)},
                                    workdays={date(2026, 10, 10): "国庆节"})])


def at(day, hour=10):
    return datetime(2026, day // 100, day % 100, hour, tzinfo=CHINA)


def test_a_step_begun_on_monday_with_two_working_days_is_due_at_the_end_of_wednesday():
    d = deadline(OCTOBER, at(1109), 2, at(1109))
    assert d.due_day == date(2026, 11, 11) and d.due_at == datetime(2026, 11, 12, tzinfo=CHINA)
    assert (d.remaining, d.overdue) == (2, False)
    assert deadline(OCTOBER, at(1109), 2, at(1111, 23)).due_today
    late = deadline(OCTOBER, at(1109), 2, datetime(2026, 11, 12, 0, 0, tzinfo=CHINA))
    assert late.overdue and late.remaining == -1


def test_holidays_do_not_count_and_an_adjusted_saturday_does():
    # submitted on 30 September: 1-7 October are off, 8 and 9 October count, then Saturday 10 (调休上班)
    d = deadline(OCTOBER, at(930), 3, at(930))
    assert d.due_day == date(2026, 10, 10)
    assert deadline(OCTOBER, at(930), 3, at(1005)).remaining == 3  # nothing of the holiday is used up
    # overdue on Monday 12 October by one working day, on Wednesday 14 by three
    assert deadline(OCTOBER, at(930), 3, at(1012)).remaining == -1
    assert deadline(OCTOBER, at(930), 3, at(1014)).remaining == -3


def test_a_step_begun_late_at_night_utc_counts_from_its_beijing_day():
    # 2026-11-09 17:00 UTC is already Tuesday 10 November 01:00 in Beijing
    started = datetime(2026, 11, 9, 17, 0, tzinfo=timezone.utc)
    assert deadline(OCTOBER, started, 1, started).due_day == date(2026, 11, 11)


def test_an_unknown_year_is_reckoned_monday_to_friday_and_says_so():
    d = deadline(OCTOBER, datetime(2031, 3, 3, tzinfo=CHINA), 5, datetime(2031, 3, 3, tzinfo=CHINA))
    assert d.due_day == date(2031, 3, 10) and d.assumed_years == (2031,)
    with pytest.raises(ValueError):
        deadline(OCTOBER, datetime(2026, 3, 3), 5, at(1109))


def test_the_limits_come_from_the_settings():
    limits = TimeLimits.from_config({"TIME_LIMIT_REVIEW_DAYS": 7, "TIME_LIMIT_GRANT_DAYS": 1})
    assert (limits.of("review"), limits.of("grant"), limits.of("provisioning"), limits.remind) == (7, 1, 3, 1)


def test_the_capacity_check_reads_in_cores_and_gigabytes():
    flavors = [{"name": "m1.small", "vcpus": 1, "ram": 2048, "disk": 20}]
    spec = normalize_spec({"servers": [{"name": "web", "flavor": "m1.small", "image": "x", "count": 3,
                                        "data_volumes": [50]}]})
    need = {"cores": 3, "ram": 6144, "gigabytes": 150}
    rows = capacity_check({"VCPU": {"free": 2}, "MEMORY_MB": {"free": 8192}, "DISK_GB": {"free": 100}}, need,
                          root_disk_gb(spec, flavors))
    assert [(r["resource"], r["needed"], r["free"], r["enough"]) for r in rows] == [
        ("vcpu", 3, 2, False), ("memory", 6, 8, True), ("root_disk", 60, 100, True), ("volume", 150, None, True)]
    assert memory_gb(512) == 0.5 and memory_gb(4096) == 4


def test_bandwidth_is_part_of_the_spec_and_bounded():
    spec = normalize_spec({"servers": [{"name": "web", "flavor": "f", "image": "i"}], "bandwidth_mbps": "100"})
    assert spec["bandwidth_mbps"] == 100
    catalog = {"flavors": [{"name": "f", "vcpus": 1, "ram": 512}], "images": [{"name": "i"}]}
    assert validate_spec(spec, catalog) == []
    problems = validate_spec({**spec, "bandwidth_mbps": 10_001}, catalog)
    assert [field for field, _m in problems] == ["bandwidth_mbps"]
    assert normalize_spec({})["bandwidth_mbps"] == 0


def test_no_rate_means_no_estimate_at_all():
    from portal.services.rating import estimate_monthly_cost
    spec = normalize_spec({"servers": [{"name": "web", "flavor": "f", "image": "i"}]})
    assert estimate_monthly_cost(spec, {"f": {"vcpus": 1, "ram": 512}}, [], datetime.now(timezone.utc)) is None

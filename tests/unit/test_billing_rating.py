"""Rating as pure logic: Decimal money, price splits, rounding, estimates."""
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from portal.services.rating import CHINA, PricePoint, Usage, amount, month_bounds, price_periods, rate_usage


def t(day, hour=0, minute=0, month=10):
    return datetime(2026, month, day, hour, minute, tzinfo=CHINA)


def test_amount_rounds_half_up_once_at_line_level():
    # 10 GiB x 0.5 h x 0.001 = 0.005 exactly: half up gives 0.01 (banker's rounding would give 0.00)
    assert amount(10 * 1800, Decimal("0.001"), "backup") == Decimal("0.01")
    assert amount(10 * 1799, Decimal("0.001"), "backup") == Decimal("0.00")
    # RAM is stored in MiB and priced per GiB-hour: 8 GiB for 1 h at 0.02
    assert amount(8192 * 3600, Decimal("0.02"), "ram") == Decimal("0.16")


def test_float_prices_are_refused():
    with pytest.raises(TypeError):
        amount(3600, 0.1, "vcpu")


def test_price_change_splits_the_month_at_the_instant():
    start, end = month_bounds(2026, 10)
    prices = [PricePoint(1, "vcpu", Decimal("0.05"), datetime(2026, 1, 1, tzinfo=CHINA)),
              PricePoint(2, "vcpu", Decimal("0.0437"), t(16))]
    periods = price_periods(prices, "vcpu", start, end)
    assert [(p[0], p[1], p[2].rate_id) for p in periods] == [(start, t(16), 1), (t(16), end, 2)]
    usage = [Usage(None, "办公系统", "vcpu", 4, t(15, 12), t(16, 12))]
    rated = rate_usage(usage, prices, start, end)
    assert [(line.rate_id, line.unit_seconds, line.amount) for line in rated.lines] == [
        (1, 4 * 12 * 3600, Decimal("2.40")), (2, 4 * 12 * 3600, Decimal("2.10"))]  # 2.0976 -> 2.10
    assert rated.total == Decimal("4.50")


def test_volume_type_without_own_price_uses_the_volume_price_and_unpriced_is_reported():
    start, end = month_bounds(2026, 10)
    prices = [PricePoint(1, "volume", Decimal("0.0015"), t(1)), PricePoint(2, "volume:ssd", Decimal("0.0023"), t(1))]
    rated = rate_usage([Usage(None, "a", "volume:hdd", 100, t(2), t(3)),
                        Usage(None, "a", "volume:ssd", 100, t(2), t(3)),
                        Usage(None, "a", "floating_ip", 1, t(2), t(3))], prices, start, end)
    by_type = {line.resource_type: line.amount for line in rated.lines}
    assert by_type == {"volume:hdd": Decimal("3.60"), "volume:ssd": Decimal("5.52"), "floating_ip": Decimal("0.00")}
    assert rated.unpriced == ["floating_ip"]


def test_usage_outside_the_month_is_clipped():
    start, end = month_bounds(2026, 10)
    prices = [PricePoint(1, "vcpu", Decimal("1"), t(1, month=1))]
    rated = rate_usage([Usage(None, "a", "vcpu", 1, t(30, 23, month=9), t(1, 1))], prices, start, end)
    assert rated.lines[0].unit_seconds == 3600 and rated.total == Decimal("1.00")


def test_month_bounds_are_beijing_time():
    start, end = month_bounds(2026, 12)
    assert start.utcoffset() == timedelta(hours=8) and end == datetime(2027, 1, 1, tzinfo=CHINA)


def test_estimate_of_a_request_spec():
    from portal.services.rating import estimate_monthly_cost
    prices = [PricePoint(1, "vcpu", Decimal("0.05"), t(1)), PricePoint(2, "ram", Decimal("0.02"), t(1)),
              PricePoint(3, "volume", Decimal("0.0015"), t(1)), PricePoint(4, "floating_ip", Decimal("0.0333"), t(1))]
    spec = {"servers": [{"flavor": "m1.small", "count": 2, "data_volumes": [50]}],
            "volumes": [{"size_gb": 100}], "floating_ips": 1}
    lines, total = estimate_monthly_cost(spec, {"m1.small": {"vcpus": 1, "ram": 2048}}, prices, t(20))
    # 720 h: vCPU 2 x 0.05 x 720 = 72.00; RAM 4 GiB x 0.02 x 720 = 57.60;
    # volume 200 GiB x 0.0015 x 720 = 216.00; IP 0.0333 x 720 = 23.976 -> 23.98
    assert [line[2] for line in lines] == [Decimal("72.00"), Decimal("57.60"), Decimal("216.00"), Decimal("23.98")]
    assert total == Decimal("369.58")

"""Rating: usage (unit-seconds) x the 计费标准 -> statement lines, exact to the cent.

Money rule (documented for the bureau and the auditors):
  * usage is kept as integer unit-seconds; prices are Decimal yuan per unit-hour;
  * a line is one system x one resource type x one price period (a price change mid-month
    splits the usage at the instant the new price takes effect);
  * line amount = unit-seconds x price / (3600 x unit scale), computed exactly in Decimal and
    rounded ONCE, to the cent, ROUND_HALF_UP;
  * the statement total is the sum of the rounded line amounts (no second rounding).
No float is used anywhere on the way.
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from zoneinfo import ZoneInfo

from ..text import _l

CHINA = ZoneInfo("Asia/Shanghai")
CENT = Decimal("0.01")
HOURS_PLACES = Decimal("0.0001")
UNASSIGNED = "未归属"  # system name of resources no request created

# resource type (prefix before ":") -> (unit label, scale: stored units per billed unit)
RESOURCE_UNITS = {
    "vcpu": (_l("vCPU-hours"), 1),
    "ram": (_l("GiB-hours of memory"), 1024),  # stored in MiB
    "volume": (_l("GiB-hours of volume"), 1),  # "volume:<volume type>"
    "snapshot": (_l("GiB-hours of snapshot"), 1),
    "backup": (_l("GiB-hours of backup"), 1),
    "floating_ip": (_l("floating IP-hours"), 1),
}
RESOURCE_LABELS = {
    "vcpu": _l("vCPU"), "ram": _l("Memory"), "volume": _l("Volume"), "snapshot": _l("Snapshot"),
    "backup": _l("Backup"), "floating_ip": _l("Floating IP"),
}


def base_type(resource_type):
    return resource_type.split(":", 1)[0]


def scale_of(resource_type):
    return RESOURCE_UNITS[base_type(resource_type)][1]


# Cinder's volume type when none was chosen
VOLUME_TYPE_LABELS = {"__DEFAULT__": _l("default type")}


def resource_label(resource_type):
    """Return the resource type for people, e.g. 云硬盘（ssd）, 云硬盘（默认类型）."""
    base, _, sub = resource_type.partition(":")
    text = str(RESOURCE_LABELS.get(base, base))
    return str(_l("%(resource)s (%(type)s)", resource=text, type=VOLUME_TYPE_LABELS.get(sub, sub))) if sub else text


def month_bounds(year, month):
    """Return the aware [start, end) of a calendar month in Beijing time."""
    start = datetime(year, month, 1, tzinfo=CHINA)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=CHINA)
    return start, end


def current_month(now=None):
    """Return (year, month) of now in Beijing time."""
    from ..database import utcnow
    local = (now or utcnow()).astimezone(CHINA)
    return local.year, local.month


def hours(unit_seconds, resource_type):
    """Return billed unit-hours rounded to 4 places (for reading; money uses unit-seconds)."""
    with localcontext() as ctx:
        ctx.prec = 40
        return (Decimal(unit_seconds) / (3600 * scale_of(resource_type))).quantize(HOURS_PLACES, ROUND_HALF_UP)


def amount(unit_seconds, unit_price, resource_type):
    """Return the money of unit_seconds at unit_price per unit-hour, rounded half up to the cent."""
    if not isinstance(unit_price, Decimal):
        raise TypeError("prices are Decimal, never float")
    with localcontext() as ctx:
        ctx.prec = 60  # far above what the product needs: the division is the only inexact step
        exact = Decimal(unit_seconds) * unit_price / (3600 * scale_of(resource_type))
        return exact.quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class PricePoint:
    """A rate as plain data: price from effective_from on (until the next one)."""

    rate_id: int | None
    resource_type: str
    unit_price: Decimal
    effective_from: datetime


@dataclass(frozen=True)
class Usage:
    """A quantity held by a system during [start, end)."""

    system_id: int | None
    system_name: str
    resource_type: str
    quantity: int
    start: datetime
    end: datetime


@dataclass
class Line:
    system_id: int | None
    system_name: str
    resource_type: str
    period_start: datetime
    period_end: datetime
    rate_id: int | None
    unit_price: Decimal
    unit_seconds: int = 0
    quantity_hours: Decimal = Decimal("0")
    amount: Decimal = Decimal("0.00")


@dataclass
class Rated:
    lines: list = field(default_factory=list)
    total: Decimal = Decimal("0.00")
    unpriced: list = field(default_factory=list)  # resource types used without any rate in effect


def price_periods(prices, resource_type, start, end):
    """Return [(from, to, PricePoint or None)] covering [start, end) for resource_type.

    A volume type without a price of its own uses the price of "volume".
    """
    own = [p for p in prices if p.resource_type == resource_type]
    if not own and ":" in resource_type:
        own = [p for p in prices if p.resource_type == base_type(resource_type)]
    own.sort(key=lambda p: p.effective_from)
    periods = []
    cursor = start
    current = None
    for point in own:
        if point.effective_from <= start:
            current = point
            continue
        if point.effective_from >= end:
            break
        periods.append((cursor, point.effective_from, current))
        cursor, current = point.effective_from, point
    periods.append((cursor, end, current))
    return [p for p in periods if p[1] > p[0]]


def _seconds(start, end):
    delta = end - start
    if delta.microseconds:
        raise ValueError("usage intervals are whole seconds")
    return delta.days * 86400 + delta.seconds


def rate_usage(usages, prices, start, end):
    """Rate usages within [start, end) (a month) against prices; return Rated."""
    lines = {}
    unpriced = set()
    for usage in usages:
        u_start, u_end = max(usage.start, start), min(usage.end, end)
        if u_end <= u_start or usage.quantity == 0:
            continue
        for p_from, p_to, point in price_periods(prices, usage.resource_type, start, end):
            s, e = max(u_start, p_from), min(u_end, p_to)
            if e <= s:
                continue
            key = (usage.system_id, usage.system_name, usage.resource_type, p_from)
            line = lines.get(key)
            if line is None:
                line = lines[key] = Line(usage.system_id, usage.system_name, usage.resource_type, p_from, p_to,
                                         point.rate_id if point else None,
                                         point.unit_price if point else Decimal("0"))
            line.unit_seconds += usage.quantity * _seconds(s, e)
            if point is None:
                unpriced.add(usage.resource_type)
    rated = Rated(unpriced=sorted(unpriced))
    for key in sorted(lines, key=lambda k: (k[1] == UNASSIGNED, k[1], k[0] or 0, k[2], k[3])):
        line = lines[key]
        line.quantity_hours = hours(line.unit_seconds, line.resource_type)
        line.amount = amount(line.unit_seconds, line.unit_price, line.resource_type)
        rated.lines.append(line)
    rated.total = sum((line.amount for line in rated.lines), Decimal("0.00"))
    return rated


HOURS_PER_MONTH = 720  # an estimate's month: 30 days


def price_at(prices, resource_type, at):
    """Return the PricePoint of resource_type in effect at `at` (volume types fall back to "volume")."""
    periods = price_periods(prices, resource_type, at, at + timedelta(seconds=1))
    return periods[0][2] if periods else None


def estimate_monthly_cost(spec, flavors, prices, at):
    """Estimate the monthly fee of a request's spec at the prices in effect at `at`.

    spec is a normalized request spec (portal.specs); flavors maps a flavor name to {"vcpus",
    "ram"} (MiB). Returns (lines [(resource type, quantity, Decimal amount)], Decimal total), each
    line rounded half up to the cent like a statement line; None when no rate is in effect at `at`.
    """
    quantities = {"vcpu": 0, "ram": 0, "volume": 0, "floating_ip": max(0, int(spec.get("floating_ips") or 0))}
    for server in spec.get("servers", []):
        flavor = flavors.get(server.get("flavor")) or {}
        count = max(0, int(server.get("count") or 1))
        quantities["vcpu"] += count * int(flavor.get("vcpus") or 0)
        quantities["ram"] += count * int(flavor.get("ram") or 0)
        quantities["volume"] += count * sum(max(0, int(v)) for v in server.get("data_volumes", []))
    quantities["volume"] += sum(max(0, int(v.get("size_gb") or 0)) for v in spec.get("volumes", []))
    lines = []
    points = {rtype: price_at(prices, rtype, at) for rtype in quantities}
    if not any(points.values()):
        return None  # no 计费标准 in effect: no estimate at all (never "0.00 元")
    for rtype, quantity in quantities.items():
        point = points[rtype]
        price = point.unit_price if point else Decimal("0")
        lines.append((rtype, quantity, amount(quantity * HOURS_PER_MONTH * 3600, price, rtype)))
    return lines, sum((line[2] for line in lines), Decimal("0.00"))

"""The charts of a system's page: availability from its probes' checks and usage from metering.

Everything is govcloud's own data, narrowed to what the user may see (a department's user sees its
own systems; the bureau, the vendor and the auditor every department's). Times are epoch seconds
(the browser draws them in Beijing time); every series is bucketed, so a chart's size depends on
the days asked for, not on how often the probes ran.
"""
import math
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from sqlalchemy import BigInteger, and_, case, cast, func, select

from ..database import utcnow
from ..models.billing import MeteringRun, MeteringRunState, UsageRecord
from ..models.operations import PROBE_KIND_LABELS, ProbeResult, ProbeTarget
from ..text import _l
from . import sla
from .rating import RESOURCE_LABELS, base_type
from .resource_requests import get_request

MAX_DAYS = 31
MAX_POINTS = 200  # buckets per chart at most
# metered resource type -> (divisor from the stored unit, unit shown): vCPUs in 核, MiB shown as GB
USAGE_UNITS = {"vcpu": (1, _l("cores")), "ram": (1024, "GB"), "volume": (1, "GB"), "snapshot": (1, "GB"),
               "backup": (1, "GB"), "floating_ip": (1, _l("addresses"))}


def bucket_seconds(days):
    """Return the width of a chart's bucket: an hour, or more so that no chart has over MAX_POINTS."""
    return 3600 * max(1, math.ceil(days * 24 / MAX_POINTS))


def _buckets(start, end, width):
    first = int(start.timestamp()) // width * width
    return list(range(first, int(end.timestamp()), width))


def epoch_bucket(session, column, width):
    """SQL: the start, in epoch seconds, of the `width`-second bucket a UTC timestamp column falls in
    (counted by the database: a week of checks every minute is not read row by row)."""
    if session.get_bind().dialect.name == "sqlite":  # stored as UTC text
        seconds = cast(func.strftime("%s", column), BigInteger)
    else:
        seconds = cast(func.floor(func.extract("epoch", column)), BigInteger)
    return (seconds // width) * width


def availability(session, department_id, system_name, xs, width, start):
    """Return (availability series, response time series) per probe target of the system.

    A bucket's availability is the share of checks that passed, checks inside approved maintenance
    left out; a bucket without checks is null (a gap in the line, not an outage)."""
    targets = list(session.scalars(select(ProbeTarget).where(
        ProbeTarget.department_id == department_id, ProbeTarget.system_name == system_name)
        .order_by(ProbeTarget.name, ProbeTarget.id)))
    if not targets:
        return [], []
    checks = defaultdict(lambda: [[0, 0, 0, 0] for _ in xs])  # target id -> per bucket [ok, counted, ms, timed]
    bucket = epoch_bucket(session, ProbeResult.checked_at, width)
    counted = ProbeResult.in_maintenance.is_(False)
    timed = case((ProbeResult.ok.is_(True), ProbeResult.latency_ms), else_=None)
    rows = session.execute(
        select(ProbeResult.target_id, bucket,
               func.sum(case((and_(ProbeResult.ok.is_(True), counted), 1), else_=0)),
               func.sum(case((counted, 1), else_=0)), func.sum(timed), func.count(timed))
        .where(ProbeResult.target_id.in_([t.id for t in targets]), ProbeResult.checked_at >= start)
        .group_by(ProbeResult.target_id, bucket))
    for target_id, at, ok, count, ms, timed_count in rows:
        i = (int(at) - xs[0]) // width
        if 0 <= i < len(xs):
            checks[target_id][i] = [int(ok or 0), int(count or 0), int(ms or 0), int(timed_count or 0)]
    up, times = [], []
    for target in targets:
        label = str(_l("%(name)s (%(kind)s)", name=target.name, kind=str(PROBE_KIND_LABELS.get(target.kind, target.kind))))
        cells = checks.get(target.id) or [[0, 0, 0, 0] for _ in xs]
        up.append({"label": label, "values": [round(100 * c[0] / c[1], 2) if c[1] else None for c in cells]})
        times.append({"label": label, "values": [round(c[2] / c[3], 1) if c[3] else None for c in cells]})
    return up, times


def usage(session, department_id, system_id, xs, width, start, end):
    """Return {base resource type: series} of what the system held, averaged over each bucket.

    Metering records a quantity per interval; a metered interval without a record of a type held
    none of it (0), time no metering run covered is a gap (null)."""
    covered = [0] * len(xs)
    for r_start, r_end in session.execute(select(MeteringRun.interval_start, MeteringRun.interval_end).where(
            MeteringRun.state == MeteringRunState.OK, MeteringRun.interval_end > start,
            MeteringRun.interval_start < end)):
        _spread(covered, xs, width, r_start, r_end, 1)
    held = defaultdict(lambda: [0] * len(xs))
    for rtype, quantity, r_start, r_end in session.execute(
            select(UsageRecord.resource_type, UsageRecord.quantity, UsageRecord.interval_start,
                   UsageRecord.interval_end).where(
                UsageRecord.department_id == department_id, UsageRecord.system_id == system_id,
                UsageRecord.interval_end > start, UsageRecord.interval_start < end)):
        _spread(held[base_type(rtype)], xs, width, r_start, r_end, quantity)
    out = {}
    for kind in USAGE_UNITS:
        if kind not in held:
            continue
        divisor = USAGE_UNITS[kind][0]
        out[kind] = [round(h / c / divisor, 2) if c else None for h, c in zip(held[kind], covered)]
    return out


def _spread(cells, xs, width, start, end, weight):
    """Add weight × the seconds [start, end) spends in each bucket."""
    s, e = int(start.timestamp()), int(end.timestamp())
    first = max(0, (s - xs[0]) // width)
    for i in range(first, len(xs)):
        b_start, b_end = xs[i], xs[i] + width
        if b_start >= e:
            break
        overlap = min(e, b_end) - max(s, b_start)
        if overlap > 0:
            cells[i] += weight * overlap


def _chart(chart_id, title, unit, xs, series, *, y_max=None):
    return {"id": chart_id, "title": str(_l("%(title)s (%(unit)s)", title=str(title), unit=str(unit))),
            "unit": str(unit), "y_max": y_max, "x": xs, "series": series}


def month_availability(session, user, system, now):
    """Return this month's SLA figure of the system (0–100) or None when no probe watches it."""
    year, month = sla.current_month(now)
    for figure in sla.monthly_report(session, user, year, month, now):
        if figure.department_id == system.department_id and figure.system_name == system.system_name:
            return round(100 * figure.ratio, 3)
    return None


def system_charts(session, user, request_id, *, days=7, now=None):
    """Return the charts of the system a request belongs to, over the last `days` days (1–31)."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(days)
    request = get_request(session, user, request_id)  # NotFound: not the user's to see
    system = request if request.system_id is None else get_request(session, user, request.system_id)
    now = now or utcnow()
    width = bucket_seconds(days)
    xs = _buckets(now - timedelta(days=days), now, width)
    start = datetime.fromtimestamp(xs[0], timezone.utc)  # the first bucket's start
    up, times = availability(session, system.department_id, system.system_name, xs, width, start)
    charts = [_chart("availability", _l("Availability"), "%", xs, up, y_max=100),
              _chart("latency", _l("Response time"), _l("ms"), xs, times)]
    for kind, values in usage(session, system.department_id, system.id, xs, width, start, now).items():
        unit = USAGE_UNITS[kind][1]
        charts.append(_chart(f"usage-{kind}", RESOURCE_LABELS[kind], unit, xs,
                             [{"label": str(RESOURCE_LABELS[kind]), "values": values}]))
    return {"system_id": system.id, "system_name": system.system_name, "department_id": system.department_id,
            "days": days, "bucket_seconds": width, "timezone": "Asia/Shanghai",
            "month_availability": month_availability(session, user, system, now), "charts": charts}

"""SLA (可用率): availability per system per month = up time / (total time - approved maintenance).

Outage intervals are the [started_at, resolved_at) of the incidents of kind outage or degradation
(security and backup incidents do not count; started_at of a probe's incident is the first failing
check); time inside approved maintenance windows counts neither as outage nor as total.
"""
from datetime import datetime

from sqlalchemy import select

from ..database import utcnow
from ..models.accounts import Department
from ..models.operations import SLA_INCIDENT_KINDS, Incident, ProbeTarget
from ..schemas.operations import SlaFigure
from ..scoping import scoped
from ..workdays import CHINA
from .maintenance import approved_windows

def month_bounds(year, month):
    """Return the aware [start, end) of a calendar month in Beijing time."""
    start = datetime(year, month, 1, tzinfo=CHINA)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=CHINA)
    return start, end

def merge(intervals):
    """Return the union of (start, end) intervals as sorted, disjoint intervals."""
    out = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out

def subtract(intervals, holes):
    """Return the parts of disjoint intervals outside the disjoint holes."""
    out = []
    for start, end in intervals:
        cursor = start
        for h_start, h_end in holes:
            if h_end <= cursor or h_start >= end:
                continue
            if h_start > cursor:
                out.append((cursor, h_start))
            cursor = max(cursor, h_end)
        if cursor < end:
            out.append((cursor, end))
    return out

def minutes(intervals):
    return sum((end - start).total_seconds() for start, end in intervals) / 60

def clip(interval, start, end):
    return (max(interval[0], start), min(interval[1], end))

def system_figure(department, system_name, incidents, windows, start, end):
    """Compute one system's figure for [start, end) from its incidents and the approved windows."""
    maintenance = merge(clip((w.starts_at, w.ends_at), start, end) for w in windows
                        if any(d.id == department.id for d in w.departments)
                        and (not w.systems or system_name in w.systems))
    outages = merge(clip((i.started_at, i.resolved_at or end), start, end) for i in incidents)
    lost = subtract(outages, maintenance)
    return SlaFigure(department_id=department.id, department_name=department.name, system_name=system_name,
                     total_minutes=(end - start).total_seconds() / 60,
                     maintenance_minutes=minutes(maintenance), minutes_lost=minutes(lost),
                     incidents=len(incidents))

def monthly_report(session, user, year, month, now=None, *, every_department=False):
    """Return the SLA figures of every system user may see for a month (so far, if current).

    every_department=True is for /metrics and reports made by the system itself, not for people.
    """
    now = now or utcnow()
    start, end = month_bounds(year, month)
    end = min(end, max(start, now))
    targets = select(ProbeTarget) if every_department else scoped(select(ProbeTarget), user)
    systems = session.execute(
        targets.where(ProbeTarget.department_id.is_not(None))
        .with_only_columns(ProbeTarget.department_id, ProbeTarget.system_name).distinct()).all()
    if not systems:
        return []
    dept_ids = list({s[0] for s in systems})
    departments = {row.id: row for row in session.execute(
        select(Department.id, Department.name).where(Department.id.in_(dept_ids)))}
    windows_of = {}
    for window in approved_windows(session, start, end):
        for department in window.departments:
            windows_of.setdefault(department.id, []).append(window)
    by_system = {}
    for incident in session.scalars(select(Incident).where(
            Incident.department_id.in_(dept_ids), Incident.kind.in_(SLA_INCIDENT_KINDS), Incident.started_at < end,
            (Incident.resolved_at.is_(None)) | (Incident.resolved_at > start))):
        by_system.setdefault((incident.department_id, incident.system_name), []).append(incident)
    total = (end - start).total_seconds() / 60
    figures = []
    for dept_id, name in systems:
        department = departments[dept_id]
        incidents, windows = by_system.get((dept_id, name)), windows_of.get(dept_id)
        if not incidents and not windows:  # the common case: nothing happened this month
            figures.append(SlaFigure(department_id=dept_id, department_name=department.name, system_name=name,
                                      total_minutes=total, maintenance_minutes=0.0, minutes_lost=0.0,
                                      incidents=0))
        else:
            figures.append(system_figure(department, name, incidents or [], windows or [], start, end))
    return sorted(figures, key=lambda f: (f.department_name, f.system_name))


def current_month(now=None):
    local = (now or utcnow()).astimezone(CHINA)
    return local.year, local.month

def previous_month(year, month):
    return (year - 1, 12) if month == 1 else (year, month - 1)

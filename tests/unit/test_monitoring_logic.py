"""Pure logic of monitoring: SLA arithmetic, state tables, probe bookkeeping, aggregation."""
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace as NS

from portal.models.operations import IncidentState, MaintenanceState
from portal.services import incidents, maintenance
from portal.services.sla import merge, month_bounds, subtract, system_figure
from portal.workdays import CHINA

T0 = datetime(2026, 11, 1, tzinfo=CHINA)


def t(minutes):
    return T0 + timedelta(minutes=minutes)


def test_merge_and_subtract_intervals():
    assert merge([(t(5), t(10)), (t(0), t(6)), (t(20), t(30))]) == [(t(0), t(10)), (t(20), t(30))]
    assert subtract([(t(0), t(10))], [(t(2), t(4)), (t(8), t(20))]) == [(t(0), t(2)), (t(4), t(8))]
    assert subtract([(t(0), t(10))], []) == [(t(0), t(10))]


def test_month_bounds_are_beijing_months():
    start, end = month_bounds(2026, 12)
    assert start == datetime(2026, 12, 1, tzinfo=CHINA) and end == datetime(2027, 1, 1, tzinfo=CHINA)
    assert start.astimezone(timezone.utc).hour == 16  # 16:00 UTC of the day before


def test_sla_excludes_approved_maintenance_from_total_and_outage():
    dept = NS(id=1, name="甲局")
    start, end = t(0), t(1000)
    incidents_ = [NS(started_at=t(100), resolved_at=t(130)),   # 30 min, 10 inside the window
                  NS(started_at=t(900), resolved_at=None)]     # still open: until the end, 100 min
    windows = [NS(starts_at=t(120), ends_at=t(220), departments=[dept], systems=["办公系统"]),
               NS(starts_at=t(0), ends_at=t(50), departments=[NS(id=2)], systems=[]),  # other department
               NS(starts_at=t(500), ends_at=t(540), departments=[dept], systems=["另一个系统"])]
    fig = system_figure(dept, "办公系统", incidents_, windows, start, end)
    assert fig.total_minutes == 1000
    assert fig.maintenance_minutes == 100
    assert fig.minutes_lost == 20 + 100
    assert abs(fig.ratio - (900 - 120) / 900) < 1e-9


def test_sla_without_outage_is_one():
    dept = NS(id=1, name="甲局")
    assert system_figure(dept, "x", [], [], t(0), t(60)).ratio == 1.0


def test_state_tables_are_closed():
    for machine, states in ((incidents.INCIDENTS, IncidentState), (maintenance.WINDOWS, MaintenanceState)):
        assert {s for s, _a in machine.transitions} | set(machine.transitions.values()) == set(states)
    assert incidents.INCIDENTS.terminal() == {IncidentState.RESOLVED}
    assert maintenance.WINDOWS.next_state(MaintenanceState.SUBMITTED, "approve") == MaintenanceState.APPROVED
    assert maintenance.WINDOWS.terminal() == {MaintenanceState.REJECTED, MaintenanceState.CANCELLED}
    assert maintenance.WINDOWS.allowed_actions(MaintenanceState.REJECTED) == set()

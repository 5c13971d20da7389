"""The time to build a system's charts (charts.json: availability per probe and usage per resource),
with probes checking every minute: 7 and 31 days, 2 and 8 probe targets, on SQLite and PostgreSQL.
Prints the probe checks read and the p50 / max of 5 builds per case.

    python bench/system_charts.py [--backend sqlite|postgresql|both] [--runs 5]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta

from sqlalchemy import create_engine, insert, text
from sqlalchemy.orm import Session

HERE = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, HERE)

from bench.api_load import schema_url  # noqa: E402
from portal import migrate  # noqa: E402
from portal.database import utcnow  # noqa: E402
from portal.models.accounts import Department, User  # noqa: E402
from portal.models.billing import MeteringRun, UsageRecord  # noqa: E402
from portal.models.operations import ProbeResult, ProbeTarget  # noqa: E402
from portal.models.requests import ResourceRequest  # noqa: E402
from portal.services import charts  # noqa: E402

DAYS = 31  # of checks stored (the probes keep 40 days)


def seed(url, targets):
    """A department, its user and one system with `targets` probes checked every minute for DAYS days
    and hourly metering of three resource types. Returns (user id, system id, checks)."""
    engine = create_engine(url)
    now = utcnow().replace(second=0, microsecond=0)
    start = now - timedelta(days=DAYS)
    with Session(engine) as session:
        dept = Department(name="基准局", code="BENCH", level="city")
        session.add(dept)
        session.flush()
        user = User(username="bench", role="department", department_id=dept.id, password_hash="x")
        system = ResourceRequest(number="ZWY-BENCH-1", department_id=dept.id, system_name="基准系统",
                                 state="provisioned", spec={}, approved_spec={})
        session.add_all([user, system])
        session.flush()
        ids = []
        for n in range(targets):
            target = ProbeTarget(department_id=dept.id, system_name="基准系统", name=f"web-{n}", kind="tcp",
                                 settings={"host": "192.0.2.1", "port": 443})
            session.add(target)
            session.flush()
            ids.append(target.id)
        minutes = DAYS * 24 * 60
        for target_id in ids:
            rows = [dict(target_id=target_id, checked_at=start + timedelta(minutes=m), ok=m % 97 != 0,
                         latency_ms=10 + m % 7, in_maintenance=False, detail="") for m in range(minutes)]
            for i in range(0, len(rows), 5000):
                session.execute(insert(ProbeResult), rows[i:i + 5000])
        for h in range(DAYS * 24):
            run = MeteringRun(interval_start=start + timedelta(hours=h), interval_end=start + timedelta(hours=h + 1),
                              state="ok", resources=3)
            session.add(run)
            session.flush()
            for rtype, quantity in (("vcpu", 4), ("ram", 8192), ("volume:ssd", 100)):
                session.add(UsageRecord(run_id=run.id, department_id=dept.id, system_id=system.id,
                                        system_key=str(system.id), system_name="基准系统", resource_type=rtype,
                                        quantity=quantity, interval_start=run.interval_start,
                                        interval_end=run.interval_end))
        session.commit()
        result = user.id, system.id, minutes * targets
    engine.dispose()
    return result


def measure(url, user_id, system_id, days, runs):
    engine = create_engine(url)
    times = []
    with Session(engine) as session:
        user = session.get(User, user_id)
        for _ in range(runs):
            began = time.perf_counter()
            payload = charts.system_charts(session, user, system_id, days=days)
            times.append(time.perf_counter() - began)
            session.expire_all()
    engine.dispose()
    assert payload["charts"][0]["series"], "no availability series"
    return statistics.median(times), max(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    print(f"{'backend':<11} {'targets':>7} {'days':>4} {'checks read':>11} {'p50 ms':>8} {'max ms':>8}")
    for backend in backends:
        for targets in (2, 8):
            tmp, schema = None, None
            if backend == "sqlite":
                tmp = tempfile.mkdtemp(prefix="bench-charts-")
                url = f"sqlite:///{tmp}/bench.db"
            else:
                url, schema = schema_url()
            try:
                migrate.upgrade(url)
                user_id, system_id, _checks = seed(url, targets)
                for days in (7, 31):
                    p50, worst = measure(url, user_id, system_id, days, args.runs)
                    print(f"{backend:<11} {targets:>7} {days:>4} {targets * days * 1440:>11} "
                          f"{p50 * 1000:>8.1f} {worst * 1000:>8.1f}")
            finally:
                if schema:
                    engine = create_engine(url.split("?")[0])
                    with engine.begin() as conn:
                        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                    engine.dispose()


if __name__ == "__main__":
    main()

"""Benchmark /metrics: 5,000 servers in 200 departments seeded into the inventory snapshot.

Prints p50/p99 of a /metrics scrape (goal p99 <= 50 ms) and the API calls of collection cycles:
one real cycle against the dev cloud (when it is up) and the count for the seeded inventory, which
depends on pages of 1,000 items, not on the 200 projects.
"""
import math
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SERVERS, DEPARTMENTS, SCRAPES, PAGE = 5000, 200, 300, 1000


def main():
    from portal import create_app, migrate
    from portal.database import utcnow
    from portal.extensions import db
    from portal.models.accounts import Department
    from portal.models.operations import Incident, JobRun, ProbeTarget
    from monitoring.collector import store_snapshot

    tmp = tempfile.mkdtemp(prefix="govcloud-bench-")
    url = "sqlite:///" + os.path.join(tmp, "bench.db")
    os.environ["GOVCLOUD_INSTANCE_PATH"] = tmp
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "bench"})
    migrate.upgrade(url)
    rnd = random.Random(6)
    with app.app_context():
        session = db.session
        now = utcnow()
        depts = [Department(name=f"部门{i:03d}", code=f"D{i:03d}", level="city", openstack_project_id=f"p{i:03d}")
                 for i in range(DEPARTMENTS)]
        session.add_all(depts)
        session.flush()
        for i, d in enumerate(depts):  # two systems per department, a TCP and an SSH probe each
            for system in ("门户网站", "业务系统"):
                for kind in ("tcp", "ssh"):
                    session.add(ProbeTarget(department_id=d.id, system_name=system, name=kind, kind=kind,
                                            settings={}, last_ok=rnd.random() > 0.02, last_latency_ms=5,
                                            last_checked_at=now))
            if i % 10 == 0:
                session.add(Incident(department_id=d.id, system_name="门户网站", title="t", state="resolved",
                                     started_at=now - timedelta(hours=5), detected_at=now - timedelta(hours=5),
                                     resolved_at=now - timedelta(hours=4)))
        for job in ("run_probes", "collect_inventory", "deliver_notifications", "prune_history"):
            for k in range(50):
                session.add(JobRun(job_id=job, started_at=now - timedelta(minutes=k), duration_seconds=0.2,
                                   outcome="success"))
        statuses = ["ACTIVE"] * 90 + ["SHUTOFF"] * 8 + ["ERROR"] * 2
        inventory = {
            "servers": [{"id": f"s{n}", "project_id": f"p{n % DEPARTMENTS:03d}", "status": rnd.choice(statuses),
                         "vcpus": 4, "ram_mib": 8192} for n in range(SERVERS)],
            "volumes": [{"project_id": f"p{n % DEPARTMENTS:03d}", "status": "in-use", "size_gib": 100}
                        for n in range(SERVERS)],
            "floating_ips": [{"project_id": f"p{n % DEPARTMENTS:03d}", "status": "ACTIVE"} for n in range(1000)],
            "networks": [{"project_id": f"p{n:03d}"} for n in range(DEPARTMENTS)],
            "snapshots": [], "backups": [{"project_id": f"p{n % DEPARTMENTS:03d}", "status": "available",
                                          "created_at": now.timestamp() - 3600} for n in range(400)],
            "services": {"compute": 1, "volumev3": 1, "network": 1, "image": 1, "placement": 1, "identity": 1},
            "capacity": {"vcpus": {"used": 20000, "total": 40000}},
        }
        # Steady state (token and endpoint discovery done): Nova and Cinder follow a next link only
        # after a full page; Neutron and Glance ask once more after any non-empty page. Then the
        # compute services, and Placement: the provider list plus 2 calls per provider.
        def nova_cinder(n):
            return n // PAGE + 1 if n % PAGE == 0 and n else max(1, math.ceil(n / PAGE))

        def neutron_glance(n):
            return math.ceil(n / PAGE) + 1 if n else 1

        hypervisors = 50
        images = 20
        calls = (sum(nova_cinder(len(inventory[k])) for k in ("servers", "volumes", "snapshots", "backups"))
                 + sum(neutron_glance(len(inventory[k])) for k in ("networks", "floating_ips")) + neutron_glance(images)
                 + 1 + 1 + 2 * hypervisors)
        inventory["api_calls"] = calls
        session.commit()
        started = time.perf_counter()
        store_snapshot(session, inventory)
        aggregate_ms = (time.perf_counter() - started) * 1000

    client = app.test_client()
    body = client.get("/metrics").get_data()  # warm-up
    times, cpu = [], []
    for _ in range(SCRAPES):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get("/metrics")
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200
    times.sort()
    cpu.sort()
    lines = body.count(b"\n")
    p50 = statistics.median(times)
    p99 = times[int(len(times) * 0.99) - 1]
    print(f"/metrics with {SERVERS} servers in {DEPARTMENTS} departments, {4 * DEPARTMENTS} probe targets: "
          f"{len(body) / 1024:.0f} KiB, {lines} lines")
    print(f"  scrape latency over {SCRAPES} scrapes: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {times[-1]:.1f} ms "
          f"(goal p99 <= 50 ms)")
    print(f"  CPU time per scrape: p50 {statistics.median(cpu):.1f} ms, p99 {cpu[int(len(cpu) * 0.99) - 1]:.1f} ms; "
          f"load average during the run {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  storing the aggregated snapshot: {aggregate_ms:.0f} ms")
    print(f"  API calls of a collection cycle for this inventory (pages of {PAGE}, {hypervisors} resource "
          f"providers): {calls}, for any number of projects")
    real_cycle()


def real_cycle():
    """One real collection cycle against the dev cloud, when it answers."""
    try:
        from provisioner.cloud import Cloud
    except ImportError as exc:
        print(f"  real cycle: skipped ({exc})")
        return
    cloud = Cloud.from_config({})
    if not os.path.exists(cloud.clouds_yaml):
        print(f"  real cycle: no {cloud.clouds_yaml}; run `make devcloud`")
        return
    counts = []
    for _ in range(3):
        started = time.perf_counter()
        inventory = cloud.monitoring_inventory()
        counts.append((inventory["api_calls"], (time.perf_counter() - started) * 1000,
                       len(inventory["servers"]), len(inventory["volumes"])))
    cloud.close()
    print("  real collection cycles against the dev cloud: "
          + "; ".join(f"{c} API calls, {ms:.0f} ms, {s} servers, {v} volumes" for c, ms, s, v in counts))


if __name__ == "__main__":
    main()

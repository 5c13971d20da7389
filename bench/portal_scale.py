"""The portal at a city's scale: PostgreSQL (a schema of its own) seeded with 200 departments,
100,000 requests, 5,000 servers and 2,000,000 audit events, then 50 concurrent clients on the
bureau's review queue, the audit search, a department's home, the monthly report and exports;
the export of the whole audit log streams (peak RSS of the portal's workers printed before and after).

    python bench/portal_scale.py [--clients 50] [--seconds 20] [--events 2000000] [--requests 100000]
                                 [--servers 5000] [--departments 200] [--keep]

The data is made inside PostgreSQL (INSERT ... SELECT FROM generate_series: nothing crosses the
wire row by row); gunicorn runs as deployed (deploy/gunicorn.conf.py). Goal: p95 <= 200 ms on the
pages, the export's RSS flat.
"""
import argparse
import os
import sys
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

HERE = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "bench"))

from _common import Client, gunicorn, load, pg_schema, summary, worker_rss_kib  # noqa: E402
from portal import migrate  # noqa: E402
from portal.passwords import Passwords  # noqa: E402
from portal.services import reports  # noqa: E402
from portal.services.audit import RequestInfo  # noqa: E402

PASSWORD = "Bench-scale-2026!"
STATES = "{draft,submitted,under_review,approved,provisioned,delivered,rejected,returned,cancelled}"
ACTIONS = ("{request.create,request.submit,request.start_review,request.approve,request.finish,auth.login,"
           "cloud.create,cloud.set_quotas,backup.run,probe.state,request.return,request.reject}")
HOME_USERS = 10  # departments whose users log in (their homes differ)

SEED = [
    ("departments", """
INSERT INTO department (name, code, level, security_officer_name, security_officer_phone, it_lead_name,
                        it_lead_phone, it_lead_email, emergency_contact_name, emergency_contact_phone,
                        security_officer_email, emergency_contact_email, backup_contact_name,
                        backup_contact_phone, backup_contact_email, contacts_confirmed_by, created_at, updated_at)
SELECT '规模委办局' || g, 'S' || lpad(g::text, 4, '0'), 'city', '', '', '', '', '', '', '', '', '', '', '', '', '',
       now(), now()
FROM generate_series(1, :departments) g"""),
    ("users", """
INSERT INTO user_account (username, full_name, email, phone, role, department_id, is_department_admin,
                          password_hash, is_active_account, session_token, failed_login_count, created_at,
                          password_changed_at, last_login_addr, previous_login_addr, must_change_password)
SELECT u.name, u.name, '', '', u.role, u.dept, false, :hash, true, md5(u.name), 0, now(), now(), '', '', false
FROM (SELECT 'scale-dept-' || g AS name, 'department' AS role, (SELECT id FROM department ORDER BY id OFFSET g - 1 LIMIT 1) AS dept
      FROM generate_series(1, :home_users) g
      UNION ALL SELECT 'scale-bureau', 'bureau', NULL
      UNION ALL SELECT 'scale-auditor', 'auditor', NULL) u"""),
    ("requests", """
INSERT INTO resource_request (number, kind, department_id, state, version, system_name, purpose, project_ref,
                              security_level, construction_plan, reason, backup_confirmed, migration_note,
                              urgent, existing_system, spec, approved_spec, review_comment, failure_message,
                              resolution, created_at, state_changed_at, submitted_at, approved_at, provisioned_at)
SELECT 'ZWY-S-' || lpad(g::text, 6, '0'), CASE WHEN g % 10 = 0 THEN 'change' ELSE 'new' END,
       d.ids[1 + g % array_length(d.ids, 1)], (CAST(:states AS text[]))[1 + g % 9], 1, '规模系统' || g, '基准', '', 2, '', '',
       false, '', g % 50 = 0, false,
       '{"servers": [{"name": "app", "flavor": "m1.small", "image": "cirros", "count": 1}]}'::json,
       CASE WHEN g % 9 IN (3, 4, 5) THEN '{"servers": [{"name": "app", "flavor": "m1.small", "image": "cirros", "count": 1}]}'::json END,
       '', '', '', t, t, t + interval '1 hour',
       CASE WHEN g % 9 IN (3, 4, 5) THEN t + interval '1 day' END,
       CASE WHEN g % 9 IN (4, 5) THEN t + interval '1 day 2 hours' END
FROM generate_series(1, :requests) g,
     LATERAL (SELECT now() - (:requests - g) * interval '5 minutes' AS t) tt,
     (SELECT array_agg(id ORDER BY id) AS ids FROM department) d"""),
    ("servers", """
INSERT INTO cloud_resource (department_id, system_id, created_by_request_id, kind, key, name, openstack_id,
                            attributes, deleted, created_at, updated_at)
SELECT r.department_id, r.id, r.id, 'server', 'server:R' || r.id || '\\:app-1', 'gc-' || r.number || '-app-1',
       md5(r.id::text)::uuid::text,
       json_build_object('flavor', 'm1.small', 'image', 'cirros', 'vcpus', 1, 'ram', 2048,
                         'addresses', json_build_array(json_build_object('network', 'default', 'addr',
                                                       '10.0.' || (r.id / 250 % 250) || '.' || (r.id % 250), 'type', 'fixed'))),
       false, now(), now()
FROM (SELECT id, department_id, number FROM resource_request WHERE state IN ('provisioned', 'delivered')
      ORDER BY id DESC LIMIT :servers) r"""),
    ("audit events", """
INSERT INTO audit_event (occurred_at, actor_id, actor_username, actor_role, department_id, action, object_type,
                         object_id, after, outcome, request_id, remote_addr, detail)
SELECT now() - (:events - g) * interval '15 seconds', NULL, 'user' || (g % 300),
       CASE WHEN g % 7 = 0 THEN 'bureau' WHEN g % 11 = 0 THEN 'vendor' ELSE 'department' END,
       CASE WHEN g % 10 = 0 THEN NULL ELSE d.ids[1 + g % array_length(d.ids, 1)] END,
       (CAST(:actions AS text[]))[1 + g % 12], 'resource_request', (g % 100000)::text,
       json_build_object('number', 'ZWY-S-' || lpad((g % 100000)::text, 6, '0')),
       'success', md5(g::text), '10.1.' || (g % 250) || '.' || (g % 199), ''
FROM generate_series(1, :events) g, (SELECT array_agg(id ORDER BY id) AS ids FROM department) d"""),
]


def seed(url, args):
    """Fill the schema; print how long each part took."""
    engine = create_engine(url)
    params = {"departments": args.departments, "requests": args.requests, "servers": args.servers,
              "events": args.events, "home_users": HOME_USERS, "hash": Passwords().hash(PASSWORD),
              "states": STATES, "actions": ACTIONS}
    started = time.monotonic()
    for name, sql in SEED:
        t0 = time.monotonic()
        with engine.begin() as conn:
            # the big tables' secondary indexes are built once after the rows, not row by row
            table = sql.split("INSERT INTO ", 1)[1].split()[0]
            indexes = conn.execute(text(
                "SELECT c.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
                "WHERE x.indrelid = CAST(:t AS regclass) AND NOT x.indisprimary AND NOT x.indisunique"),
                {"t": table}).all()
            for index_name, _ in indexes:
                conn.execute(text(f'DROP INDEX "{index_name}"'))
            conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
            n = conn.execute(text(sql), params).rowcount
            for _, definition in indexes:
                conn.execute(text(definition))
        print(f"  seeded {n:>9,} {name:<13} {time.monotonic() - t0:6.1f} s", flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    print(f"  seeded in {time.monotonic() - started:.1f} s (with ANALYZE)", flush=True)
    engine.dispose()


def monthly_report(url):
    """Generate last month's report as the scheduler does; return (its id, seconds)."""
    engine = create_engine(url)
    year, month = reports.previous_month()
    with Session(engine) as session:
        t0 = time.monotonic()
        report = reports.generate(session, RequestInfo(), year, month, generated_by="bench")
        session.commit()
        took = time.monotonic() - t0
        report_id = report.id
    engine.dispose()
    return report_id, took


def scenario(name, clients, seconds, paths_for, think):
    """clients: logged-in Clients; paths_for(k, i) -> path. Print a line back to back (saturated) and
    one with think seconds between a client's requests."""
    def visit(k, i):
        status, _, _ = clients[k].request("GET", paths_for(k, i))
        return status
    for pause in (0.0, think):
        latencies, errors, wall = load(len(clients), seconds, visit, think=pause)
        print(f"  {name:<26} {'saturated' if not pause else f'think {pause:g} s':>10} "
              f"{summary(latencies, errors, wall)}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", 20)))
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--servers", type=int, default=5_000)
    parser.add_argument("--departments", type=int, default=200)
    parser.add_argument("--think", type=float, default=1.0, help="a client's pause between requests, second run")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args()
    print(f"portal_scale: {args.departments} departments, {args.requests:,} requests, {args.servers:,} servers, "
          f"{args.events:,} audit events; {args.clients} clients x {args.seconds} s per scenario; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    with pg_schema("scale") as (url, _schema):
        migrate.upgrade(url)
        seed(url, args)
        report_id, took = monthly_report(url)
        print(f"  monthly report generated     {took:.2f} s ({args.departments} departments)", flush=True)
        env = {"GOVCLOUD_TOTP_REQUIRED_ROLES": ""}
        with gunicorn(url, workers=args.workers, threads=args.threads, env=env) as (port, master):
            n = args.clients
            # one login per user (argon2 is slow on purpose), its cookies shared by that user's tabs
            bureau_login = Client(port).login("scale-bureau", PASSWORD)
            auditor_login = Client(port).login("scale-auditor", PASSWORD)
            home_logins = [Client(port).login(f"scale-dept-{1 + k}", PASSWORD) for k in range(HOME_USERS)]
            bureau = [bureau_login.tab() for _ in range(n)]
            auditor = [auditor_login.tab() for _ in range(n)]
            homes = [home_logins[k % HOME_USERS].tab() for k in range(n)]
            pages = args.requests // 9 * 2 // 20  # the submitted and under-review requests, 20 a page
            since = (datetime.now(timezone.utc) + timedelta(hours=8) - timedelta(days=40)).date().isoformat()
            until = (datetime.now(timezone.utc) + timedelta(hours=8) - timedelta(days=10)).date().isoformat()
            scenario("bureau: review queue", bureau, args.seconds,
                     lambda k, i: ["/reviews/", f"/reviews/?page={1 + (k * 7 + i) % pages}",
                                   "/reviews/?state=approved", "/requests/?state=submitted"][(k + i) % 4], args.think)
            scenario("auditor: audit search", auditor, args.seconds,
                     lambda k, i: ["/audit/", f"/audit/?department_id={1 + (k + i) % args.departments}",
                                   "/audit/?action=request.approve", f"/audit/?actor=user{(k + i) % 300}",
                                   f"/audit/?since={since}&until={until}&action=request.submit",
                                   f"/audit/?object_id={(k * 31 + i) % 100000}"][(k + i) % 6], args.think)
            scenario("department: home", homes, args.seconds, lambda k, i: "/", args.think)
            scenario("department: requests", homes, args.seconds,
                     lambda k, i: ["/requests/", "/requests/?page=3", "/audit/"][(k + i) % 3], args.think)
            scenario("monthly report", bureau, args.seconds,
                     lambda k, i: [f"/billing/reports/{report_id}", "/billing/reports",
                                   f"/billing/reports/{report_id}/export/csv"][(k + i) % 3], args.think)
            scenario("export: a month of a dept", auditor, args.seconds,
                     lambda k, i: f"/audit/export.csv?department_id={1 + (k + i) % args.departments}"
                                  f"&since={since}&until={until}", args.think)
            before = worker_rss_kib(master)
            t0 = time.monotonic()
            status, size = auditor[0].stream("/audit/export.csv")
            took = time.monotonic() - t0
            after = worker_rss_kib(master)
            print(f"  export: whole audit log      HTTP {status}, {size / 1e6:.0f} MB in {took:.1f} s "
                  f"({size / 1e6 / took:.1f} MB/s)", flush=True)
            print("  workers' RSS / peak RSS (MiB) before: "
                  + ", ".join(f"{r // 1024}/{p // 1024}" for r, p in before.values())
                  + "; after: " + ", ".join(f"{r // 1024}/{p // 1024}" for r, p in after.values()), flush=True)
            for c in bureau + auditor + homes:
                c.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

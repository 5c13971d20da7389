"""Load on the list pages and the API's list endpoints: 50 concurrent clients for 60 s against
gunicorn as deployed (deploy/gunicorn.conf.py: worker class, workers, threads) with 10,000 requests in
PostgreSQL; prints requests per second, p50/p95/p99 and errors, for the API and for the pages.

    python bench/api_load.py [--clients 50] [--seconds 60] [--requests 10000] [--workers N] [--threads N]
                             [--repo DIR]

Two runs: the clients back to back (the portal saturated: its throughput), then each pausing
--think seconds between requests (50 clients at about one request a second each). Half the
clients are API clients (bearer tokens: a department's user and the bureau), half are browsers
logged in (the department's request list, the bureau's review queue and request list). --repo runs
another checkout's portal (e.g. a worktree of an older commit) against the same data, for a
before/after comparison; the data is written by this checkout's models. Goal: p95 <= 200 ms.
"""
import argparse
import hashlib
import json
import os
import secrets
import sys
import threading
import time
from datetime import timedelta

from sqlalchemy import create_engine, insert

HERE = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "bench"))

from _common import Client, gunicorn, load, pg_schema, summary  # noqa: E402
from portal import migrate  # noqa: E402
from portal.database import utcnow  # noqa: E402
from portal.models.accounts import Department, User  # noqa: E402
from portal.models.requests import ApiToken, ResourceRequest  # noqa: E402
from portal.passwords import Passwords  # noqa: E402

STATES = ["draft", "submitted", "under_review", "approved", "provisioned", "delivered", "rejected", "returned"]
PASSWORD = "Bench-load-2026!"
API_PATHS = [("dept", "/api/v1/requests"), ("dept", "/api/v1/requests?state=submitted"),
             ("bureau", "/api/v1/requests"), ("bureau", "/api/v1/requests?kind=new&per_page=50"),
             ("bureau", "/api/v1/requests?page={middle}"), ("bureau", "/api/v1/requests?q=%E7%B3%BB%E7%BB%9F12")]
PAGE_PATHS = [("dept", "/requests/"), ("dept", "/requests/?state=submitted"), ("bureau", "/reviews/"),
              ("bureau", "/requests/"), ("bureau", "/requests/?page={middle}"), ("bureau", "/reviews/?state=approved")]


def seed(url, n):
    """n requests over 10 departments; a department user and a bureau user with a password and a
    read token each. Returns the tokens by user key."""
    engine = create_engine(url)
    now = utcnow()
    password_hash = Passwords().hash(PASSWORD)
    tokens = {}
    with engine.begin() as conn:
        dept_ids = []
        for i in range(10):
            dept_ids.append(conn.execute(insert(Department.__table__).values(
                name=f"委办局{i}", code=f"BENCH-{i}", level="city")).inserted_primary_key[0])
        users = {}
        for key, role, dept in (("dept", "department", dept_ids[0]), ("bureau", "bureau", None)):
            users[key] = conn.execute(insert(User.__table__).values(
                username=f"bench-{key}", full_name=key, role=role, department_id=dept, password_hash=password_hash,
                password_changed_at=now)).inserted_primary_key[0]
        rows = [{"number": f"ZWY-BENCH-{i:06d}", "kind": "new", "department_id": dept_ids[i % 10],
                 "state": STATES[i % len(STATES)], "version": 1, "system_name": f"系统{i}", "purpose": "基准",
                 "project_ref": "", "security_level": 2, "construction_plan": "", "reason": "",
                 "backup_confirmed": False, "migration_note": "", "urgent": i % 50 == 0, "spec": {},
                 "review_comment": "", "failure_message": "", "resolution": "", "created_at": now,
                 "state_changed_at": now, "submitted_at": now} for i in range(n)]
        for start in range(0, n, 2000):
            conn.execute(insert(ResourceRequest.__table__), rows[start:start + 2000])
        for key, user_id in users.items():
            plaintext = "gct_" + secrets.token_urlsafe(32)
            conn.execute(insert(ApiToken.__table__).values(
                user_id=user_id, name="bench", prefix=plaintext[:10], created_at=now, expires_at=now + timedelta(days=1),
                scope="read", token_hash=hashlib.sha256(plaintext.encode()).hexdigest()))
            tokens[key] = plaintext
    engine.dispose()
    return tokens


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", 60)))
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: deploy/gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: deploy/gunicorn.conf.py's)")
    parser.add_argument("--think", type=float, default=1.0,
                        help="seconds a client pauses between requests in the second run (the first: none)")
    parser.add_argument("--repo", default=HERE)
    args = parser.parse_args()
    middle = args.requests // 40
    with pg_schema() as (url, _schema):
        migrate.upgrade(url)
        tokens = seed(url, args.requests)
        env = {"GOVCLOUD_TOTP_REQUIRED_ROLES": ""}  # the bench users log in with the password alone
        with gunicorn(url, workers=args.workers, threads=args.threads, repo=args.repo, env=env) as (port, _pid):
            api = [Client(port, token=tokens[API_PATHS[k % len(API_PATHS)][0]]) for k in range(args.clients // 2)]
            browsers = [Client(port).login(f"bench-{PAGE_PATHS[k % len(PAGE_PATHS)][0]}", PASSWORD)
                        for k in range(args.clients - len(api))]

            def visit(k, i):
                if k < len(api):
                    _, path = API_PATHS[(k + i) % len(API_PATHS)]
                    status, _, body = api[k].request("GET", path.format(middle=middle))
                    if status == 200:
                        json.loads(body)
                    return ("api", status)
                k -= len(api)
                who = PAGE_PATHS[k % len(PAGE_PATHS)][0]
                paths = [p for w, p in PAGE_PATHS if w == who]
                status, _, _ = browsers[k].request("GET", paths[i % len(paths)].format(middle=middle))
                return ("page", status)

            latencies_by_kind = {"api": [], "page": []}
            errors_by_kind = {"api": {}, "page": {}}
            lock = threading.Lock()

            def timed(k, i):
                started = time.monotonic()
                kind, status = visit(k, i)
                with lock:
                    if status == 200:
                        latencies_by_kind[kind].append(time.monotonic() - started)
                    else:
                        errors_by_kind[kind][status] = errors_by_kind[kind].get(status, 0) + 1
                return status

            for c in api + browsers:  # warm: every worker has its connections and templates
                c.request("GET", "/healthz")
            results = []
            for think in (0.0, args.think):
                for kind in latencies_by_kind:
                    latencies_by_kind[kind].clear()
                    errors_by_kind[kind].clear()
                latencies, errors, wall = load(args.clients, args.seconds, timed, think=think)
                results.append((think, latencies, errors, wall, {k: list(v) for k, v in latencies_by_kind.items()},
                                {k: dict(v) for k, v in errors_by_kind.items()}))
            for c in api + browsers:
                c.close()
    print(f"api_load ({os.path.basename(os.path.abspath(args.repo))}): {args.clients} clients, "
          f"{args.requests} requests in PostgreSQL, gunicorn {args.workers or 'conf'} workers x "
          f"{args.threads or 'conf'} threads, load average {os.getloadavg()[0]:.1f}")
    for think, latencies, errors, wall, by_kind, errors_of in results:
        how = f"each client {think:g} s between requests" if think else "back to back (saturated)"
        print(f"  {how}, {wall:.0f} s:")
        print(f"    all:  {summary(latencies, errors, wall)}")
        for kind in ("api", "page"):
            print(f"    {kind + ':':5} {summary(by_kind[kind], errors_of[kind], wall)}")
    return 0 if all(r[1] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

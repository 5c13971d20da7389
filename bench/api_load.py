"""Load on the API's list endpoints: 50 concurrent clients for 60 s against gunicorn (2 workers) with
10,000 requests in PostgreSQL; prints requests per second, p50/p95/p99 and errors.

    python bench/api_load.py [--clients 50] [--seconds 60] [--requests 10000] [--workers 2] [--repo DIR]

--repo runs another checkout's portal (e.g. a worktree of an older commit) against the same data,
for a before/after comparison; the data is written by this checkout's models.
"""
import argparse
import hashlib
import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

HERE = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, HERE)

from portal import migrate  # noqa: E402
from portal.database import utcnow  # noqa: E402
from portal.models.accounts import Department, User  # noqa: E402
from portal.models.requests import ApiToken, ResourceRequest  # noqa: E402

PG_URL = os.environ.get("GOVCLOUD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/govcloud_test")
STATES = ["draft", "submitted", "under_review", "approved", "provisioned", "delivered", "rejected", "returned"]


def schema_url():
    """A fresh schema of its own in the test database."""
    base = make_url(PG_URL)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    url = base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    return url, schema


def seed(url, n):
    """n requests over 10 departments; a department user's and the bureau's token. Returns tokens."""
    engine = create_engine(url)
    now = utcnow()
    tokens = {}
    with engine.begin() as conn:
        dept_ids = []
        for i in range(10):
            dept_ids.append(conn.execute(insert(Department.__table__).values(
                name=f"委办局{i}", code=f"BENCH-{i}", level="city")).inserted_primary_key[0])
        users = {}
        for key, role, dept in (("dept", "department", dept_ids[0]), ("bureau", "bureau", None)):
            users[key] = conn.execute(insert(User.__table__).values(
                username=f"bench-{key}", full_name=key, role=role, department_id=dept, password_hash="x"
            )).inserted_primary_key[0]
        rows = [{"number": f"ZWY-BENCH-{i:06d}", "kind": "new", "department_id": dept_ids[i % 10],
                 "state": STATES[i % len(STATES)], "version": 1, "system_name": f"系统{i}", "purpose": "基准",
                 "project_ref": "", "security_level": 2, "construction_plan": "", "reason": "",
                 "backup_confirmed": False, "migration_note": "", "urgent": i % 50 == 0, "spec": {},
                 "review_comment": "", "failure_message": "", "resolution": "", "created_at": now,
                 "state_changed_at": now, "submitted_at": now} for i in range(n)]
        for start in range(0, n, 2000):
            conn.execute(insert(ResourceRequest.__table__), rows[start:start + 2000])
        columns = set(ApiToken.__table__.columns.keys())
        for key, user_id in users.items():
            plaintext = "gct_" + secrets.token_urlsafe(32)
            values = {"user_id": user_id, "name": "bench", "prefix": plaintext[:10],
                      "token_hash": hashlib.sha256(plaintext.encode()).hexdigest(), "created_at": now}
            if "expires_at" in columns:
                values.update(expires_at=now + timedelta(days=1), scope="read")
            conn.execute(insert(ApiToken.__table__).values(**values))
            tokens[key] = plaintext
    engine.dispose()
    return tokens


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def load(port, tokens, clients, seconds, pages):
    paths = [("dept", "/api/v1/requests"), ("dept", "/api/v1/requests?state=submitted"),
             ("bureau", "/api/v1/requests"), ("bureau", "/api/v1/requests?kind=new&per_page=50"),
             ("bureau", f"/api/v1/requests?page={pages // 2}"), ("bureau", "/api/v1/requests?q=系统12")]
    latencies, errors, lock = [], {}, threading.Lock()
    deadline = time.monotonic() + seconds

    def client(k):
        i = k
        while time.monotonic() < deadline:
            who, path = paths[i % len(paths)]
            i += 1
            started = time.monotonic()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", path.replace("系统12", "%E7%B3%BB%E7%BB%9F12"),
                             headers={"Authorization": f"Bearer {tokens[who]}"})
                resp = conn.getresponse()
                body = resp.read()
                conn.close()
                status = resp.status
                if status == 200:
                    json.loads(body)
            except Exception as exc:  # counted, not raised: the figure is how many
                status = type(exc).__name__
            elapsed = time.monotonic() - started
            with lock:
                if status == 200:
                    latencies.append(elapsed)
                else:
                    errors[status] = errors.get(status, 0) + 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, time.monotonic() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", 60)))
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repo", default=HERE)
    args = parser.parse_args()
    url, schema = schema_url()
    migrate.upgrade(url)
    tokens = seed(url, args.requests)
    port = free_port()
    instance = tempfile.mkdtemp(prefix="govcloud-bench-")
    env = dict(os.environ, GOVCLOUD_DATABASE_URL=url, GOVCLOUD_SECRET_KEY="bench", GOVCLOUD_INSTANCE_PATH=instance,
               PYTHONPATH=args.repo, GOVCLOUD_CLOUDS_YAML=os.path.join(HERE, ".devcloud", "clouds.yaml"))
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    log = open(os.path.join(instance, "gunicorn.log"), "wb")
    proc = subprocess.Popen([gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
                             "portal.wsgi:app"], cwd=args.repo, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(port, 60)
        latencies, errors, wall = load(port, tokens, args.clients, args.seconds, args.requests // 20)
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
        engine = create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
    done = len(latencies)
    q = statistics.quantiles(latencies, n=100) if done >= 2 else [float("nan")] * 99
    print(f"api_load ({os.path.basename(os.path.abspath(args.repo))}): {args.clients} clients, {wall:.0f} s, "
          f"{args.requests} requests in PostgreSQL, {args.workers} gunicorn workers: "
          f"{done / wall:.1f} req/s, p50 {q[49] * 1000:.0f} ms, p95 {q[94] * 1000:.0f} ms, "
          f"p99 {q[98] * 1000:.0f} ms, errors {sum(errors.values())} {errors or ''}")
    return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main())

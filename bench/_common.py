"""What the portal's load benchmarks share (not itself a benchmark: `make bench` skips `_*.py`):
a PostgreSQL schema of their own, gunicorn started as deployed (deploy/gunicorn.conf.py), logged-in
HTTP clients, and N clients for S seconds with their latencies."""
import http.client
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from urllib.parse import urlencode

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PG_URL = os.environ.get("GOVCLOUD_TEST_PG_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/govcloud_test"
GUNICORN_CONF = os.path.join(REPO, "deploy", "gunicorn.conf.py")
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


@contextmanager
def pg_schema(prefix="bench"):
    """Create the database when absent and a fresh schema in it; yield (url, schema); drop it after."""
    parsed = make_url(PG_URL)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}).scalar():
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    engine = create_engine(parsed, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    try:
        yield url, schema
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(url, *, workers=None, threads=None, repo=REPO, env=None):
    """Run the portal under gunicorn with the deployed settings on a free port; yield (port, pid)."""
    port = free_port()
    instance = tempfile.mkdtemp(prefix="govcloud-bench-")
    environ = dict(os.environ, GOVCLOUD_DATABASE_URL=url, GOVCLOUD_SECRET_KEY="bench", GOVCLOUD_INSTANCE_PATH=instance,
                   PYTHONPATH=repo, GOVCLOUD_CLOUDS_YAML=os.path.join(REPO, ".devcloud", "clouds.yaml"),
                   GOVCLOUD_BIND=f"127.0.0.1:{port}", PROMETHEUS_MULTIPROC_DIR=os.path.join(instance, "metrics"),
                   **(env or {}))
    if workers:
        environ["GOVCLOUD_WEB_WORKERS"] = str(workers)
    if threads:
        environ["GOVCLOUD_WEB_THREADS"] = str(threads)
    exe = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    log = open(os.path.join(instance, "gunicorn.log"), "wb")
    proc = subprocess.Popen([exe, "-c", GUNICORN_CONF, "portal.wsgi:app"], cwd=repo,
                            env=environ, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"gunicorn did not start: {open(log.name).read()[-2000:]}")
                time.sleep(0.2)
        yield port, proc.pid
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def worker_rss_kib(master_pid):
    """Return {pid: (VmRSS, VmHWM)} in KiB of gunicorn's worker processes."""
    out = {}
    children = f"/proc/{master_pid}/task/{master_pid}/children"
    for pid in open(children).read().split():
        fields = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status"))
        out[int(pid)] = (int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0]))
    return out


class Client:
    """One keep-alive HTTP connection with its cookies (a browser) or a bearer token (an API client)."""

    def __init__(self, port, token=None):
        self.port = port
        self.cookies = {}
        self.token = token
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        """Return (status, headers, body bytes); reconnects once when the server closed the connection."""
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise
        for cookie in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return resp.status, resp.headers, data

    def stream(self, path):
        """GET path reading the body in chunks; return (status, bytes read)."""
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        try:
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            size = 0
            while chunk := resp.read(1 << 16):
                size += len(chunk)
            return resp.status, size
        finally:
            conn.close()

    def login(self, username, password):
        status, _, body = self.request("GET", "/login")
        match = CSRF_RE.search(body.decode())
        assert status == 200 and match, (status, body[:300])
        form = urlencode({"username": username, "password": password,
                          "csrf_token": match.group(1) or match.group(2)})
        status, headers, body = self.request("POST", "/login", form,
                                             {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 302 and "/login" not in headers.get("Location", ""), (status, body[:500])
        return self

    def tab(self):
        """Another connection with this client's cookies (a second tab of the same browser)."""
        other = Client(self.port, self.token)
        other.cookies = dict(self.cookies)
        return other

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def load(clients, seconds, visit, think=0.0):
    """Run visit(client_index, i) -> HTTP status in `clients` threads for seconds, each client
    pausing think seconds on average (0.5-1.5 x) between its requests (0: back to back, the
    portal saturated); return (latencies of 200s, {status: count} of the others, wall seconds)."""
    pause = random.Random(7)
    latencies, errors, lock = [], {}, threading.Lock()
    deadline = time.monotonic() + seconds

    def run(k):
        i = 0
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                status = visit(k, i)
            except Exception as exc:  # counted, not raised: the figure is how many
                status = type(exc).__name__
            elapsed = time.monotonic() - started
            i += 1
            with lock:
                if status == 200:
                    latencies.append(elapsed)
                else:
                    errors[status] = errors.get(status, 0) + 1
                wait = think * pause.uniform(0.5, 1.5) if think else 0
            if wait:
                time.sleep(min(wait, max(0.0, deadline - time.monotonic())))

    threads = [threading.Thread(target=run, args=(k,)) for k in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, time.monotonic() - started


def summary(latencies, errors, wall):
    """One line: requests per second, p50/p95/p99 and errors."""
    if len(latencies) < 2:
        return f"{len(latencies)} answers, errors {sum(errors.values())} {errors or ''}"
    q = statistics.quantiles(latencies, n=100)
    return (f"{len(latencies) / wall:6.1f} req/s, p50 {q[49] * 1000:5.0f} ms, p95 {q[94] * 1000:5.0f} ms, "
            f"p99 {q[98] * 1000:5.0f} ms, errors {sum(errors.values())}{' ' + str(errors) if errors else ''}")

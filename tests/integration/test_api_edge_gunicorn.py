"""Issue 15 against a real gunicorn (2 workers, a 10 s worker timeout, PostgreSQL): the calls that
used to keep a worker busy past its timeout (a count of 10⁹ or 2⁶⁴ submitted, a review of 10⁹
servers, 12 MB bodies, 1 MB names) are answered with a 4xx, many at once, and gunicorn's log shows
no worker timed out or was restarted."""
import concurrent.futures
import http.client
import json
import os
import subprocess
import sys

import pytest

from portal.models.accounts import User
from portal.services.api_tokens import create_token
from portal.services.audit import RequestInfo
from tests.conftest import single_backend_app
from tests.integration.conftest import clouds_yaml
from tests.integration.monitoring_fixtures import free_port, wait_for_port
from tests.integration.test_api_edge import BODY, with_value

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def migrated_app(tmp_path_factory):
    yield from single_backend_app("postgresql", tmp_path_factory)


@pytest.fixture
def gunicorn(app, tmp_path):
    port = free_port()
    env = dict(os.environ, GOVCLOUD_DATABASE_URL=app.config["DATABASE_URL"], GOVCLOUD_SECRET_KEY="t",
               GOVCLOUD_INSTANCE_PATH=str(tmp_path), PYTHONPATH=REPO,
               GOVCLOUD_CRYPTO_KEY_FILE=app.config["CRYPTO_KEY_FILE"], GOVCLOUD_CLOUDS_YAML=str(clouds_yaml()),
               GOVCLOUD_PROJECT_GATE="false")  # the seeded requests name no project (the gate: test_projects_*)
    log_path = tmp_path / "gunicorn.log"
    log = open(log_path, "wb")
    exe = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    proc = subprocess.Popen([exe, "--bind", f"127.0.0.1:{port}", "--workers", "2", "--timeout", "10",
                             "portal.wsgi:app"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, 60)
        yield f"http://127.0.0.1:{port}", log_path
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def call(base, method, path, token, body=None, raw=None):
    """Send one call; a server that answers 413 before the whole body is sent may close the
    connection under the client: its answer is still read."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    conn = http.client.HTTPConnection(base.split("//")[1], timeout=30)
    try:
        try:
            conn.request(method, path, body=data, headers={"Authorization": f"Bearer {token}",
                                                           "Content-Type": "application/json"})
        except (BrokenPipeError, ConnectionResetError):
            pass
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")
    finally:
        conn.close()


def test_absurd_calls_to_a_real_gunicorn_time_out_no_worker(app, seed, gunicorn):
    from portal.extensions import db
    base, log_path = gunicorn
    with app.app_context():
        tokens = {}
        for key in ("dept", "bureau"):
            user = db.session.get(User, seed.user_ids[key])
            tokens[key] = create_token(db.session, RequestInfo(actor=user), user, "edge", scope="write", days=1)[1]
    status, created = call(base, "POST", "/api/v1/requests", tokens["dept"], {**BODY, "submit": True})
    assert status == 201, created
    review = f"/api/v1/requests/{created['id']}/review"
    total = call(base, "GET", "/api/v1/requests?per_page=100", tokens["dept"])[1]["total"]
    count = ("spec", "servers", 0, "count")
    calls = [("POST", "/api/v1/requests", "dept", with_value({**BODY, "submit": True}, count, n), None)
             for n in (10 ** 9, 2 ** 64, 10 ** 18, 10 ** 6)] * 4
    calls += [("POST", review, "bureau", {"decision": "approve", "counts": {"web": n}}, None)
              for n in (10 ** 9, 10 ** 6, 999_999)] * 4
    calls += [("POST", "/api/v1/requests", "dept", None, b'{"system_name": "' + b"x" * (12 * 1024 * 1024) + b'"}'),
              ("POST", "/api/v1/requests", "dept", {**BODY, "system_name": "名" * 1_000_000}, None)] * 2
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda c: call(base, c[0], c[1], tokens[c[2]], c[3], c[4]), calls))
    statuses = sorted({status for status, _body in results})
    assert set(statuses) <= {413, 422}, statuses
    assert [s for s, _b in results].count(413) >= 4
    status, page = call(base, "GET", "/api/v1/requests?per_page=100", tokens["dept"])
    assert status == 200 and page["total"] == total  # nothing stored
    text = log_path.read_text(errors="replace")
    assert "WORKER TIMEOUT" not in text and "Worker exiting" not in text, text[-3000:]
    assert text.count("Booting worker") == 2, text[-3000:]  # none restarted

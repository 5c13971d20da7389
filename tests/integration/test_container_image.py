"""The image from the Dockerfile, as an operator builds and runs it (deploy/, issue 21): built with
Debian's podman on a Debian base made by debootstrap (no registry here: ARG BASE, cached in
~/.cache/govcloud by deploy/container/base-image.sh), run with --network host against PostgreSQL.
The container migrates an empty database (`govcloud db upgrade`, as its CMD does) and gunicorn, from
deploy/gunicorn.conf.py, serves /healthz and the login page as the unprivileged user govcloud."""
import os
import subprocess
import time
import urllib.request
import uuid

import pytest
from sqlalchemy import create_engine, text

from portal import migrate
from tests.conftest import database_url_for

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMAGE = "localhost/govcloud:test"
# this kernel's cgroups (hybrid) and sandbox (no raising of rlimits): /work/shared/deploy/NOTES.md
PODMAN = ["podman", "--cgroup-manager=cgroupfs", "--runtime", "/usr/sbin/runc"]
ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"]
CA = "/etc/ssl/certs"


def run(args, timeout):
    result = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(args)}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def image():
    """Build the image (layers reused from an earlier run while the lock is unchanged)."""
    base = run([os.path.join(REPO, "deploy", "container", "base-image.sh")], 900).strip().splitlines()[-1]
    run([*PODMAN, "build", "--network", "host", *ULIMITS, "-v", f"{CA}:{CA}:ro",
         "--build-arg", f"BASE={base}", "--build-arg", f"PIP_CERT={CA}/ca-certificates.crt",
         "-t", IMAGE, "-f", "Dockerfile", "."], 1800)
    return IMAGE


@pytest.fixture
def pg(tmp_path_factory):
    url, drop = database_url_for("postgresql", tmp_path_factory)
    yield url
    drop()


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.status, resp.read().decode()


def test_the_image_migrates_postgresql_and_serves_the_portal(image, pg, tmp_path):
    clouds = tmp_path / "clouds.yaml"   # readable by the container's user (uid 10001)
    clouds.write_text("clouds:\n  govcloud:\n    auth: {auth_url: 'http://127.0.0.1:5000/v3'}\n")
    clouds.chmod(0o644)
    port = free_port()
    name = f"govcloud-test-{uuid.uuid4().hex[:8]}"
    run([*PODMAN, "run", "-d", "--name", name, "--network", "host", *ULIMITS,
         "-v", f"{clouds}:/etc/govcloud/clouds.yaml:ro",
         "-e", f"GOVCLOUD_DATABASE_URL={pg}", "-e", "GOVCLOUD_SECRET_KEY=container-test",
         "-e", "GOVCLOUD_CLOUDS_YAML=/etc/govcloud/clouds.yaml", "-e", "GOVCLOUD_CLOUD=govcloud",
         "-e", f"GOVCLOUD_BIND=127.0.0.1:{port}", "-e", "GOVCLOUD_WEB_WORKERS=1", image], 120)
    try:
        deadline = time.monotonic() + 180
        status = None
        while time.monotonic() < deadline:
            try:
                status, body = get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                state = run([*PODMAN, "inspect", "-f", "{{.State.Status}}", name], 30).strip()
                assert state == "running", run([*PODMAN, "logs", name], 30)
                time.sleep(1)
        # answering on GOVCLOUD_BIND's port: the CMD names no port, deploy/gunicorn.conf.py was read
        assert status == 200, run([*PODMAN, "logs", name], 30)
        status, body = get(f"http://127.0.0.1:{port}/login")
        assert status == 200 and 'name="password"' in body and 'name="csrf_token"' in body
        # the container's own migration brought the empty schema to the head revision
        engine = create_engine(pg)
        with engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        engine.dispose()
        assert version == migrate.head_revision()
        # not root, and the same image carries the other entrypoints
        assert run([*PODMAN, "exec", name, "id", "-u"], 30).strip() == "10001"
        assert "worker" in run([*PODMAN, "exec", name, "govcloud", "--help"], 60)
    finally:
        subprocess.run([*PODMAN, "rm", "-f", name], capture_output=True, timeout=60)

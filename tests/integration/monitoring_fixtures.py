"""Real services for the monitoring tests: sshd, a TCP service, an SMTP sink, a webhook sink."""
import http.server
import json
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc, wait=10):
    """Terminate a helper process (kill it when it does not end within wait seconds)."""
    proc.terminate()
    try:
        proc.wait(wait)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def wait_for_port(port, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def wait_until(what, fn, timeout=60, every=0.5):
    """Return fn()'s first truthy answer; fail naming what (and the last answer) after timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout} s (last answer {last!r})")


class TcpService:
    """A TCP listener the test can stop and start again on the same port."""

    def __init__(self):
        self.port = free_port()
        self.sock = None
        self.thread = None

    def start(self):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(16)
        self.sock = sock

        def serve():
            while True:
                try:
                    conn, _ = sock.accept()
                except OSError:
                    return
                conn.close()
        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()

    def stop(self):
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()
            self.thread.join(5)
            self.sock = None


@pytest.fixture
def tcp_service():
    service = TcpService()
    service.start()
    yield service
    service.stop()


@pytest.fixture
def sshd(tmp_path):
    """A real OpenSSH server on a free loopback port: host key and user key generated for the test."""
    if os.geteuid() != 0:
        pytest.fail("the sshd test runs sshd as root (its privilege separation needs it)")
    if not Path("/usr/sbin/sshd").exists():
        pytest.fail("/usr/sbin/sshd is missing: run `make sysdeps` (Debian openssh-server)")
    d = tmp_path / "sshd"
    d.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "host_key")], check=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "user_key")], check=True)
    (d / "authorized_keys").write_text((d / "user_key.pub").read_text())
    os.chmod(d / "authorized_keys", 0o600)
    port = free_port()
    config = d / "sshd_config"
    config.write_text(f"""ListenAddress 127.0.0.1
Port {port}
HostKey {d / 'host_key'}
PidFile {d / 'sshd.pid'}
AuthorizedKeysFile {d / 'authorized_keys'}
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
LogLevel ERROR
""")
    os.makedirs("/run/sshd", exist_ok=True)
    log = open(d / "sshd.log", "wb")
    proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(config), "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port)
        host_key = " ".join((d / "host_key.pub").read_text().split()[:2])
        yield {"host": "127.0.0.1", "port": port, "username": "root", "key_path": str(d / "user_key"),
               "host_key": host_key, "proc": proc}
    finally:
        stop(proc)
        log.close()


@pytest.fixture
def smtp_sink():
    """An aiosmtpd server on 127.0.0.1 that keeps the messages it receives."""
    from aiosmtpd.controller import Controller

    class Handler:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                                  "data": envelope.content.decode("utf-8", "replace")})
            return "250 OK"

    handler = Handler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.port = port
    yield handler
    controller.stop()


@pytest.fixture
def webhook_sink():
    """A local HTTP server that keeps the JSON bodies POSTed to it."""
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_address[1]}/hook", "received": received}
    server.shutdown()
    server.server_close()

"""Availability checks, one function per probe kind; each returns a CheckOutcome and never raises
for the failures it is there to find (refused, timed out, wrong status, bad host key)."""
import socket
import time
import urllib.error
import urllib.request

import paramiko

from portal.services.probes import CheckOutcome
from provisioner.ssh import SSHError, pinned_client


def _ms(started):
    return int((time.monotonic() - started) * 1000)


def check_tcp(host, port, timeout=5.0):
    """Open and close a TCP connection to host:port."""
    started = time.monotonic()
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except OSError as exc:
        return CheckOutcome(ok=False, latency_ms=_ms(started), detail=f"tcp {host}:{port}: {exc}")
    return CheckOutcome(ok=True, latency_ms=_ms(started))


def check_http(url, timeout=5.0):
    """GET url (an OpenStack API endpoint's version document); any answer below 500 is up."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            status = resp.status
    except urllib.error.HTTPError as exc:
        status = exc.code  # 300 (version list) and 401 (needs a token) mean the service answers
    except OSError as exc:
        return CheckOutcome(ok=False, latency_ms=_ms(started), detail=f"GET {url}: {exc}")
    if status >= 500:
        return CheckOutcome(ok=False, latency_ms=_ms(started), detail=f"GET {url}: HTTP {status}")
    return CheckOutcome(ok=True, latency_ms=_ms(started))


def check_ssh(host, port, username, key_path, host_key, command, timeout=10.0):
    """Log in with a key, the server's host key pinned (unknown or changed keys are rejected),
    run command and expect exit status 0."""
    started = time.monotonic()
    try:
        client = pinned_client(host, port, host_key)
    except SSHError as exc:
        return CheckOutcome(ok=False, latency_ms=_ms(started), detail=f"ssh {host}:{port}: {exc}")
    try:
        client.connect(host, port=int(port), username=username, key_filename=key_path, timeout=timeout,
                       banner_timeout=timeout, auth_timeout=timeout, allow_agent=False, look_for_keys=False)
        _stdin, stdout, stderr = client.exec_command(command, timeout=timeout)
        status = stdout.channel.recv_exit_status()
        if status != 0:
            err = stderr.read(200).decode("utf-8", "replace").strip()
            return CheckOutcome(ok=False, latency_ms=_ms(started),
                                detail=f"ssh {host}:{port} `{command}` exit {status}: {err}")
    except (OSError, paramiko.SSHException) as exc:
        return CheckOutcome(ok=False, latency_ms=_ms(started),
                            detail=f"ssh {host}:{port}: {type(exc).__name__}: {exc}")
    finally:
        client.close()
    return CheckOutcome(ok=True, latency_ms=_ms(started))


def check_server_status(server_id, statuses):
    """Look the server up in the collector's status map: ACTIVE is up."""
    status = statuses.get(server_id)
    if status is None:
        return CheckOutcome(ok=False, detail=f"server {server_id} not found in the inventory")
    if status != "ACTIVE":
        return CheckOutcome(ok=False, detail=f"server {server_id} is {status}")
    return CheckOutcome(ok=True)


def run_check(target, *, server_statuses=None, timeout=5.0):
    """Run the check of target's kind with its settings."""
    s = target.settings
    if target.kind == "tcp":
        return check_tcp(s["host"], s["port"], timeout)
    if target.kind == "openstack_api":
        return check_http(s["url"], timeout)
    if target.kind == "ssh":
        return check_ssh(s["host"], s["port"], s["username"], s["key_path"], s["host_key"], s["command"],
                         timeout * 2)
    if target.kind == "server_status":
        return check_server_status(s["server_id"], server_statuses or {})
    return CheckOutcome(ok=False, detail=f"unknown probe kind {target.kind}")

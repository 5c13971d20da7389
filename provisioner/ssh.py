"""Run one command on a host over SSH with paramiko: key login, the host key pinned."""
import base64
import io
import time
from dataclasses import dataclass

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

MAX_OUTPUT = 64 * 1024


class SSHError(Exception):
    """The connection, the login or the host key check failed."""


@dataclass
class CommandResult:
    exit_status: int
    stdout: str
    stderr: str
    seconds: float


def new_keypair(comment):
    """Return (private key in OpenSSH PEM, public key line) of a fresh Ed25519 key."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    return private, f"{public} {comment}"


def pinned_client(host, port, host_key_line):
    """Return an SSHClient that accepts exactly the pinned host key and rejects any other."""
    parts = host_key_line.split()
    if len(parts) < 2:
        raise SSHError("the host key must be '<type> <base64>'")
    try:
        key = paramiko.PKey.from_type_string(parts[0], base64.b64decode(parts[1]))
    except (ValueError, paramiko.SSHException) as exc:
        raise SSHError(f"unreadable host key: {exc}") from None
    client = paramiko.SSHClient()
    name = host if int(port) == 22 else f"[{host}]:{port}"
    client.get_host_keys().add(name, key.get_name(), key)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    return client


def run_command(host, port, username, private_key_pem, host_key_line, command, timeout=20.0):
    """Log in with the given private key and run command; return its exit status and output."""
    started = time.monotonic()
    client = pinned_client(host, port, host_key_line)
    try:
        pkey = paramiko.Ed25519Key.from_private_key(io.StringIO(private_key_pem))
        client.connect(host, port=int(port), username=username, pkey=pkey, timeout=timeout,
                       banner_timeout=timeout, auth_timeout=timeout, allow_agent=False,
                       look_for_keys=False)
        _stdin, stdout, stderr = client.exec_command(command, timeout=timeout)
        out = stdout.read(MAX_OUTPUT).decode("utf-8", "replace")
        err = stderr.read(MAX_OUTPUT).decode("utf-8", "replace")
        status = stdout.channel.recv_exit_status()
    except (OSError, paramiko.SSHException) as exc:
        raise SSHError(f"ssh {username}@{host}:{port}: {type(exc).__name__}: {exc}") from None
    finally:
        client.close()
    return CommandResult(status, out, err, time.monotonic() - started)

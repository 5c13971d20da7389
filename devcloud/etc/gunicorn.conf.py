"""Gunicorn settings shared by every dev-cloud API (one worker, threads)."""
import os
import shlex
import sys

bind = os.environ["DEVCLOUD_BIND"]
workers = 1
worker_class = "gthread"
threads = 8
timeout = 300
graceful_timeout = 10
# Longer than any client's idle reuse of a connection: a 2 s default races with polling loops.
keepalive = 75
# Nova asks Neutron for the ports of up to 150 servers in one GET (~7 KB of URL).
limit_request_line = 16384
limit_request_field_size = 16384


def post_fork(server, worker):
    # nova, cinder and neutron parse sys.argv with oslo.config: give them their own.
    sys.argv = [os.environ.get("DEVCLOUD_PROG", "wsgi")] + shlex.split(
        os.environ.get("DEVCLOUD_ARGV", ""))

"""A fault-injecting HTTP proxy between openstacksdk and the dev cloud (test helper, stdlib only).

One local port per upstream service root (Keystone, Nova, Neutron, Cinder, Glance, Placement). Every
response body has the upstream roots rewritten to the proxy's, so the Keystone catalog (and every
link) sends the client back through the proxy: a clouds.yaml whose auth_url is the Keystone port is
all a client needs (`write_clouds_yaml`).

At `rate`, a request meets one fault, chosen evenly among:
  503          answered 503 without reaching the cloud
  drop_before  the connection is closed without an answer, the cloud never saw the request
  drop_after   the cloud did the work, then the connection is closed: the client never hears
  delay        the answer comes 0.2-1.5 s late
`force` adds faults for chosen calls; `stats` counts the faults by kind and method.
"""
import http.client
import random
import re
import socket
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

FAULTS = ("503", "drop_before", "drop_after", "delay")
HOP_HEADERS = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
               "content-length", "host"}


class FaultProxy:
    """Forward each of `upstreams` (roots like http://127.0.0.1:8774) through a local port with faults."""

    def __init__(self, upstreams, rate=0.1, seed=None, faults=FAULTS):
        self.rate = rate
        self.faults = tuple(faults)
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.forced = []  # [fault, method, path regex, how many more times]
        self.stats = Counter()
        self.requests = 0
        self.servers = {}  # upstream root -> server
        for root in sorted({u.rstrip("/") for u in upstreams}):
            server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler(root))
            server.daemon_threads = True
            self.servers[root] = server
        self.routes = {root: f"http://127.0.0.1:{s.server_address[1]}" for root, s in self.servers.items()}
        self._rewrite = re.compile("|".join(re.escape(r) + r"(?![0-9])" for r in self.routes).encode())
        self._threads = []

    def start(self):
        for server in self.servers.values():
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self):
        for server in self.servers.values():
            server.shutdown()
            server.server_close()

    def url(self, upstream):
        """Return the proxy's URL for an upstream URL (same path)."""
        parts = urlsplit(upstream)
        root = f"{parts.scheme}://{parts.netloc}"
        return self.routes[root] + upstream[len(root):]

    def rewrite(self, body):
        return self._rewrite.sub(lambda m: self.routes[m.group(0).decode()].encode(), body)

    def force(self, fault, method, path, times=1):
        """Give the next `times` requests of method whose path matches the regex `path` this fault
        (on top of the random ones), e.g. force("drop_after", "POST", r"/servers$")."""
        with self.lock:
            self.forced.append([fault, method, re.compile(path), times])

    def choose(self, method, path=""):
        """Return the fault for the next request (None for a clean pass) and count it."""
        with self.lock:
            self.requests += 1
            fault = self.random.choice(self.faults) if self.random.random() < self.rate else None
            for rule in self.forced:
                if rule[3] > 0 and rule[1] == method and rule[2].search(path):
                    rule[3] -= 1
                    fault = rule[0]
                    break
            if fault:
                self.stats[fault] += 1
                self.stats[f"{fault} {method}"] += 1
            delay = self.random.uniform(0.2, 1.5)
        return fault, delay

    def _handler(self, root):
        proxy = self
        target = urlsplit(root)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _drop(self):
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

            def _forward(self, body):
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=300)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
                    headers["Host"] = target.netloc
                    conn.request(self.command, self.path, body=body, headers=headers)
                    response = conn.getresponse()
                    return response.status, response.reason, response.getheaders(), response.read()
                finally:
                    conn.close()

            def _answer(self, status, reason, headers, body):
                body = proxy.rewrite(body)
                self.send_response(status, reason)
                for key, value in headers:
                    if key.lower() not in HOP_HEADERS:
                        self.send_header(key, proxy.rewrite(value.encode("latin-1")).decode("latin-1"))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                fault, delay = proxy.choose(self.command, self.path)
                if fault == "503":
                    return self._answer(503, "Service Unavailable", [("Content-Type", "application/json")],
                                        b'{"message": "fault proxy: service unavailable"}')
                if fault == "drop_before":
                    return self._drop()
                status, reason, headers, data = self._forward(body)
                if fault == "drop_after":
                    return self._drop()
                if fault == "delay":
                    threading.Event().wait(delay)
                return self._answer(status, reason, headers, data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

        return Handler


def catalog_roots(conn):
    """Return the roots (scheme://host:port) of every endpoint in conn's Keystone catalog."""
    access = conn.session.auth.get_access(conn.session)
    roots = {conn.session.auth.auth_url}
    for service in access.service_catalog.catalog:
        for endpoint in service.get("endpoints", []):
            roots.add(endpoint["url"])
    return {f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" for u in roots}


def write_clouds_yaml(path, source, proxy, cloud="devcloud"):
    """Write a copy of the clouds.yaml at source whose auth_url goes through the proxy."""
    with open(source, encoding="utf-8") as fh:
        text = fh.read()
    auth_url = re.search(r"auth_url:\s*(\S+)", text).group(1)
    text = text.replace(auth_url, proxy.url(auth_url))
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return str(path)

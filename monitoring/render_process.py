"""The database families of /metrics rendered in a process of their own.

A rendering at 50,000 servers is a few hundred milliseconds of pure Python; in a thread of the web
worker it holds the interpreter lock that the scrapes need, so a scrape's time grew with the fleet
whenever a rendering ran. Here a child process (one per web worker, started at the first rendering,
ended with its parent) renders the text and its gzip; the worker only receives the bytes, and waits
for them without the lock.
"""
import gzip
import logging
import multiprocessing
import threading

log = logging.getLogger(__name__)

OK, FAILED = b"ok", b"failed"


def _serve(conn, database_url, crypto_settings):
    """The child: render on each request until the parent goes away."""
    from monitoring.metrics import DatabaseCollector, render_families
    from portal.crypto import keyring
    from portal.database import make_engine
    keyring.configure_from_settings(crypto_settings, create=False)  # the rows it reads have sealed fields
    engine = make_engine(database_url)
    collector = DatabaseCollector(engine)
    while True:
        try:
            conn.recv_bytes()
        except (EOFError, OSError):  # the web worker ended
            engine.dispose()
            return
        try:
            body = render_families(collector.collect())
        except Exception as exc:  # the database is away: the worker keeps its previous bytes
            conn.send_bytes(FAILED)
            conn.send_bytes(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".encode())
            continue
        conn.send_bytes(OK)
        conn.send_bytes(body)
        conn.send_bytes(gzip.compress(body, compresslevel=6, mtime=0))


class RenderError(RuntimeError):
    """The render process could not render (its message says why)."""


class RenderProcess:
    """The parent's handle: render() returns (text, gzip) from the child, starting it when needed."""

    def __init__(self, settings):
        self.database_url = settings["DATABASE_URL"]
        self.crypto_settings = {k: v for k, v in settings.items() if k.startswith("CRYPTO_")}
        self._lock = threading.Lock()
        self._process = None
        self._conn = None
        self.started = 0  # processes started (a dead one is replaced at the next rendering)

    def _start(self):
        context = multiprocessing.get_context("spawn")  # no copy of a web worker's threads and sockets
        parent, child = context.Pipe()
        process = context.Process(target=_serve, args=(child, self.database_url, self.crypto_settings), name="govcloud-metrics-render",
                                  daemon=True)
        process.start()
        child.close()
        self._process, self._conn = process, parent
        self.started += 1

    def render(self):
        with self._lock:
            if self._process is None or not self._process.is_alive():
                if self._process is not None:
                    log.warning("metrics: the render process ended (exit code %s); starting another",
                                self._process.exitcode)
                    self._conn.close()
                self._start()
            try:
                self._conn.send_bytes(b"render")
                status = self._conn.recv_bytes()
                first = self._conn.recv_bytes()
                if status != OK:
                    raise RenderError(first.decode(errors="replace"))
                return first, self._conn.recv_bytes()
            except (EOFError, OSError) as exc:  # it died mid-answer: the next rendering starts another
                self._process.join(timeout=1)
                raise RenderError(f"the render process ended: {exc!r}") from None

    def close(self):
        with self._lock:
            if self._conn is not None:
                self._conn.close()
            if self._process is not None:
                self._process.join(timeout=5)
                if self._process.is_alive():
                    self._process.terminate()
            self._process = self._conn = None

    @property
    def pid(self):
        return self._process.pid if self._process is not None and self._process.is_alive() else None


def usable(database_url):
    """A database another process can open (not an in-memory SQLite)."""
    url = str(database_url or "")
    return bool(url) and url not in ("sqlite://", "sqlite:///:memory:") and ":memory:" not in url

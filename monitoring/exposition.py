"""The /metrics answer rendered once per cycle (and on change), served as cached bytes.

A scrape never renders: it takes the bytes (and their gzip, compressed once at render time) of the
last rendering. A rendering starts in a background thread when the bytes are older than the cycle
(METRICS_RENDER_SECONDS) or when this process has committed a change to the database (while
changes keep coming, at most every CHANGE_GAP_SECONDS); until it ends, scrapes get the previous bytes. Only the very first scrape of a process waits for a rendering.
A cycle of 0 renders at every scrape (the tests that check a value right after changing it).
The database's part of a rendering may come from another process (monitoring/render_process.py).
"""
import gzip
import threading
import time
import weakref

from sqlalchemy import event
from sqlalchemy.orm import Session


CHANGE_GAP_SECONDS = 5.0


class Rendered:
    """One rendering: the text, its gzip, when it was made and how long it took.

    parts: [(text, its gzip or None)]; the gzip of the whole is the gzip members of the parts one
    after another (a gzip stream may hold several members: RFC 1952, read so by Prometheus)."""

    __slots__ = ("body", "gzipped", "at", "seconds")

    def __init__(self, parts, at, seconds):
        self.body = b"".join(text for text, _ in parts)
        self.gzipped = b"".join(gz if gz is not None else gzip.compress(text, compresslevel=6, mtime=0)
                                for text, gz in parts)
        self.at = at
        self.seconds = seconds


def freshness_lines(at, seconds):
    """The renderer's own freshness and duration, appended to the bytes they describe."""
    return (f"# HELP govcloud_metrics_render_timestamp_seconds When these metrics were rendered (Unix time).\n"
            f"# TYPE govcloud_metrics_render_timestamp_seconds gauge\n"
            f"govcloud_metrics_render_timestamp_seconds {at!r}\n"
            f"# HELP govcloud_metrics_render_duration_seconds Time the rendering of these metrics took.\n"
            f"# TYPE govcloud_metrics_render_duration_seconds gauge\n"
            f"govcloud_metrics_render_duration_seconds {seconds!r}\n").encode()


class ExpositionCache:
    """Keep the last rendering of render() and refresh it off the scrape's path."""

    def __init__(self, render, cycle_seconds, clock=time.time):
        self.render = render
        self.cycle = float(cycle_seconds)
        self.clock = clock
        self.current = None
        self._lock = threading.Lock()
        self._rendering = False
        self._again = False

    def get(self):
        """Return the bytes to serve (a Rendered), starting a background refresh when they are stale."""
        current = self.current
        if current is None or self.cycle <= 0:
            return self._render_now()
        if self.clock() - current.at >= self.cycle:
            self.refresh()
        return current

    @property
    def rendering(self):
        """A background rendering is under way."""
        return self._rendering

    def changed(self):
        """The database changed: render again soon (in the background)."""
        if self.current is not None and self.cycle > 0:
            self.refresh()

    def refresh(self):
        """Start one background rendering; while one runs, ask it to run once more."""
        with self._lock:
            if self._rendering:
                self._again = True
                return
            self._rendering = True
        threading.Thread(target=self._background, name="metrics-render", daemon=True).start()

    def _background(self):
        try:
            while True:
                self._render_now()
                with self._lock:
                    if not self._again:
                        self._rendering = False
                        return
                    self._again = False
                # changes keep coming (a busy day of commits): render at most every few seconds
                time.sleep(min(self.cycle, CHANGE_GAP_SECONDS))
        except BaseException:  # the thread's excepthook logs it; the previous bytes stay, their age shows
            with self._lock:
                self._rendering = False
            raise

    def _render_now(self):
        at, started = self.clock(), time.perf_counter()
        out = self.render()  # the text, or [(text, its gzip or None)]
        seconds = time.perf_counter() - started
        parts = list(out) if isinstance(out, list) else [(out, None)]
        if len(parts) == 1 and parts[0][1] is None:  # one text: one gzip member of the whole
            rendered = Rendered([(parts[0][0] + freshness_lines(at, seconds), None)], at, seconds)
        else:
            rendered = Rendered(parts + [(freshness_lines(at, seconds), None)], at, seconds)
        self.current = rendered
        return rendered


_WATCHED = weakref.WeakKeyDictionary()  # engine -> callable returning the cache in use, or None


def refresh_on_commit(engine, current_cache):
    """After each commit in this process that wrote to engine's database, tell current_cache()
    (the cache in use then, or None) that the database changed."""
    if not event.contains(Session, "after_commit", _committed):
        event.listen(Session, "after_flush", _flushed)
        event.listen(Session, "after_commit", _committed)
    _WATCHED[engine] = current_cache


def _flushed(session, _context):
    session.info["govcloud_wrote"] = True


def _committed(session):
    if session.info.pop("govcloud_wrote", False) and session.bind is not None:
        current_cache = _WATCHED.get(session.bind)
        cache = current_cache() if current_cache is not None else None
        if cache is not None:
            cache.changed()

"""What a request leaves in the audit log besides the events its services write (issue 16):

- a denied request (403, pages and API): `access.denied` with the endpoint and method, at most one
  per user (or address) and endpoint in AUDIT_DENIAL_INTERVAL_SECONDS, counting the ones between,
  so a flood of refused requests cannot flood the log;
- a failed operation: the events a service wrote before it raised were rolled back with its
  transaction; `<action>.failed` is recorded for each, with the error, in a transaction of its own;
- a document downloaded (attachments, receipts, exports: any answer with Content-Disposition):
  `document.downloaded` with the object (views may name it in g.audit_download).

Each is written after the response is made, in its own short transaction.
"""
import logging
import threading
import time

from flask import current_app, g, request
from flask_login import current_user
from sqlalchemy.orm import Session

from . import audit_chain
from .extensions import db
from .services import audit

log = logging.getLogger(__name__)
DENIED = "access.denied"
DOWNLOADED = "document.downloaded"
_LIMITER = "govcloud_audit_denials"


class DenialLimiter:
    """Counts denials per key; says when one is to be recorded (the first in each interval)."""

    def __init__(self, interval, max_keys=10000):
        self.interval = interval
        self.max_keys = max_keys
        self._seen = {}  # key -> (time of the last recorded denial, denials not recorded since)
        self._lock = threading.Lock()

    def hit(self, key, now=None):
        """Return the count to record with this denial (itself and those counted since the last
        record), or None when it is only counted."""
        now = time.monotonic() if now is None else now
        with self._lock:
            last, unrecorded = self._seen.get(key, (None, 0))
            if last is not None and now - last < self.interval:
                self._seen[key] = (last, unrecorded + 1)
                return None
            if key not in self._seen and len(self._seen) >= self.max_keys:
                self._seen = {k: v for k, v in self._seen.items() if now - v[0] < self.interval}
                if len(self._seen) >= self.max_keys:
                    self._seen.clear()
            self._seen[key] = (now, 0)
            return unrecorded + 1


def note_error(exc):
    """Keep the error a request ends with, for the `.failed` events of its rolled-back work."""
    g.audit_error = exc


def mark_download(object_type="", object_id="", department_id=None, audited=False):
    """Name the object a download answer carries; audited=True: the view recorded it itself."""
    g.audit_download = {"object_type": object_type, "object_id": str(object_id),
                        "department_id": department_id, "audited": audited}


def init_app(app):
    app.extensions[_LIMITER] = DenialLimiter(app.config["AUDIT_DENIAL_INTERVAL_SECONDS"])

    @app.after_request
    def _audit_what_was_missing(response):
        try:
            _record(response)
        except Exception:  # the answer stands; the failure to audit it is logged loudly
            log.exception("the audit events of this request could not be written")
        return response


def _actor():
    user = g.get("api_user")
    if user is not None:
        return user
    return current_user if current_user.is_authenticated else None


def _error_text(status):
    exc = g.pop("audit_error", None)
    if exc is None:
        return f"rolled back (HTTP {status})"
    message = getattr(exc, "message", None) or getattr(exc, "description", None) or str(exc)
    return f"{type(exc).__name__}: {message} (HTTP {status})"


def _is_download(response):
    info = g.get("audit_download")
    # the portal's own assets are no documents: Flask's static files answer "inline; filename=..." too
    return (request.method == "GET" and 200 <= response.status_code < 300 and request.endpoint != "static"
            and "Content-Disposition" in response.headers and not (info or {}).get("audited"))


def _record(response):
    session = db.session
    failed = audit_chain.take_unwritten(session)
    denied = response.status_code == 403
    download = _is_download(response)
    if not (failed or denied or download):
        return
    if not response.is_streamed:  # (a stream may still read through the session)
        session.rollback()  # whatever the request left open: its locks too
    ctx = audit.RequestInfo(actor=_actor(), correlation_id=g.get("request_id", ""),
                            remote_addr=request.remote_addr or "")
    endpoint = (request.endpoint or "")[:64]
    with Session(db.engine) as own:
        if failed:
            audit.record_failures(own, ctx, failed, _error_text(response.status_code))
        if denied:
            key = (ctx.actor.id if ctx.actor is not None else ctx.remote_addr, endpoint or request.path[:200])
            count = current_app.extensions[_LIMITER].hit(key)
            if count is not None:
                audit.record_event(own, ctx, DENIED, object_type="endpoint", object_id=endpoint,
                                   outcome="denied",
                                   after={"endpoint": endpoint, "method": request.method,
                                          "path": request.path[:200], "count": count})
        if download:
            info = g.get("audit_download") or {}
            audit.record_event(own, ctx, DOWNLOADED,
                               object_type=info.get("object_type") or endpoint,
                               object_id=info.get("object_id") or _last_arg(),
                               department_id=info.get("department_id"),
                               after={"endpoint": endpoint, "path": request.path[:200],
                                      "disposition": response.headers["Content-Disposition"][:200]})
        own.commit()


def _last_arg():
    args = request.view_args or {}
    return str(list(args.values())[-1])[:64] if args else ""

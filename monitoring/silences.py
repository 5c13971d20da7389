"""Silences in Alertmanager (API v2) for approved maintenance windows (第十一条: planned
maintenance is no outage, so its alerts page nobody and open no incident).

Each approved window that has not ended gets one silence, from its start to its end, matching the
`department` label of its departments (their codes) and, when it names systems, the `system`
label; the silence's id is kept on the window. A silence Alertmanager has lost (a restart without
its data) is made again; the silence of a window cancelled after approval is expired.
"""
import json
import logging
import re
import urllib.error
import urllib.request

from sqlalchemy import select

from portal.models.operations import MaintenanceState, MaintenanceWindow

from .errors import AlertmanagerUnavailable

log = logging.getLogger(__name__)
CREATED_BY = "govcloud"


class Alertmanager:
    """The few calls of Alertmanager's API v2 that govcloud makes."""

    def __init__(self, url, timeout=10.0):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            with exc:
                if exc.code == 404:
                    return None
                raise AlertmanagerUnavailable(self.url, f"{method} {path}: HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise AlertmanagerUnavailable(self.url, f"{method} {path}: {exc}") from exc
        return json.loads(raw) if raw else {}

    def create_silence(self, silence):
        """Create a silence; return its id."""
        return self._call("POST", "/api/v2/silences", silence)["silenceID"]

    def get_silence(self, silence_id):
        """Return the silence, or None when Alertmanager does not know it."""
        return self._call("GET", f"/api/v2/silence/{silence_id}")

    def expire_silence(self, silence_id):
        self._call("DELETE", f"/api/v2/silence/{silence_id}")


def _any_of(values):
    return "|".join(re.escape(v) for v in values)


def silence_for(window):
    """The Alertmanager silence of an approved window."""
    matchers = [{"name": "department", "value": _any_of(d.code for d in window.departments),
                 "isRegex": True, "isEqual": True}]
    if window.systems:
        matchers.append({"name": "system", "value": _any_of(window.systems), "isRegex": True, "isEqual": True})
    return {"matchers": matchers, "startsAt": window.starts_at.isoformat(), "endsAt": window.ends_at.isoformat(),
            "createdBy": CREATED_BY, "comment": f"维护窗口 #{window.id}: {window.title}"[:255]}


def sync_silences(session, alertmanager, now):
    """Give every approved window not yet over its silence, expire those of cancelled windows;
    commit after each window. Return (created, expired)."""
    created = expired = 0
    for window in session.scalars(select(MaintenanceWindow).where(
            MaintenanceWindow.state == MaintenanceState.APPROVED, MaintenanceWindow.ends_at > now)
            .order_by(MaintenanceWindow.id)):
        if not window.departments:
            continue
        if window.silence_id:
            known = alertmanager.get_silence(window.silence_id)
            if known is not None and known.get("status", {}).get("state") != "expired":
                continue
        window.silence_id = alertmanager.create_silence(silence_for(window))
        session.commit()
        created += 1
        log.info("alerts: silence %s for maintenance window %s", window.silence_id, window.id)
    for window in session.scalars(select(MaintenanceWindow).where(
            MaintenanceWindow.state != MaintenanceState.APPROVED, MaintenanceWindow.silence_id.is_not(None))):
        alertmanager.expire_silence(window.silence_id)
        window.silence_id = None
        session.commit()
        expired += 1
    return created, expired

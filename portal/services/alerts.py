"""Prometheus's alerts, routed by Alertmanager to govcloud's webhook, become incidents (故障事件).

One unresolved incident per department's system, whatever opened it (a probe, a backup, an alert):
  - a firing alert whose fingerprint has an unresolved incident changes nothing (Alertmanager
    repeats its notifications, two Alertmanagers send the same alert);
  - one for a system that already has an unresolved incident joins it (a timeline line, no second
    notification);
  - otherwise it opens an incident for the department and system of its labels (`department` is
    the department's code, `system` the system; an alert without them is the platform's) and
    notifies the department's contacts through the notification queue;
  - a resolved alert resolves its incident (and notifies), unless the probe that joined it still fails.
A firing alert inside an approved maintenance window of its system opens nothing (Alertmanager's
silence, services/alert_silences.py, normally keeps it from being sent at all).
"""
import logging
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..models.accounts import Department
from ..models.operations import Incident, ProbeTarget
from .audit import RequestInfo
from .incidents import ACTIVE, IncidentSource, active_for_system, note_event, open_incident, resolve_incident
from .maintenance import approved_windows

log = logging.getLogger(__name__)
PLATFORM = "_platform"  # the department label of the platform's own metrics (monitoring/metrics.py)


@dataclass
class Outcome:
    """What one webhook message did, alert by alert."""

    opened: list = field(default_factory=list)    # incident ids
    joined: list = field(default_factory=list)
    repeated: list = field(default_factory=list)
    resolved: list = field(default_factory=list)
    silenced: int = 0                             # firing inside an approved maintenance window
    ignored: int = 0                              # resolved without an incident, or the probe still fails

    def as_dict(self):
        return {"opened": self.opened, "joined": self.joined, "repeated": self.repeated,
                "resolved": self.resolved, "silenced": self.silenced, "ignored": self.ignored}


def alert_system(labels):
    """The (department code or None, system name) an alert is about."""
    code = labels.get("department") or None
    system = labels.get("system") or labels.get("service") or labels.get("alertname", "alert")
    return (None if code == PLATFORM else code), system[:120]


def receive(session, settings, message, now, correlation_id=""):
    """Apply an Alertmanager message (schemas.alerts.AlertmanagerMessage) and commit; return an Outcome.

    Two deliveries of one new alert at once: the second's insert meets the unique index of
    unresolved fingerprints, rolls back and is applied again (it then finds the incident).
    """
    ctx = RequestInfo(correlation_id=correlation_id or "alertmanager")
    try:
        outcome = _apply(session, settings, message, now, ctx)
        session.commit()
    except IntegrityError:
        session.rollback()
        outcome = _apply(session, settings, message, now, ctx)
        session.commit()
    return outcome


def _apply(session, settings, message, now, ctx):
    outcome = Outcome()
    codes = {}
    windows = approved_windows(session, now, now)
    for alert in message.alerts:
        code, system = alert_system(alert.labels)
        if code not in codes:
            codes[code] = session.scalar(select(Department.id).where(Department.code == code)) if code else None
        department_id = codes[code]
        current = session.scalar(select(Incident).where(Incident.alert_fingerprint == alert.fingerprint,
                                                        Incident.state.in_(ACTIVE)))
        if alert.status == "resolved":
            _resolve(session, settings, ctx, alert, current, now, outcome)
        elif current is not None:
            outcome.repeated.append(current.id)
        elif department_id is not None and any(w.covers(department_id, system, now) for w in windows):
            outcome.silenced += 1
        else:
            _fire(session, settings, ctx, alert, department_id, system, now, outcome)
    return outcome


def _describe(alert):
    name = alert.labels.get("alertname", "alert")
    summary = alert.annotations.get("summary", "")
    return f"{name}: {summary}" if summary else name


def _fire(session, settings, ctx, alert, department_id, system, now, outcome):
    existing = active_for_system(session, department_id, system)
    if existing is not None:
        if existing.alert_fingerprint is None:  # the first alert on it: its resolution may resolve it
            session.execute(update(Incident).where(Incident.id == existing.id,
                                                   Incident.alert_fingerprint.is_(None))
                            .values(alert_fingerprint=alert.fingerprint))
        note_event(existing, "detected", now, _describe(alert)[:2000])
        outcome.joined.append(existing.id)
        return
    source = IncidentSource(department_id=department_id, system_name=system,
                            name=alert.labels.get("alertname", "alert")[:100], kind="alert")
    incident = open_incident(session, ctx, settings, source, started_at=min(alert.startsAt, now), detected_at=now,
                             detail=_describe(alert)[:2000], alert_fingerprint=alert.fingerprint)
    outcome.opened.append(incident.id)


def _resolve(session, settings, ctx, alert, incident, now, outcome):
    if incident is None:
        outcome.ignored += 1
        return
    if incident.target_id is not None:
        target = session.get(ProbeTarget, incident.target_id)
        if target is not None and target.last_ok is False:  # the probe that joined it still fails
            outcome.ignored += 1
            return
    ended = alert.endsAt if alert.endsAt.year > 1 else now
    resolve_incident(session, ctx, settings, incident, at=max(min(ended, now), incident.started_at),
                     note=_describe(alert)[:2000])
    outcome.resolved.append(incident.id)

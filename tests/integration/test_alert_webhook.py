"""Alertmanager's webhook: token only, strict and bounded; alerts open, join and resolve incidents.

One unresolved incident per department's system: a repeated alert (same fingerprint) changes
nothing, an alert for a system whose probe already opened an incident joins it without a second
notification; a refused call (401, 413, 415, 422) changes nothing.
"""
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.database import utcnow
from portal.models.accounts import Department
from portal.models.audit import AuditEvent
from portal.models.operations import Incident, MaintenanceWindow, Notification
from portal.schemas.alerts import MAX_ALERTS

TOKEN = "am-" + "x" * 30
URL = "/alerts/alertmanager"


@pytest.fixture
def hook(app, monkeypatch):
    monkeypatch.setitem(app.config, "ALERT_WEBHOOK_TOKEN", TOKEN)
    monkeypatch.setitem(app.config, "NOTIFY_WEBHOOK_URL", "http://127.0.0.1:9/hook")  # one message per event
    client = app.test_client()

    def post(body, token=TOKEN, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return client.post(URL, data=data, headers=headers, content_type=kwargs.pop("content_type", "application/json"),
                           **kwargs)
    return post


def alert(status="firing", fingerprint="a1b2c3d4e5f60718", system="门户网站", department="DEPT-A", **labels):
    now = utcnow()
    return {"status": status, "labels": {"alertname": "GovcloudProbeFailing", "department": department,
                                         "system": system, "kind": "tcp", "severity": "critical", **labels},
            "annotations": {"summary": f"{department} {system} 探测失败 / probe failing"},
            "startsAt": (now - timedelta(minutes=2)).isoformat(),
            "endsAt": now.isoformat() if status == "resolved" else "0001-01-01T00:00:00Z",
            "generatorURL": "http://127.0.0.1:9090/graph", "fingerprint": fingerprint}


def message(*alerts):
    return {"version": "4", "groupKey": '{}:{alertname="GovcloudProbeFailing"}', "truncatedAlerts": 0,
            "status": alerts[0]["status"], "receiver": "govcloud", "groupLabels": {}, "commonLabels": {},
            "commonAnnotations": {}, "externalURL": "http://127.0.0.1:9093", "alerts": list(alerts)}


def counts(db_session):
    db_session.expire_all()
    return (db_session.scalar(select(func.count()).select_from(Incident)),
            db_session.scalar(select(func.count()).select_from(Notification)),
            db_session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("incident.%"))))


def test_an_alert_opens_one_incident_repeats_change_nothing_and_its_resolution_resolves_it(app, seed, db_session,
                                                                                          hook):
    before = counts(db_session)
    opened = hook(message(alert()))
    assert opened.status_code == 200, opened.get_data(as_text=True)
    [incident_id] = opened.get_json()["opened"]
    incident = db_session.get(Incident, incident_id)
    dept_a = db_session.scalar(select(Department.id).where(Department.code == "DEPT-A"))
    assert (incident.department_id, incident.system_name, incident.state, incident.target_id) == (
        dept_a, "门户网站", "open", None)
    assert incident.title.startswith("门户网站 · GovcloudProbeFailing")
    notified = db_session.scalars(select(Notification).where(Notification.topic == f"incident:{incident_id}",
                                                             Notification.channel != "inbox")).all()
    assert [(n.department_id, n.channel) for n in notified] == [(dept_a, "webhook")]
    after_open = counts(db_session)
    assert after_open[0] == before[0] + 1 and after_open[2] == before[2] + 1

    for _ in range(3):  # Alertmanager's repeat_interval, or a second Alertmanager
        again = hook(message(alert()))
        assert again.get_json()["repeated"] == [incident_id]
    assert counts(db_session) == after_open

    resolved = hook(message(alert("resolved")))
    assert resolved.get_json()["resolved"] == [incident_id]
    db_session.expire_all()
    assert db_session.get(Incident, incident_id).state == "resolved"
    assert db_session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.topic == f"incident:{incident_id}",
                                    Notification.channel != "inbox")) == 2 * len(notified)
    assert hook(message(alert("resolved"))).get_json()["ignored"] == 1  # again: nothing to resolve
    # the next outage of the same alert is a new incident
    assert hook(message(alert())).get_json()["opened"] != [incident_id]


def test_an_alert_joins_the_incident_a_probe_opened_without_a_second_notification(app, seed, db_session, hook):
    probe_incident = db_session.get(Incident, seed.extra["incident_id"][0])  # DEPT-A 办公系统, open
    before = counts(db_session)
    joined = hook(message(alert(system="办公系统", fingerprint="0000aaaa1111bbbb")))
    assert joined.get_json()["joined"] == [probe_incident.id]
    after = counts(db_session)
    assert (after[0], after[1]) == (before[0], before[1])
    db_session.expire_all()
    assert db_session.get(Incident, probe_incident.id).alert_fingerprint == "0000aaaa1111bbbb"
    assert [e.kind for e in db_session.get(Incident, probe_incident.id).events][-1] == "detected"
    # the probe that opened it still fails: the alert's resolution does not resolve it
    from portal.models.operations import ProbeTarget
    target = db_session.get(ProbeTarget, probe_incident.target_id)
    target.last_ok = False
    db_session.commit()
    assert hook(message(alert("resolved", system="办公系统", fingerprint="0000aaaa1111bbbb"))).get_json()["ignored"] == 1
    db_session.expire_all()
    assert db_session.get(Incident, probe_incident.id).state == "open"


def test_an_alert_inside_an_approved_maintenance_window_opens_nothing(app, seed, db_session, hook):
    now = utcnow()
    window = db_session.get(MaintenanceWindow, seed.extra["window_id"][0])  # DEPT-A, approved
    window.starts_at, window.ends_at = now - timedelta(minutes=10), now + timedelta(hours=1)
    db_session.commit()
    before = counts(db_session)
    assert hook(message(alert())).get_json()["silenced"] == 1
    assert counts(db_session) == before
    # another department's system is not covered
    assert len(hook(message(alert(department="COUNTY-C", fingerprint="ffff0000ffff0000"))).get_json()["opened"]) == 1


def test_a_platform_alert_opens_a_platform_incident(app, seed, db_session, hook):
    body = alert(fingerprint="1234abcd1234abcd", department="_platform", system="")
    body["labels"] = {"alertname": "GovcloudCloudServiceDown", "service": "compute", "severity": "critical"}
    [incident_id] = hook(message(body)).get_json()["opened"]
    incident = db_session.get(Incident, incident_id)
    assert (incident.department_id, incident.system_name) == (None, "compute")


@pytest.mark.parametrize("token", [None, "wrong", TOKEN[:-1]])
def test_without_its_token_the_webhook_is_refused_and_changes_nothing(app, seed, db_session, hook, token):
    before = counts(db_session)
    refused = hook(message(alert()), token=token)
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert counts(db_session) == before


def test_no_token_configured_refuses_every_call(app, seed, db_session, hook, monkeypatch):
    monkeypatch.setitem(app.config, "ALERT_WEBHOOK_TOKEN", None)
    assert hook(message(alert()), token="None").status_code == 401


def _too_many():
    return message(*[alert(fingerprint=f"{i:016x}") for i in range(MAX_ALERTS + 1)])


@pytest.mark.parametrize("body, status", [
    ("{not json", 422),
    ({"version": "3", "alerts": []}, 422),
    (message(alert(fingerprint="NOT-HEX")), 422),
    (message({**alert(), "startsAt": 1764579600}), 422),
    (message({**alert(), "startsAt": "2026-12-01T10:00:00"}), 422),  # no time zone
    (message({**alert(), "labels": {"alertname": "x" * 300}}), 422),
    (message({**alert(), "labels": {"bad-name": "x"}}), 422),
    (message({**alert(), "status": "pending"}), 422),
    ({**message(alert()), "alerts": []}, 422),
    (_too_many(), 422),
])
def test_a_malformed_message_is_refused_and_changes_nothing(app, seed, db_session, hook, body, status):
    before = counts(db_session)
    refused = hook(body)
    assert refused.status_code == status, refused.get_data(as_text=True)
    assert refused.get_json()["code"] == "invalid"
    assert counts(db_session) == before


def test_size_and_media_type_are_bounded(app, seed, db_session, hook, monkeypatch):
    before = counts(db_session)
    monkeypatch.setitem(app.config, "ALERT_WEBHOOK_MAX_BYTES", 1500)
    big = message(alert(), alert(fingerprint="bbbb"), alert(fingerprint="cccc"), alert(fingerprint="dddd"))
    assert len(json.dumps(big)) > 1500 > len(json.dumps(message(alert())))
    assert hook(big).status_code == 413
    assert hook(json.dumps(message(alert())), content_type="text/plain").status_code == 415
    assert counts(db_session) == before


def test_a_probe_failing_after_the_alert_joins_its_incident_and_its_recovery_resolves_it(app, seed, db_session, hook):
    from portal.services.audit import RequestInfo
    from portal.services.probes import CheckOutcome, create_target, record_check
    [incident_id] = hook(message(alert())).get_json()["opened"]
    target = create_target(db_session, RequestInfo(correlation_id="test"), {
        "department_id": seed.dept_a, "system_name": "门户网站", "name": "https", "kind": "tcp",
        "settings": {"host": "127.0.0.1", "port": 9}, "failure_threshold": 1})
    before = counts(db_session)
    assert record_check(db_session, app.config, target, CheckOutcome(False, 3, "refused"), utcnow(), []) is None
    db_session.commit()
    after = counts(db_session)
    assert (after[0], after[1]) == (before[0], before[1])  # no second incident, no second notification
    db_session.expire_all()
    assert db_session.get(Incident, incident_id).target_id == target.id
    record_check(db_session, app.config, target, CheckOutcome(True, 2, ""), utcnow(), [])
    db_session.commit()
    db_session.expire_all()
    assert db_session.get(Incident, incident_id).state == "resolved"
    assert hook(message(alert("resolved"))).get_json()["ignored"] == 1

"""Probes against real services: an sshd and a TCP service that goes away and comes back.

Checks run for real; the times they are recorded at are chosen by the test (one per minute), so
the SLA figures are exact and nothing waits for the clock.
"""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from monitoring.checks import check_ssh, check_tcp
from monitoring.jobs import probe_cycle
from scheduler.housekeeping import deliver_pending
from portal.models.accounts import Department
from portal.models.operations import Incident, MaintenanceWindow, ProbeResult, ProbeTarget
from portal.services import sla
from portal.services.audit import RequestInfo
from portal.services.probes import create_target
from portal.workdays import CHINA
from tests.integration.monitoring_fixtures import free_port, sshd, smtp_sink, tcp_service, webhook_sink  # noqa: F401

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=CHINA)


def minute(i):
    return T0 + timedelta(minutes=i)


@pytest.fixture
def settings(smtp_sink, webhook_sink):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_sink.port, "SMTP_FROM": "ops@govcloud.test",
            "NOTIFY_WEBHOOK_URL": webhook_sink["url"], "PROBE_TIMEOUT_SECONDS": 3}


def _department_a(db_session, seed):
    for target in db_session.scalars(select(ProbeTarget)):  # the access walk's rows: not probed here
        target.enabled = False
    dept = db_session.get(Department, seed.dept_a)
    dept.it_lead_email = "it-lead@dept-a.test"
    db_session.commit()
    return dept


def _add(db_session, dept_id, name, kind, settings, threshold=3):
    return create_target(db_session, RequestInfo(correlation_id="test"), {
        "department_id": dept_id, "system_name": "办公系统", "name": name, "kind": kind,
        "settings": settings, "failure_threshold": threshold})


def test_ssh_check_pins_the_host_key(sshd):
    ok = check_ssh(sshd["host"], sshd["port"], sshd["username"], sshd["key_path"], sshd["host_key"], "true")
    assert ok.ok, ok.detail
    failing = check_ssh(sshd["host"], sshd["port"], sshd["username"], sshd["key_path"], sshd["host_key"], "false")
    assert not failing.ok and "exit 1" in failing.detail
    # a different pinned key: the server is rejected, nothing is added to the known keys
    other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    rejected = check_ssh(sshd["host"], sshd["port"], sshd["username"], sshd["key_path"], other, "true")
    assert not rejected.ok and ("BadHostKey" in rejected.detail or "not found in known_hosts" in rejected.detail
                                or "SSHException" in rejected.detail), rejected.detail


def test_outage_opens_notifies_and_resolves_an_incident(db_session, seed, settings, sshd, tcp_service,
                                                        smtp_sink, webhook_sink, login_as):
    _department_a(db_session, seed)
    _add(db_session, seed.dept_a, "ssh", "ssh", {k: sshd[k] for k in ("host", "port", "username", "key_path",
                                                                       "host_key")} | {"command": "uptime"})
    tcp = _add(db_session, seed.dept_a, "web", "tcp", {"host": "127.0.0.1", "port": tcp_service.port})
    seeded_incidents = set(db_session.scalars(select(Incident.id)))

    def cycle(i):
        return probe_cycle(db_session, settings, now=minute(i))

    assert cycle(0)[1] == 0 and cycle(1)[1] == 0
    tcp_service.stop()
    for i in (2, 3):
        cycle(i)
    assert db_session.scalars(select(Incident).where(Incident.target_id == tcp.id)).first() is None
    cycle(4)  # third failure in a row: an incident
    incident = db_session.scalars(select(Incident).where(Incident.target_id == tcp.id)).one()
    assert incident.state == "open"
    assert incident.started_at == minute(2) and incident.detected_at == minute(4)
    assert deliver_pending(db_session, settings) == (2, 0)  # one e-mail, one webhook
    assert smtp_sink.messages[0]["to"] == ["it-lead@dept-a.test"]
    assert "办公系统" in smtp_sink.messages[0]["data"]
    assert webhook_sink["received"][0]["topic"] == f"incident:{incident.id}"

    # the department sees its incident with the timeline; another department does not
    page = login_as("dept").get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "办公系统" in page and "incident-timeline" in page
    assert login_as("dept_b").get(f"/incidents/{incident.id}").status_code == 404

    cycle(5)
    tcp_service.start()
    cycle(6)  # recovered: resolved automatically
    db_session.refresh(incident)
    assert incident.state == "resolved" and incident.resolved_at == minute(6)
    assert [e.kind for e in incident.events] == ["detected", "notified", "resolved", "notified"]
    assert deliver_pending(db_session, settings) == (2, 0)
    assert "resolved" in smtp_sink.messages[1]["data"]

    ssh_results = db_session.scalars(select(ProbeResult).join(ProbeTarget).where(ProbeTarget.kind == "ssh")).all()
    assert len(ssh_results) == 7 and all(r.ok for r in ssh_results)

    figures = sla.monthly_report(db_session, None, 2026, 11, now=minute(10), every_department=True)
    office = next(f for f in figures if f.department_id == seed.dept_a and f.system_name == "办公系统")
    seeded = db_session.scalars(select(Incident).where(Incident.id.in_(seeded_incidents),
                                                       Incident.department_id == seed.dept_a)).all()
    assert not [i for i in seeded if i.started_at < minute(10)]  # the access-walk rows are from today
    assert office.minutes_lost == 4
    total = (minute(10) - datetime(2026, 11, 1, tzinfo=CHINA)).total_seconds() / 60
    assert office.ratio == pytest.approx(1 - 4 / total)


def test_failures_in_an_approved_window_are_recorded_but_not_counted(db_session, seed, settings, tcp_service):
    dept = _department_a(db_session, seed)
    tcp = _add(db_session, seed.dept_a, "web", "tcp", {"host": "127.0.0.1", "port": tcp_service.port}, threshold=2)
    db_session.add(MaintenanceWindow(kind="planned", state="approved", title="升级", starts_at=minute(1),
                                     ends_at=minute(5), departments=[dept], systems=["办公系统"]))
    db_session.commit()
    probe_cycle(db_session, settings, now=minute(0))
    tcp_service.stop()
    for i in range(1, 5):
        probe_cycle(db_session, settings, now=minute(i))
    results = db_session.scalars(select(ProbeResult).where(ProbeResult.target_id == tcp.id)
                                 .order_by(ProbeResult.checked_at)).all()
    assert [(r.ok, r.in_maintenance) for r in results] == [(True, False)] + [(False, True)] * 4
    assert db_session.scalars(select(Incident).where(Incident.target_id == tcp.id)).first() is None
    probe_cycle(db_session, settings, now=minute(5))  # the window is over: failures count again
    probe_cycle(db_session, settings, now=minute(6))
    incident = db_session.scalars(select(Incident).where(Incident.target_id == tcp.id)).one()
    assert incident.started_at == minute(5)
    tcp_service.start()
    probe_cycle(db_session, settings, now=minute(8))
    figures = sla.monthly_report(db_session, None, 2026, 11, now=minute(10), every_department=True)
    office = next(f for f in figures if f.department_id == seed.dept_a and f.system_name == "办公系统")
    assert office.maintenance_minutes == 4 and office.minutes_lost == 3


def test_tcp_check_reports_refused_port():
    outcome = check_tcp("127.0.0.1", free_port(), timeout=2)
    assert not outcome.ok and "127.0.0.1" in outcome.detail


def test_long_outage_is_escalated_once(db_session, seed, settings, tcp_service, smtp_sink):
    _department_a(db_session, seed)
    tcp = _add(db_session, seed.dept_a, "web", "tcp", {"host": "127.0.0.1", "port": tcp_service.port})
    settings = dict(settings, ESCALATE_AFTER_MINUTES=5, ESCALATION_EMAIL="duty@bureau.test")
    tcp_service.stop()
    for i in range(1, 9):
        probe_cycle(db_session, settings, now=minute(i))
    incident = db_session.scalars(select(Incident).where(Incident.target_id == tcp.id)).one()
    kinds = [e.kind for e in incident.events]
    assert kinds.count("escalated") == 1
    escalated = next(e for e in incident.events if e.kind == "escalated")
    assert escalated.at == minute(6)  # started at minute 1, five minutes later
    deliver_pending(db_session, settings)
    assert any(m["to"] == ["duty@bureau.test"] and "unresolved" in m["data"] for m in smtp_sink.messages)

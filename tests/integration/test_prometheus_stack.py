"""The vendor's Prometheus end to end: a real portal process (gunicorn) with seeded data, a real
Prometheus (Debian `prometheus`) scraping it with the bearer token and evaluating the project's
alert and recording rules, a real Alertmanager (Debian `prometheus-alertmanager`) routing to
govcloud's webhook with its own token.

- every panel of every dashboard in config/grafana/dashboards/ parses and returns series;
- a probe target failing (a service of a department's system stopped) fires GovcloudProbeFailing,
  which becomes exactly one incident of that department's system and one notification, delivered
  to the department's webhook channel; the service back, the alert's resolution resolves it;
- an alert inside an approved maintenance window is silenced by the silence govcloud made through
  Alertmanager's API v2, and opens nothing; cancelling the window expires the silence.

Intervals are one second (scrape, evaluation, Alertmanager's grouping); rules fire at once (for: 0s).
"""
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from config.grafana.dashboards import panel_queries
from monitoring.jobs import probe_cycle
from monitoring.silences import Alertmanager, sync_silences
from portal.database import utcnow
from portal.models.accounts import Department
from portal.models.backups import BackupArtifact, BackupRun, RestoreJob
from portal.models.operations import (Incident, InventorySnapshot, JobRun, MaintenanceWindow, Notification,
                                      ProbeTarget)
from portal.models.reconcile import ProvisioningStep
from portal.models.requests import ProvisioningJob, ResourceRequest
from portal.services.audit import RequestInfo
from portal.services.probes import create_target
from provisioner import errors as cloud_errors
from scheduler.housekeeping import deliver_pending
from tests.integration.conftest import clouds_yaml
from tests.integration.monitoring_fixtures import (free_port, stop, tcp_service, wait_for_port,  # noqa: F401
                                                   webhook_sink)
from tests.integration.monitoring_fixtures import wait_until as _wait

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS, ALERTMANAGER = "/usr/bin/prometheus", "/usr/bin/prometheus-alertmanager"
SYSTEM = "门户网站"


def _need_binaries():
    for binary in (PROMETHEUS, ALERTMANAGER):
        if not Path(binary).exists():
            pytest.fail(f"{binary} is missing: run `make sysdeps` (Debian prometheus, prometheus-alertmanager)")


def _get(url, **params):
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())




def _ready(url):
    try:
        with urllib.request.urlopen(url + "/-/ready", timeout=5) as resp:
            return resp.status == 200
    except urllib.error.HTTPError as exc:  # 503 while starting
        exc.close()
        return False


def _start(args, log_path, port):
    log = open(log_path, "wb")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    try:
        wait_for_port(port, 30)
    except AssertionError:
        stop(proc)
        log.close()
        raise AssertionError(f"{args[0]} did not start: {Path(log_path).read_text()[-2000:]}") from None
    return proc, log


def seed_metrics_data(session, seed):
    """Rows behind every family the dashboards read: inventory, jobs, requests, provisioning, backups."""
    now = utcnow()
    session.add(InventorySnapshot(
        taken_at=now, api_calls=15, duration_seconds=0.8,
        departments={code: {"servers": {"ACTIVE": 3, "SHUTOFF": 1}, "vcpus": 8, "ram_bytes": 16 << 30,
                            "volumes": {"in-use": 2}, "volume_bytes": 100 << 30, "floating_ips": 1,
                            "last_backup_at": (now - timedelta(hours=3)).timestamp()}
                     for code in ("DEPT-A", "DEPT-B")},
        services={"compute": 1, "volumev3": 1, "network": 1}, capacity={"vcpus": {"used": 16, "total": 64}},
        server_statuses={}))
    for job in ("run_probes", "deliver_notifications", "collect_inventory", "run_due_backups"):
        session.add(JobRun(job_id=job, started_at=now, duration_seconds=0.1, outcome="success"))
    request = session.get(ResourceRequest, seed.extra["request_id"][0])
    request.submitted_at, request.approved_at = now - timedelta(days=2), now - timedelta(days=1)
    request.provisioned_at = now - timedelta(hours=20)
    failed = ProvisioningJob(request_id=request.id, department_id=seed.dept_a, state="failed", attempts=1,
                             error_message=cloud_errors.QUOTA_EXCEEDED)
    session.add(failed)
    session.flush()
    session.add_all([ProvisioningStep(job_id=failed.id, kind="server", seconds=12.0),
                     ProvisioningStep(job_id=failed.id, kind="project", seconds=1.5)])
    run = BackupRun(department_id=seed.dept_a, kinds="both", state="succeeded", attempts=2,
                    started_at=now - timedelta(hours=2), finished_at=now - timedelta(hours=1))
    session.add(run)
    session.flush()
    artifacts = [BackupArtifact(run_id=run.id, department_id=seed.dept_a, kind=kind, name=f"gc-bk-{kind}",
                                source_key=f"{kind}:web", size_gb=10, status="available",
                                created_at=now - timedelta(hours=2), completed_at=now - timedelta(hours=1))
                 for kind in ("snapshot", "volume")]
    session.add_all(artifacts)
    session.flush()
    session.add(RestoreJob(artifact_id=artifacts[1].id, department_id=seed.dept_a, mode="new_volume",
                           state="succeeded"))
    session.commit()


@pytest.fixture
def stack(app, seed, db_session, tmp_path, webhook_sink):  # noqa: F811
    """The portal under gunicorn, Prometheus and Alertmanager, each on a free loopback port."""
    _need_binaries()
    for target in db_session.scalars(select(ProbeTarget)):  # the seeded targets point at nothing
        target.enabled = False
    db_session.commit()
    seed_metrics_data(db_session, seed)
    metrics_token, alerts_token = tmp_path / "metrics.token", tmp_path / "alerts.token"
    for path in (metrics_token, alerts_token):
        path.write_text(secrets.token_urlsafe(24) + "\n")
        path.chmod(0o400)
    procs = []
    try:
        portal_port = free_port()
        env = dict(os.environ, GOVCLOUD_DATABASE_URL=app.config["DATABASE_URL"], GOVCLOUD_SECRET_KEY="t",
                   GOVCLOUD_INSTANCE_PATH=str(tmp_path), PYTHONPATH=str(REPO),
                   GOVCLOUD_CRYPTO_KEY_FILE=app.config["CRYPTO_KEY_FILE"], GOVCLOUD_CLOUDS_YAML=str(clouds_yaml()),
                   GOVCLOUD_METRICS_BEARER_TOKEN_FILE=str(metrics_token), GOVCLOUD_METRICS_ALLOWED_NETWORKS="",
                   GOVCLOUD_METRICS_RENDER_SECONDS="1", GOVCLOUD_ALERT_WEBHOOK_TOKEN_FILE=str(alerts_token),
                   GOVCLOUD_NOTIFY_WEBHOOK_URL=webhook_sink["url"])
        log = open(tmp_path / "portal.log", "wb")
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        portal = subprocess.Popen([gunicorn, "--bind", f"127.0.0.1:{portal_port}", "--workers", "1", "--threads", "4",
                                   "portal.wsgi:app"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        procs.append((portal, log))
        wait_for_port(portal_port, 60)

        am_port = free_port()
        am_config = yaml.safe_load((REPO / "config/alertmanager/alertmanager.yml").read_text())
        am_config["route"].update(group_wait="1s", group_interval="1s", repeat_interval="1h")
        hook = am_config["receivers"][0]["webhook_configs"][0]
        hook["url"] = f"http://127.0.0.1:{portal_port}/alerts/alertmanager"
        hook["http_config"]["authorization"]["credentials_file"] = str(alerts_token)
        (tmp_path / "alertmanager.yml").write_text(yaml.safe_dump(am_config, allow_unicode=True))
        procs.append(_start([ALERTMANAGER, f"--config.file={tmp_path / 'alertmanager.yml'}",
                             f"--storage.path={tmp_path / 'am-data'}", f"--web.listen-address=127.0.0.1:{am_port}",
                             "--cluster.listen-address="], tmp_path / "alertmanager.log", am_port))

        prom_port = free_port()
        config = yaml.safe_load((REPO / "config/prometheus/prometheus.yml").read_text())
        config["global"].update(scrape_interval="1s", evaluation_interval="1s")
        job = config["scrape_configs"][0]
        job.update(scrape_interval="1s", scrape_timeout="1s")
        job["authorization"]["credentials_file"] = str(metrics_token)
        job["static_configs"][0]["targets"] = [f"127.0.0.1:{portal_port}"]
        config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] = [f"127.0.0.1:{am_port}"]
        rule_files = []
        for name in config["rule_files"]:
            rules = yaml.safe_load((REPO / "config/prometheus" / name).read_text())
            for group in rules["groups"]:
                group["interval"] = "1s"
                for rule in group["rules"]:
                    if "alert" in rule:
                        rule["for"] = "0s"
            (tmp_path / name).write_text(yaml.safe_dump(rules, allow_unicode=True))
            rule_files.append(str(tmp_path / name))
        config["rule_files"] = rule_files
        (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
        procs.append(_start([PROMETHEUS, f"--config.file={tmp_path / 'prometheus.yml'}",
                             f"--storage.tsdb.path={tmp_path / 'prom-data'}",
                             f"--web.listen-address=127.0.0.1:{prom_port}"], tmp_path / "prometheus.log", prom_port))
        for url in (f"http://127.0.0.1:{am_port}", f"http://127.0.0.1:{prom_port}"):
            _wait(f"{url} is ready", lambda: _ready(url))
        yield {"prometheus": f"http://127.0.0.1:{prom_port}", "alertmanager": f"http://127.0.0.1:{am_port}",
               "portal": f"http://127.0.0.1:{portal_port}", "logs": tmp_path}
    finally:
        for proc, log in reversed(procs):
            stop(proc, 20)
            log.close()


def _query(stack, expr):
    answer = _get(stack["prometheus"] + "/api/v1/query", query=expr)
    assert answer["status"] == "success", (expr, answer)
    return answer["data"]["result"]


def _dashboards():
    folder = REPO / "config/grafana/dashboards"
    return {path.name: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}


def test_every_dashboard_panel_returns_series(app, seed, db_session, stack, tcp_service):  # noqa: F811
    _outage_target(app, db_session, seed, tcp_service)  # a system with a probe that passes
    dashboards = _dashboards()
    assert {"govcloud-fleet.json", "govcloud-department.json", "govcloud-system.json", "govcloud-provisioning.json",
            "govcloud-backups.json", "govcloud-sla.json"} <= set(dashboards)
    _wait("Prometheus scraped the portal twice",
          lambda: _query(stack, "count_over_time(govcloud_servers[1m]) > 2"))
    queries = [(name, title, expr.replace("$department", ".*").replace("$system", ".*"))
               for name, data in dashboards.items() for title, expr in panel_queries(data)]
    assert len(queries) >= 30

    deadline = time.monotonic() + 30  # the recording rules' first evaluations
    while (missing := [(n, t, e) for n, t, e in queries if not _query(stack, e)]) and time.monotonic() < deadline:
        time.sleep(1)
    assert missing == [], "panels without series"
    for variable_query in ("govcloud_servers", 'govcloud_probe_success{department=~".*"}'):
        assert _query(stack, variable_query)  # the dashboards' variables list departments and systems


def _incidents(db_session, dept_a):
    db_session.expire_all()
    return db_session.scalars(select(Incident).where(Incident.department_id == dept_a, Incident.system_name == SYSTEM)
                              .order_by(Incident.id)).all()


def _outage_target(app, db_session, seed, tcp_service):  # noqa: F811
    """A TCP probe of DEPT-A's 门户网站 whose own threshold never opens an incident: the alert does."""
    target = create_target(db_session, RequestInfo(correlation_id="test"), {
        "department_id": seed.dept_a, "system_name": SYSTEM, "name": "https", "kind": "tcp",
        "settings": {"host": "127.0.0.1", "port": tcp_service.port}, "failure_threshold": 100})
    probe_cycle(db_session, app.config)
    return target


def _firing(stack):
    alerts = _get(stack["prometheus"] + "/api/v1/alerts")["data"]["alerts"]
    return [a for a in alerts if a["labels"]["alertname"] == "GovcloudProbeFailing"
            and a["labels"].get("system") == SYSTEM and a["state"] == "firing"]


def test_an_outage_becomes_one_incident_and_one_notification_and_its_recovery_resolves_it(
        app, seed, db_session, stack, tcp_service, webhook_sink):  # noqa: F811
    _outage_target(app, db_session, seed, tcp_service)
    _wait("the probe's success reaches Prometheus",
          lambda: _query(stack, f'govcloud_probe_success{{department="DEPT-A",system="{SYSTEM}"}} == 1'))
    assert _incidents(db_session, seed.dept_a) == []

    tcp_service.stop()
    probe_cycle(db_session, app.config)
    _wait("GovcloudProbeFailing fires", lambda: _firing(stack))
    [incident] = _wait("the alert becomes an incident", lambda: _incidents(db_session, seed.dept_a), timeout=60)
    assert incident.state == "open" and incident.alert_fingerprint and incident.target_id is None
    assert "GovcloudProbeFailing" in incident.title
    time.sleep(4)  # more evaluations and Alertmanager's group intervals: still one incident
    probe_cycle(db_session, app.config)
    time.sleep(2)
    assert [i.id for i in _incidents(db_session, seed.dept_a)] == [incident.id]
    queued = db_session.scalars(select(Notification).where(Notification.topic == f"incident:{incident.id}",
                                                           Notification.channel != "inbox")).all()
    assert [(n.department_id, n.channel) for n in queued] == [(seed.dept_a, "webhook")]
    settings = dict(app.config, NOTIFY_WEBHOOK_URL=webhook_sink["url"])
    sent, failed = deliver_pending(db_session, settings)  # other alerts of the seeded data notify too
    assert sent >= 1 and failed == 0
    about = [m for m in webhook_sink["received"] if f"故障事件 #{incident.id}:" in json.dumps(m, ensure_ascii=False)]
    assert len(about) == 1, webhook_sink["received"]

    tcp_service.start()
    probe_cycle(db_session, app.config)

    def resolved():
        found = _incidents(db_session, seed.dept_a)
        return found if found and found[0].state == "resolved" else None
    [done] = _wait("the alert's resolution resolves the incident", resolved, timeout=60)
    assert done.id == incident.id and done.resolved_at is not None
    assert db_session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.topic == f"incident:{incident.id}",
                                    Notification.channel != "inbox")) == 2  # opened, resolved (the inbox besides)


def test_an_alert_inside_an_approved_maintenance_window_is_silenced(app, seed, db_session, stack,
                                                                    tcp_service):  # noqa: F811
    now = utcnow()
    window = MaintenanceWindow(kind="emergency", state="approved", title="门户网站升级", reason="升级", impact="中断",
                               systems=[SYSTEM], starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(hours=1),
                               departments=[db_session.get(Department, seed.dept_a)])
    db_session.add(window)
    db_session.commit()
    alertmanager = Alertmanager(stack["alertmanager"])
    # this window and the two seeded ones (approved, in three days): a silence may start later
    assert sync_silences(db_session, alertmanager, utcnow()) == (3, 0)
    assert sync_silences(db_session, alertmanager, utcnow()) == (0, 0)  # one silence per window
    later = db_session.get(MaintenanceWindow, seed.extra["window_id"][1])
    assert alertmanager.get_silence(later.silence_id)["status"]["state"] == "pending"
    silence = alertmanager.get_silence(window.silence_id)
    assert silence["status"]["state"] == "active" and silence["createdBy"] == "govcloud"
    assert {m["name"]: m["value"] for m in silence["matchers"]} == {"department": "DEPT\\-A", "system": SYSTEM}

    _outage_target(app, db_session, seed, tcp_service)
    tcp_service.stop()
    probe_cycle(db_session, app.config)
    _wait("GovcloudProbeFailing fires", lambda: _firing(stack))

    def suppressed():
        alerts = _get(stack["alertmanager"] + "/api/v2/alerts", filter=f'system="{SYSTEM}"')
        return [a for a in alerts if a["status"]["state"] == "suppressed"
                and window.silence_id in a["status"]["silencedBy"]]
    _wait("Alertmanager silences the alert", suppressed)
    time.sleep(4)  # several group intervals: nothing reaches govcloud
    assert _incidents(db_session, seed.dept_a) == []

    window.state = "cancelled"
    db_session.commit()
    silence_id = window.silence_id
    assert sync_silences(db_session, alertmanager, utcnow()) == (0, 1)
    assert alertmanager.get_silence(silence_id)["status"]["state"] == "expired"
    assert window.silence_id is None

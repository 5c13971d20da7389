"""A real Prometheus (Debian package) scrapes the portal with the project's configuration.

It finds a govcloud metric through its HTTP API, the alert rules pass `promtool check rules`, and
the probe-failing rule fires once a probe target is made unreachable. Intervals are shortened to
one second so the test stays short. The portal allows no address here (METRICS_ALLOWED_NETWORKS
empty): the target is up only because Prometheus sends the bearer token from its credentials file.
"""
import json
import secrets
import shutil
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from werkzeug.serving import make_server

from monitoring.jobs import probe_cycle
from portal.models.operations import ProbeTarget
from portal.services.audit import RequestInfo
from portal.services.probes import create_target
from tests.integration.monitoring_fixtures import free_port, stop, tcp_service, wait_for_port  # noqa: F401
from tests.integration.monitoring_fixtures import wait_until as _wait

CONFIG = Path(__file__).resolve().parents[2] / "config" / "prometheus"
PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
TOKEN_FILE = "/etc/prometheus/govcloud-metrics.token"  # where prometheus.yml expects the token


def _need_prometheus():
    if not (Path(PROMETHEUS).exists() and Path(PROMTOOL).exists()):
        pytest.fail("Prometheus is missing: run `make sysdeps` (Debian package prometheus)")


def _config_with_token(tmp_path, token):
    """The project's prometheus.yml with its token file moved to tmp_path (holding token)."""
    config = yaml.safe_load((CONFIG / "prometheus.yml").read_text())
    job = config["scrape_configs"][0]
    assert job["authorization"] == {"type": "Bearer", "credentials_file": TOKEN_FILE}
    token_file = tmp_path / "govcloud-metrics.token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o400)
    job["authorization"]["credentials_file"] = str(token_file)
    return config, token_file


def test_promtool_checks_the_rules_and_the_config(tmp_path):
    _need_prometheus()
    rules = subprocess.run([PROMTOOL, "check", "rules", str(CONFIG / "alerts.yml"), str(CONFIG / "recording.yml")],
                           capture_output=True, text=True)
    assert rules.returncode == 0, rules.stdout + rules.stderr
    config, _ = _config_with_token(tmp_path, "t")  # promtool checks that the credentials file exists
    config["rule_files"] = [str(CONFIG / "alerts.yml"), str(CONFIG / "recording.yml")]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    checked = subprocess.run([PROMTOOL, "check", "config", str(tmp_path / "prometheus.yml")],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.fixture
def portal_server(app):
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield port
    server.shutdown()
    thread.join(5)


def _api(port, path, **params):
    url = f"http://127.0.0.1:{port}/api/v1/{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())["data"]




@pytest.fixture
def prometheus(app, portal_server, tmp_path, monkeypatch):
    """Prometheus with the project's scrape file and rules, pointed at the test portal.

    The portal reads the token from the same file as Prometheus and allows no address without it.
    """
    _need_prometheus()
    config, token_file = _config_with_token(tmp_path, "prom-" + secrets.token_urlsafe(24))
    monkeypatch.setitem(app.config, "METRICS_BEARER_TOKEN", None)
    monkeypatch.setitem(app.config, "METRICS_BEARER_TOKEN_FILE", str(token_file))
    monkeypatch.setitem(app.config, "METRICS_ALLOWED_NETWORKS", [])
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config.pop("alerting")  # no Alertmanager here (test_prometheus_stack.py starts one)
    job = config["scrape_configs"][0]
    job.update(scrape_interval="1s", scrape_timeout="1s")
    job["static_configs"][0]["targets"] = [f"127.0.0.1:{portal_server}"]
    rules = yaml.safe_load((CONFIG / "alerts.yml").read_text())
    for group in rules["groups"]:
        group["interval"] = "1s"
        for rule in group["rules"]:
            rule["for"] = "0s"  # fire at the first evaluation that matches
    (tmp_path / "alerts.yml").write_text(yaml.safe_dump(rules, allow_unicode=True))
    config["rule_files"] = [str(tmp_path / "alerts.yml")]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = open(tmp_path / "prometheus.log", "wb")
    proc = subprocess.Popen([PROMETHEUS, f"--config.file={tmp_path / 'prometheus.yml'}",
                             f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, 30)
        yield port
    finally:
        stop(proc, 20)
        log.close()


def test_prometheus_scrapes_the_portal_and_the_probe_alert_fires(app, seed, db_session, prometheus, tcp_service):
    for target in db_session.scalars(select(ProbeTarget)):
        target.enabled = False
    db_session.commit()
    create_target(db_session, RequestInfo(correlation_id="test"), {
        "department_id": seed.dept_a, "system_name": "门户网站", "name": "https", "kind": "tcp",
        "settings": {"host": "127.0.0.1", "port": tcp_service.port}, "failure_threshold": 2})
    probe_cycle(db_session, app.config)

    def probe_value():
        result = _api(prometheus, "query", query='govcloud_probe_success{department="DEPT-A",system="门户网站"}')
        return result["result"][0]["value"][1] if result["result"] else None

    assert _wait("Prometheus has scraped the probe metric", probe_value) == "1"
    health = _api(prometheus, "targets")["activeTargets"][0]
    assert health["health"] == "up" and health["labels"]["job"] == "govcloud-portal"
    # without the token the same scrape is refused: the target is up thanks to the token
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(health["scrapeUrl"], timeout=5)
    assert refused.value.code == 401
    refused.value.close()  # the error holds the response's socket

    tcp_service.stop()
    probe_cycle(db_session, app.config)
    probe_cycle(db_session, app.config)

    def firing():
        alerts = _api(prometheus, "alerts")["alerts"]
        return [a for a in alerts if a["labels"]["alertname"] == "GovcloudProbeFailing"
                and a["labels"].get("system") == "门户网站" and a["state"] == "firing"]

    alert = _wait("GovcloudProbeFailing fires", firing)[0]
    assert alert["labels"]["department"] == "DEPT-A" and alert["labels"]["kind"] == "tcp"

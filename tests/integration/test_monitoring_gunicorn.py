"""/metrics under gunicorn with several workers: prometheus-client's multiprocess mode."""
import os
import subprocess
import sys
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import clouds_yaml
from tests.integration.monitoring_fixtures import free_port, wait_for_port

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_metrics_are_summed_over_gunicorn_workers(migrated_app, tmp_path):
    port = free_port()
    multiproc = tmp_path / "multiproc"
    multiproc.mkdir()
    env = dict(os.environ, GOVCLOUD_DATABASE_URL=migrated_app.config["DATABASE_URL"], GOVCLOUD_SECRET_KEY="t",
               GOVCLOUD_INSTANCE_PATH=str(tmp_path), PROMETHEUS_MULTIPROC_DIR=str(multiproc), PYTHONPATH=REPO,
               GOVCLOUD_CRYPTO_KEY_FILE=migrated_app.config["CRYPTO_KEY_FILE"],
               GOVCLOUD_CLOUDS_YAML=str(clouds_yaml()),
               # each scrape renders: the scrape counters of the cached rendering would lag a cycle
               GOVCLOUD_METRICS_RENDER_SECONDS="0")
    log = open(tmp_path / "gunicorn.log", "wb")
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    proc = subprocess.Popen([gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "3", "portal.wsgi:app"],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, 30)
        for _ in range(12):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=60) as resp:
                assert resp.status == 200
        time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=60) as resp:
            text = resp.read().decode()
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    scrapes = [s for s in families["govcloud_metrics_scrapes"].samples if s.name.endswith("_total")]
    assert sum(s.value for s in scrapes) >= 12  # every worker's count, from the shared folder
    assert len(list(multiproc.iterdir())) >= 1
    assert "govcloud_cloud_service_up" in text

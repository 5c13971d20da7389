"""deploy/ as operators run it (issue 21): the Compose file and the Kubernetes manifests start the
same processes from the image's entrypoints, with every file, secret and config map they name
present, and the proxy, Prometheus and Grafana wired to the portals and the dashboard. (The image
itself is built and run in test_container_image.py.)"""
import json
import os
import re

import yaml

from portal.entry import PROCESSES

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMPOSE_DIR = os.path.join(REPO, "deploy", "compose")
K8S_DIR = os.path.join(REPO, "deploy", "k8s")
GOVCLOUD_SERVICES = {"migrate", "portal-1", "portal-2", "worker-1", "worker-2", "scheduler-1", "scheduler-2"}


def read(*parts):
    with open(os.path.join(*parts)) as f:
        return f.read()


def compose():
    return yaml.safe_load(read(COMPOSE_DIR, "compose.yaml"))


def k8s_documents():
    docs = []
    for name in yaml.safe_load(read(K8S_DIR, "kustomization.yaml"))["resources"]:
        docs.extend(d for d in yaml.safe_load_all(read(K8S_DIR, name)) if d)
    return docs


def is_govcloud_command(command):
    """A command the image runs: gunicorn on the portal's app, or a `govcloud` subcommand."""
    if command[:2] == ["gunicorn", "portal.wsgi:app"]:
        return True
    return command[0] == "govcloud" and (command[1] in PROCESSES or command[1:3] == ["db", "upgrade"])


def test_compose_runs_two_of_each_process_behind_tls_with_monitoring():
    doc = compose()
    services = doc["services"]
    assert GOVCLOUD_SERVICES | {"postgres", "proxy", "prometheus", "alertmanager", "grafana"} <= set(services)
    for name in GOVCLOUD_SERVICES:
        service = services[name]
        assert service["image"] == services["portal-1"]["image"] and service["build"]["context"] == "../.."
        assert is_govcloud_command(service["command"]), (name, service["command"])
        env = service["environment"]
        assert env["GOVCLOUD_CONFIG"].startswith("/run/secrets/") and env["GOVCLOUD_CRYPTO_KEY_FILE"]
        if name != "migrate":  # nothing starts before the schema is there
            assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert [services[f"portal-{n}"]["command"][0] for n in (1, 2)] == ["gunicorn", "gunicorn"]
    assert {services[f"worker-{n}"]["command"][1] for n in (1, 2)} == {"worker"}
    assert {services[f"scheduler-{n}"]["command"][1] for n in (1, 2)} == {"scheduler"}
    # every secret named is declared, every declared one is a file make-secrets.sh writes (or clouds.yaml)
    named = {s if isinstance(s, str) else s["source"] for svc in services.values() for s in svc.get("secrets", [])}
    assert named == set(doc["secrets"])
    made = read(COMPOSE_DIR, "make-secrets.sh")
    for name, spec in doc["secrets"].items():
        assert spec["file"] == f"./secrets/{name}"
        assert name == "clouds.yaml" or f"secrets/{name}" in made, name
    # the files bind-mounted from the checkout exist
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert os.path.exists(os.path.join(COMPOSE_DIR, source)), source


def test_the_proxy_terminates_tls_for_both_portals_and_hides_metrics():
    conf = read(COMPOSE_DIR, "nginx.conf")
    assert re.search(r"listen 443 ssl;", conf) and "ssl_certificate     /run/secrets/tls.crt;" in conf
    assert "server portal-1:8080" in conf and "server portal-2:8080" in conf
    assert re.search(r"location /metrics \{[^\n]*\n\s*return 404;", conf)
    assert compose()["services"]["proxy"]["secrets"] == ["tls.crt", "tls.key"]
    env = compose()["services"]["portal-1"]["environment"]
    assert env["GOVCLOUD_PROXY_FIX_X_FOR"] == "1"


def test_prometheus_scrapes_each_portal_with_the_token_and_grafana_gets_the_dashboard():
    services = compose()["services"]
    prom = yaml.safe_load(read(COMPOSE_DIR, "prometheus.yml"))
    job = prom["scrape_configs"][0]
    assert job["static_configs"][0]["targets"] == ["portal-1:8080", "portal-2:8080"]
    token = [s for s in services["prometheus"]["secrets"] if s["source"] == "metrics.token"][0]
    assert job["authorization"]["credentials_file"] == token["target"]
    assert prom["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]
    assert "../../config/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro" in services["prometheus"]["volumes"]
    provider = yaml.safe_load(read(COMPOSE_DIR, "grafana", "provisioning", "dashboards", "govcloud.yml"))
    path = provider["providers"][0]["options"]["path"]
    assert f"../../config/grafana:{path}:ro" in services["grafana"]["volumes"]
    dashboard = json.loads(read(REPO, "config", "grafana", "dashboards", "govcloud-fleet.json"))
    assert dashboard["uid"] and dashboard["panels"]


def test_kubernetes_runs_the_same_processes_from_the_same_image():
    docs = k8s_documents()
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    assert {"portal", "worker", "scheduler", "prometheus", "alertmanager", "grafana"} <= set(deployments)
    services = compose()["services"]
    for name in ("portal", "worker", "scheduler"):
        spec = deployments[name]["spec"]
        assert spec["replicas"] == 2
        container = spec["template"]["spec"]["containers"][0]
        assert container["image"] == "govcloud"
        assert container["command"] == services[f"{name}-1"]["command"]
        env = {e["name"] for e in container["env"]}
        assert set(services[f"{name}-1"]["environment"]) <= env
    job = [d for d in docs if d["kind"] == "Job"][0]
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == services["migrate"]["command"]
    ingress = [d for d in docs if d["kind"] == "Ingress"][0]
    assert ingress["spec"]["tls"][0]["secretName"] == "govcloud-tls"
    assert [d for d in docs if d["kind"] == "PodDisruptionBudget"][0]["spec"]["selector"]["matchLabels"] == \
        deployments["portal"]["spec"]["selector"]["matchLabels"]


def test_kubernetes_config_maps_and_secrets_exist():
    kustomization = yaml.safe_load(read(K8S_DIR, "kustomization.yaml"))
    generated = {}
    for generator in kustomization["configMapGenerator"]:
        for name in generator["files"]:
            path = os.path.join(K8S_DIR, name)
            assert os.path.isfile(path), path  # the links to config/ resolve
            generated.setdefault(generator["name"], set()).add(name)
    header = read(K8S_DIR, "kustomization.yaml")
    created = set(re.findall(r"create secret (?:generic|tls) (\S+)", header))
    for doc in k8s_documents():
        pod = doc.get("spec", {}).get("template", {}).get("spec", {})
        for volume in pod.get("volumes", []):
            if "secret" in volume:
                assert volume["secret"]["secretName"] in created, volume
            if "configMap" in volume:
                cm = volume["configMap"]
                assert cm["name"] in generated, volume
                assert {i["key"] for i in cm.get("items", [])} <= generated[cm["name"]]
    prom = yaml.safe_load(read(K8S_DIR, "prometheus.yml"))
    assert prom["scrape_configs"][0]["dns_sd_configs"][0]["names"] == ["portal-metrics.govcloud.svc.cluster.local"]

"""The committed dashboards are what config/grafana/dashboards.py generates; every panel has a query,
every query's recording rule exists, every dashboard is provisioned from one folder."""
import json
import re
from pathlib import Path

import yaml

from config.grafana import dashboards

CONFIG = Path(dashboards.__file__).resolve().parents[1]


def test_the_committed_json_is_what_the_generator_writes(tmp_path):
    dashboards.main(tmp_path)
    generated = sorted(p.name for p in tmp_path.iterdir())
    assert generated == sorted(p.name for p in (CONFIG / "grafana/dashboards").glob("*.json"))
    for name in generated:
        assert (tmp_path / name).read_text() == (CONFIG / "grafana/dashboards" / name).read_text(), (
            f"{name} differs: run `.venv/bin/python config/grafana/dashboards.py` and commit the JSON")


def test_each_panel_queries_prometheus_and_each_recorded_series_has_its_rule():
    recorded = {rule["record"] for group in yaml.safe_load((CONFIG / "prometheus/recording.yml").read_text())["groups"]
                for rule in group["rules"]}
    used = set()
    for name in dashboards.DASHBOARDS:
        data = json.loads(dashboards.render(name))
        assert data["uid"] == f"govcloud-{name}" and data["timezone"] == "Asia/Shanghai"
        queries = dashboards.panel_queries(data)
        assert len(queries) >= len(data["panels"]) >= 4
        for title, expr in queries:
            assert expr and " / " in title, (name, title)  # Chinese first, English after
            used |= set(re.findall(r"govcloud:[a-z0-9_:]+", expr))
    assert used <= recorded, used - recorded
    assert recorded == used, recorded - used  # no recording rule that nothing reads

"""/metrics serves bytes rendered once per cycle and after a change, gzip when asked.

A scrape between two renderings costs no query: the test counts the statements a scrape sends to
the database. A commit of the portal renders again in the background; so does a cycle's end.
"""
import gzip
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event

from portal.models.operations import ProbeTarget
from tests.integration.monitoring_fixtures import wait_until
from tests.integration.test_metrics_auth import TOKEN, bearer

OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}


def _values(body, name):
    return [s for f in text_string_to_metric_families(body) for s in f.samples if s.name == name]




@pytest.fixture
def cached(app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_RENDER_SECONDS", 3600)
    app.extensions.pop("govcloud_metrics", None)  # the renderer of earlier tests renders at each scrape
    monkeypatch.setitem(app.config, "METRICS_BEARER_TOKEN", TOKEN)
    statements = []

    def count(*_args):
        statements.append(1)
    engine = app.extensions["govcloud_db"][0]
    event.listen(engine, "before_cursor_execute", count)
    yield statements
    event.remove(engine, "before_cursor_execute", count)
    endpoint = app.extensions.pop("govcloud_metrics", None)
    if endpoint is not None:  # the next test resets the database: let a rendering under way end first
        wait_until("the background rendering ends", lambda: not endpoint.cache.rendering, timeout=10, every=0.05)
        endpoint.close()


def _scrape(client, **headers):
    return client.get("/metrics", environ_base=OUTSIDE, headers={**bearer(TOKEN), **headers})


def test_a_scrape_serves_the_cached_rendering_without_a_query(app, seed, cached):
    client = app.test_client()
    first = _scrape(client)
    assert first.status_code == 200 and "Accept-Encoding" in first.headers["Vary"]
    rendered_at = _values(first.get_data(as_text=True), "govcloud_metrics_render_timestamp_seconds")[0].value
    assert abs(rendered_at - time.time()) < 60
    assert _values(first.get_data(as_text=True), "govcloud_metrics_render_duration_seconds")[0].value > 0
    cached.clear()
    again = [_scrape(client) for _ in range(5)]
    assert all(r.get_data() == first.get_data() for r in again)
    assert cached == []  # no statement: the bytes come from memory
    # refused scrapes are refused as before, with no metric
    refused = client.get("/metrics", environ_base=OUTSIDE)
    assert refused.status_code == 401 and b"govcloud_" not in refused.get_data()


def test_gzip_when_asked(app, seed, cached):
    client = app.test_client()
    plain = _scrape(client)
    assert "Content-Encoding" not in plain.headers
    zipped = _scrape(client, **{"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.get_data()) == plain.get_data()
    assert len(zipped.get_data()) < len(plain.get_data()) / 3
    refused = _scrape(client, **{"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers


def test_a_commit_renders_again_in_the_background(app, seed, db_session, cached):
    client = app.test_client()
    target = db_session.get(ProbeTarget, seed.extra["target_id"][0])
    target.last_ok, target.last_latency_ms = True, 7
    db_session.commit()
    before = _scrape(client).get_data(as_text=True)
    assert [s.value for s in _values(before, "govcloud_probe_success") if s.labels["system"] == target.system_name]
    target.last_ok = False
    db_session.commit()

    def failing():
        body = _scrape(client).get_data(as_text=True)
        return [s.value for s in _values(body, "govcloud_probe_success")
                if s.labels["system"] == target.system_name] == [0.0]
    wait_until("the change reaches /metrics", failing, timeout=10, every=0.05)


def test_a_stale_rendering_is_served_while_the_next_one_is_made(app, seed, cached, monkeypatch):
    client = app.test_client()
    first = _scrape(client).get_data(as_text=True)
    endpoint = app.extensions["govcloud_metrics"]
    monkeypatch.setattr(endpoint.cache, "cycle", 0.2)
    time.sleep(0.3)
    stale = _scrape(client).get_data(as_text=True)  # served at once, the rendering starts behind it
    assert stale == first

    def newer():
        body = _scrape(client).get_data(as_text=True)
        return (_values(body, "govcloud_metrics_render_timestamp_seconds")[0].value
                > _values(first, "govcloud_metrics_render_timestamp_seconds")[0].value)
    wait_until("a new rendering after the cycle", newer, timeout=10, every=0.05)


def test_the_database_is_rendered_in_a_process_of_its_own(app, seed, cached):
    """The families of the database come from a child process (the scrape never waits on a rendering
    for the interpreter lock); its text and gzip are the same as a rendering here; a child that dies is
    replaced at the next rendering, and until then the previous bytes are served."""
    import os
    import signal

    from monitoring.metrics import render_families

    client = app.test_client()
    first = _scrape(client, **{"Accept-Encoding": "gzip"})
    endpoint = app.extensions["govcloud_metrics"]
    child = endpoint.render_process.pid
    assert child is not None and child != os.getpid() and endpoint.render_process.started == 1
    body = gzip.decompress(first.get_data())  # a gzip member per part, read as one stream
    here = render_families(endpoint.database.collect()).decode()

    def series(text):
        return {(s.name, tuple(sorted(s.labels.items()))) for f in text_string_to_metric_families(text)
                for s in f.samples}
    there = series(body.decode())
    assert series(here) <= there and ("govcloud_metrics_render_duration_seconds", ()) in there
    assert len(series(here)) > 20

    os.kill(child, signal.SIGKILL)
    wait_until("the child is gone", lambda: endpoint.render_process.pid is None, timeout=10, every=0.05)
    assert _scrape(client).get_data() == gzip.decompress(first.get_data())  # served from memory meanwhile
    endpoint.cache.changed()
    wait_until("a new rendering", lambda: endpoint.cache.current.at > endpoint.cache.clock() - 5
               and endpoint.render_process.started == 2 and not endpoint.cache.rendering, timeout=30, every=0.05)
    assert endpoint.render_process.pid not in (None, child)

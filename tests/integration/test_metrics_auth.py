"""/metrics answers Prometheus only: the bearer token, or an address in METRICS_ALLOWED_NETWORKS.

Every refusal is a 401 with `WWW-Authenticate: Bearer realm="metrics"` and no metric in the body;
a browser session (even an admin's) counts for nothing; a raw X-Forwarded-For is not believed.
"""
import pytest

from tests.conftest import login

OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}  # TEST-NET-3: in no allow-list
TOKEN = "prom-Xk2-9f8e7d6c5b4a"


def _refused(response, error=None):
    body = response.get_data(as_text=True)
    assert response.status_code == 401, (response.status_code, body[:200])
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="metrics"'), challenge
    assert ('error="invalid_token"' in challenge) == (error == "invalid_token"), challenge
    assert response.mimetype == "text/plain" and "govcloud_" not in body and "DEPT-" not in body
    return body


def _served(response):
    body = response.get_data(as_text=True)
    assert response.status_code == 200, (response.status_code, body[:200])
    assert "govcloud_cloud_service_up" in body
    return body


@pytest.fixture
def with_token(app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_BEARER_TOKEN", TOKEN)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_anonymous_outside_the_allow_list_is_refused(app, seed, with_token):
    body = _refused(app.test_client().get("/metrics", environ_base=OUTSIDE))
    assert "/metrics" in body  # the plain-text reason, in the caller's language (zh-CN by default)


def test_no_token_configured_accepts_no_token(app, seed, monkeypatch):
    for token in (None, ""):
        monkeypatch.setitem(app.config, "METRICS_BEARER_TOKEN", token)
        client = app.test_client()
        _refused(client.get("/metrics", environ_base=OUTSIDE))
        for header, error in (("Bearer ", None), ("Bearer", None), ("Basic Og==", None),
                              ("Bearer None", "invalid_token")):
            _refused(client.get("/metrics", environ_base=OUTSIDE, headers={"Authorization": header}), error)


def test_wrong_token_is_refused(app, seed, with_token):
    client = app.test_client()
    _refused(client.get("/metrics", environ_base=OUTSIDE, headers=bearer("wrong")), "invalid_token")
    _refused(client.get("/metrics", environ_base=OUTSIDE, headers=bearer(TOKEN[:-1])), "invalid_token")
    _refused(client.get("/metrics", environ_base=OUTSIDE, headers={"Authorization": TOKEN}))  # no scheme


def test_right_token_from_outside_the_allow_list_is_served(app, seed, with_token):
    _served(app.test_client().get("/metrics", environ_base=OUTSIDE, headers=bearer(TOKEN)))
    _served(app.test_client().get("/metrics", environ_base=OUTSIDE, headers={"Authorization": f"bearer {TOKEN}"}))


def test_allowed_address_without_token_is_served(app, seed, with_token, monkeypatch):
    _served(app.test_client().get("/metrics"))  # the test client comes from 127.0.0.1: loopback by default
    _served(app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "::1"}))
    monkeypatch.setitem(app.config, "METRICS_ALLOWED_NETWORKS", ["10.0.0.0/8"])
    for address in ("10.20.30.40", "::ffff:10.20.30.40"):  # the second: a dual-stack socket
        _served(app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": address}))
    _refused(app.test_client().get("/metrics"))  # loopback is no longer in the list
    _refused(app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "11.0.0.1"}))
    # an allowed address with a wrong token is still an allowed address
    _served(app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "10.0.0.1"}, headers=bearer("x")))


def test_token_file_is_read_at_each_scrape(app, seed, monkeypatch, tmp_path):
    token_file = tmp_path / "govcloud-metrics.token"
    token_file.write_text(TOKEN + "\n")
    monkeypatch.setitem(app.config, "METRICS_BEARER_TOKEN", None)
    monkeypatch.setitem(app.config, "METRICS_BEARER_TOKEN_FILE", str(token_file))
    client = app.test_client()
    _served(client.get("/metrics", environ_base=OUTSIDE, headers=bearer(TOKEN)))
    token_file.write_text("rotated-token-2\n")
    _refused(client.get("/metrics", environ_base=OUTSIDE, headers=bearer(TOKEN)), "invalid_token")
    _served(client.get("/metrics", environ_base=OUTSIDE, headers=bearer("rotated-token-2")))
    token_file.unlink()  # unreadable: no token is accepted (and the error is logged)
    _refused(client.get("/metrics", environ_base=OUTSIDE, headers=bearer("rotated-token-2")), "invalid_token")


@pytest.mark.parametrize("who", ["dept", "admin"])
def test_a_browser_session_is_no_side_door(app, seed, with_token, who):
    """Logged in from outside the allow-list, the session works for pages but not for /metrics."""
    client = app.test_client()
    client.environ_base.update(OUTSIDE)
    assert login(client, seed.users[who]).status_code == 302
    assert client.get("/").status_code == 200  # the session is good
    _refused(client.get("/metrics"))


def test_x_forwarded_for_is_not_believed_without_proxy_fix(app, seed, with_token):
    assert not app.config["PROXY_FIX_X_FOR"]
    _refused(app.test_client().get("/metrics", environ_base=OUTSIDE, headers={"X-Forwarded-For": "127.0.0.1"}))
    # through an untrusted proxy on loopback (nginx on the same host): the real client is unknown
    for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
        _refused(app.test_client().get("/metrics", headers={header: "203.0.113.9"}))
    _served(app.test_client().get("/metrics", headers={"X-Forwarded-For": "203.0.113.9", **bearer(TOKEN)}))


def test_behind_a_trusted_proxy_the_client_address_counts(app, seed, with_token, monkeypatch):
    """A proxy in the allow-list does not let everyone behind it in: ProxyFix gives the real client."""
    from werkzeug.middleware.proxy_fix import ProxyFix
    monkeypatch.setitem(app.config, "PROXY_FIX_X_FOR", 1)  # as create_app would set it up
    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app, x_for=1, x_proto=1))
    monkeypatch.setitem(app.config, "METRICS_ALLOWED_NETWORKS", ["10.0.0.0/8"])
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    _refused(app.test_client().get("/metrics", environ_base=proxy, headers={"X-Forwarded-For": "203.0.113.9"}))
    _served(app.test_client().get("/metrics", environ_base=proxy, headers={"X-Forwarded-For": "10.9.8.7"}))
    _served(app.test_client().get("/metrics", environ_base=proxy,
                                  headers={"X-Forwarded-For": "203.0.113.9", **bearer(TOKEN)}))

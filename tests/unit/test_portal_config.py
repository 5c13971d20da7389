"""Configuration order and start-up checks (no database is touched)."""
import pytest

from portal import create_app
from portal.database import normalize_url
from portal.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    import os
    for key in list(os.environ):
        if key.startswith("GOVCLOUD_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("GOVCLOUD_INSTANCE_PATH", str(tmp_path / "instance"))


def test_production_without_secret_key_stops():
    with pytest.raises(ConfigError, match="SECRET_KEY.*GOVCLOUD_SECRET_KEY"):
        create_app()


def test_malformed_database_url_stops(monkeypatch):
    monkeypatch.setenv("GOVCLOUD_SECRET_KEY", "s")
    monkeypatch.setenv("GOVCLOUD_DATABASE_URL", "not a url at all")
    with pytest.raises(ConfigError, match="DATABASE_URL.*malformed"):
        create_app()


@pytest.mark.parametrize("url", ["mysql://u@h/db", "postgresql+psycopg2://u@h/db", "postgresql://u@h"])
def test_unsupported_database_urls_stop(url):
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        normalize_url(url)


def test_plain_postgresql_url_gets_psycopg3():
    assert normalize_url("postgresql://u:p@h:5432/db") == "postgresql+psycopg://u:p@h:5432/db"


def test_defaults_file_env_then_overrides(monkeypatch, tmp_path):
    toml = tmp_path / "govcloud.toml"
    toml.write_text('SECRET_KEY = "from-file"\nPAGE_SIZE = 7\nLOGIN_MAX_FAILURES = 3\nlowercase = "ignored"\n')
    monkeypatch.setenv("GOVCLOUD_CONFIG", str(toml))
    monkeypatch.setenv("GOVCLOUD_PAGE_SIZE", "9")
    app = create_app({"LOGIN_MAX_FAILURES": 4})
    assert app.config["SECRET_KEY"] == "from-file"
    assert app.config["PAGE_SIZE"] == 9  # environment beats the file
    assert app.config["LOGIN_MAX_FAILURES"] == 4  # overrides beat the environment
    assert app.config["LOGIN_LOCKOUT_MINUTES"] == 15  # default
    assert "lowercase" not in app.config
    assert app.config["DATABASE_URL"].startswith("sqlite:///") and "instance" in app.config["DATABASE_URL"]
    assert app.config["SESSION_COOKIE_SECURE"] is True  # production
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_example_config_file_loads(monkeypatch):
    import pathlib
    example = pathlib.Path(__file__).resolve().parents[2] / "config" / "govcloud.example.toml"
    monkeypatch.setenv("GOVCLOUD_CONFIG", str(example))
    app = create_app({"TESTING": True})
    assert app.config["BABEL_DEFAULT_LOCALE"] == "zh_CN" and app.config["PAGE_SIZE"] == 20


def test_missing_config_file_stops(monkeypatch, tmp_path):
    monkeypatch.setenv("GOVCLOUD_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="does not exist"):
        create_app({"TESTING": True})


def test_bad_integer_setting_stops():
    with pytest.raises(ConfigError, match="PAGE_SIZE"):
        create_app({"TESTING": True, "PAGE_SIZE": 0})


def test_testing_app_is_not_secure_cookie_and_gets_dev_secret():
    app = create_app({"TESTING": True})
    assert app.config["SESSION_COOKIE_SECURE"] is False and app.config["SECRET_KEY"]


def test_proxy_fix_takes_the_client_address_from_the_proxy():
    from flask import request
    app = create_app({"TESTING": True, "PROXY_FIX_X_FOR": 1})
    seen = {}

    @app.route("/probe")
    def probe():
        seen["addr"] = request.remote_addr
        return "ok"

    app.view_functions["probe"].is_public = True
    app.test_client().get("/probe", headers={"X-Forwarded-For": "10.1.2.3"})
    assert seen["addr"] == "10.1.2.3"


def _settings(tmp_path, overrides=None, **environ):
    from portal.settings import load_settings
    return load_settings({"TESTING": True, **(overrides or {})}, instance_path=str(tmp_path),
                         environ={f"GOVCLOUD_{k}": v for k, v in environ.items()})


def test_metrics_allow_list_defaults_to_loopback_and_reads_a_comma_list(tmp_path):
    assert _settings(tmp_path)["METRICS_ALLOWED_NETWORKS"] == ["127.0.0.1/32", "::1/128"]
    cfg = _settings(tmp_path, METRICS_ALLOWED_NETWORKS="10.0.0.0/8, 192.0.2.7 ,fd00::/8")
    assert cfg["METRICS_ALLOWED_NETWORKS"] == ["10.0.0.0/8", "192.0.2.7/32", "fd00::/8"]
    assert _settings(tmp_path, METRICS_ALLOWED_NETWORKS="")["METRICS_ALLOWED_NETWORKS"] == []  # token only
    assert _settings(tmp_path, METRICS_ALLOWED_NETWORKS='["10.1.0.0/16"]')["METRICS_ALLOWED_NETWORKS"] == [
        "10.1.0.0/16"]


@pytest.mark.parametrize("networks", ["10.0.0.1/8", "not-a-network", "10.0.0.0/33"])
def test_malformed_metrics_network_stops(tmp_path, networks):
    with pytest.raises(ConfigError, match="METRICS_ALLOWED_NETWORKS"):
        _settings(tmp_path, METRICS_ALLOWED_NETWORKS=networks)


def test_metrics_open_to_everyone_stops_in_production(tmp_path):
    with pytest.raises(ConfigError, match="METRICS_ALLOWED_NETWORKS.*bearer token"):
        _settings(tmp_path, {"TESTING": False, "SECRET_KEY": "s"}, METRICS_ALLOWED_NETWORKS="0.0.0.0/0")
    assert _settings(tmp_path, METRICS_ALLOWED_NETWORKS="0.0.0.0/0")["METRICS_ALLOWED_NETWORKS"] == ["0.0.0.0/0"]


def test_metrics_token_and_token_file_are_exclusive(tmp_path):
    with pytest.raises(ConfigError, match="METRICS_BEARER_TOKEN.*not both"):
        _settings(tmp_path, METRICS_BEARER_TOKEN="t", METRICS_BEARER_TOKEN_FILE="/etc/govcloud/metrics.token")
    cfg = _settings(tmp_path, METRICS_BEARER_TOKEN_FILE="/etc/govcloud/metrics.token")
    assert cfg["METRICS_BEARER_TOKEN_FILE"] == "/etc/govcloud/metrics.token" and not cfg["METRICS_BEARER_TOKEN"]

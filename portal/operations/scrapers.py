"""Who may scrape /metrics: Prometheus with the bearer token, or an address in the allow-list.

A browser session counts for nothing here (an admin's browser is not a scraper). The client
address is request.remote_addr as the app resolves it: behind a proxy that is the proxy's address
unless PROXY_FIX_X_FOR trusts its X-Forwarded-For; a raw X-Forwarded-For header is never read here.
A request that shows it came through a proxy the portal does not trust (a forwarding header while
PROXY_FIX_X_FOR is 0) is from an unknown address: only the token lets it in.
"""
import hmac
import ipaddress
import logging
import os
from functools import lru_cache

log = logging.getLogger(__name__)
FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


@lru_cache(maxsize=8)
def _networks(cidrs):
    return tuple(ipaddress.ip_network(c) for c in cidrs)


def address_allowed(config, remote_addr):
    """True when remote_addr lies in one of METRICS_ALLOWED_NETWORKS."""
    try:
        address = ipaddress.ip_address(remote_addr or "")
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped:  # a dual-stack socket: ::ffff:127.0.0.1
        address = address.ipv4_mapped
    return any(address in network for network in _networks(tuple(config["METRICS_ALLOWED_NETWORKS"])))


def expected_token(config, key="METRICS_BEARER_TOKEN"):
    """The token a caller must send: config[key], else the content of the file config[key + "_FILE"]
    (re-read each time, so it can rotate). None when neither is set, or when the file cannot be read
    (then no token is accepted)."""
    if config.get(key):
        return config[key]
    path = config.get(key + "_FILE")
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            token = f.read().strip()
    except OSError as exc:
        log.error("%s_FILE %s cannot be read (%s): no token is accepted", key, path, exc.strerror or exc)
        return None
    if not token:
        log.error("%s_FILE %s is empty: no token is accepted", key, os.fspath(path))
    return token or None


def token_matches(config, key, headers):
    """True when the request's bearer token is the one configured under key (or its file)."""
    given = bearer_token(headers.get("Authorization"))
    token = expected_token(config, key) if given is not None else None
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


def bearer_token(authorization):
    """The token of an `Authorization: Bearer <token>` header, else None."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def check(config, remote_addr, headers):
    """Return "token", "address" (allowed, and why), "invalid_token" or "no_token" (refused)."""
    given = bearer_token(headers.get("Authorization"))
    if given is not None and token_matches(config, "METRICS_BEARER_TOKEN", headers):
        return "token"
    untrusted_proxy = not config["PROXY_FIX_X_FOR"] and any(h in headers for h in FORWARDING_HEADERS)
    if not untrusted_proxy and address_allowed(config, remote_addr):
        return "address"
    return "no_token" if given is None else "invalid_token"

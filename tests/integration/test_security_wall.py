"""The security wall: checks that walk app.url_map, so they grow with every route added."""
import logging
import re

from sqlalchemy import select

from portal.models.audit import AuditEvent
from tests.conftest import PASSWORD, csrf_token_from, login

INLINE = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", re.I)


def _url(rule):
    """The rule's URL with every argument set to 1 (checks run before the view looks it up)."""
    return re.sub(r"<[^>]+>", "1", rule.rule)


def _routes(app, method):
    for rule in app.url_map.iter_rules():
        if method in rule.methods and rule.endpoint != "static":
            yield rule


def test_every_form_post_without_csrf_token_is_refused(app, login_as):
    """Each state-changing browser route answers 400 without a token, whatever the role."""
    client = login_as("admin")
    checked = []
    for rule in _routes(app, "POST"):
        if rule.rule.startswith("/api/") or rule.rule == "/alerts/alertmanager":
            continue  # the JSON API and Alertmanager's webhook take bearer tokens, never the session cookie
        response = client.post(_url(rule), data={"x": "1"})
        assert response.status_code == 400, (rule.rule, response.status_code)
        checked.append(rule.rule)
    assert len(checked) >= 5


def test_the_api_ignores_the_session_cookie(app, login_as):
    client = login_as("admin")
    api_rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/")
                 and not r.rule.endswith("openapi.json")]
    for rule in api_rules:
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        response = client.open(_url(rule), method=method, json={})
        assert response.status_code == 401, (rule.rule, method, response.status_code)


def test_every_page_sends_the_security_headers_and_no_inline_code(app, login_as):
    client = login_as("admin")
    pages = 0
    for rule in _routes(app, "GET"):
        if rule.arguments:
            continue
        response = client.get(rule.rule)
        response.close()  # a streamed export holds its request (and transaction) until closed
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"], rule.rule
        assert response.headers["X-Frame-Options"] == "DENY", rule.rule
        assert response.headers["X-Content-Type-Options"] == "nosniff", rule.rule
        if response.mimetype == "text/html":
            html = response.get_data(as_text=True)
            assert not INLINE.search(html), (rule.rule, INLINE.search(html).group(0))
            assert not re.search(r'(src|href)="https?://', html), rule.rule
            pages += 1
    assert pages >= 5


def test_passwords_never_reach_logs_or_the_audit_log(app, client, seed, login_as, caplog,
                                                     db_session):
    caplog.set_level(logging.DEBUG)
    wrong = "Wrong-password-9876"
    login(client, seed.users["bureau"], password=wrong)
    login(client, seed.users["bureau"])
    new = "Brand-new-password-2468"
    user = login_as("dept")
    page = user.get("/password").get_data(as_text=True)
    changed = user.post("/password", data={"current_password": PASSWORD, "new_password": new,
                                           "confirm": new, "csrf_token": csrf_token_from(page)})
    assert changed.status_code == 302  # the change went through: the check below is not vacuous
    text = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (PASSWORD, wrong, new):
        assert secret not in text
    for event in db_session.scalars(select(AuditEvent)):
        blob = f"{event.before} {event.after} {event.detail}"
        for secret in (PASSWORD, wrong, new):
            assert secret not in blob, event.action

"""Every page of every role speaks Chinese in zh_CN: no English word, no raw code, no half-width
punctuation after Chinese text. And the same pages in English show no Chinese (a missing English
text would show as its Chinese fallback or as a raw key).

Every GET route of app.url_map is rendered as each seeded role with the seeded rows (tests/*_seed.py
and the extra rows below), so the lists and detail pages have something to show.
"""
import pathlib
import re
from html.parser import HTMLParser

import pytest

from tests.conftest import make_test_app
from tests.integration.conftest import clouds_yaml

ROLES = ["dept", "dept_admin", "bureau", "vendor", "auditor", "admin", "security", "expert"]
# not pages: files, machine endpoints; the audit CSV is checked on its own below
NOT_PAGES = {"static", "operations.metrics", "main.healthz", "requests.attachment",
             "requests.receipt_pdf", "backups.download", "audit.export", "billing.report_export",
             "inventory.export", "requests.progress_json", "requests.charts_json", "requests.form_pdf",
             "duties.version_document", "duties.evidence",
             "evaluation.assessment_export", "security_reports.export",
             "contacts.export", "contacts.agreement_document", "projects.document",
             "projects.declaration_xlsx", "projects.declaration_pdf", "projects.dossier_xlsx",
             "projects.dossier_pdf", "projects.plan_xlsx", "projects.plan_pdf"}

# Words a Chinese page may show as they are: units, product and protocol names, formats, algorithms,
# and the name of the English language in the language switch.
ALLOWED_WORDS = {
    "GB", "MB", "TB", "KB", "Mbps", "Word", "Excel", "vCPU", "CPU", "OpenStack", "IP", "IPv4", "IPv6", "SSH", "TCP", "HTTP", "HTTPS",
    "ICMP", "URL", "PDF", "CSV", "JSON", "API", "TOTP", "UUID", "ID", "SM2", "SM3", "SM4", "SHA", "UDP",
    "AES", "GCM", "HMAC", "English", "Webhook", "SMTP", "SLA", "VPN", "Token", "Bearer", "DNS",
    "Prometheus", "Grafana", "Alertmanager", "CIDR", "UTF", "XLSX", "GET", "cron", "base64",
    "chinesecalendar", "Ed25519", "OpenSSH", "Argon2id", "Cookie", "SameSite", "SHA256", "KiB",
}
# What a user types or pastes as it is (file and header names, the API's path, a form's syntax),
# named in explanatory sentences where no <code> element can mark it
TYPED_AS_IS = ("authorized_keys", "/etc/ssh/ssh_host_ed25519_key.pub", "GOVCLOUD_*", "/api/v1",
               "Authorization: Bearer", "vcpu, ram, volume, snapshot, backup, floating_ip, volume:<type>")
# The values the seeders typed in (user names, codes, numbers, cloud names): data, not the portal's words.
SEEDED_VALUES = ("a-user", "a-member", "a-admin", "b-user", "b-admin", "bureau1", "vendor1", "auditor1",
                 "admin1", "security1", "expert1", "XM-T-", "DEPT-A", "DEPT-B", "COUNTY-C", "gc-web-1", "m1.tiny",
                 "gct_seed", "gc-seed-backup-", "gc-seed-", "seed", "ZWY-T-", "HZ-T-", "ZG-T-", "web", "worker", "net",
                 "i" * 36, "i" * 8)
# text inside these elements is a code or value shown on purpose (commands, keys, ids)
VERBATIM_TAGS = {"code", "kbd", "pre", "samp"}
HIDDEN_TAGS = {"script", "style", "template", "head"}
VISIBLE_ATTRS = ("placeholder", "title", "aria-label", "alt")

HAN = "\u3400-\u9fff\uf900-\ufaff"
UUID_RE = re.compile(r"\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b", re.I)
HEX_RE = re.compile(r"\b[0-9a-f]{16,}\b", re.I)
FINGERPRINT_RE = re.compile(r"\bSHA256:[A-Za-z0-9+/=]+")
IP_RE = re.compile(r"\b\d{1,3}(\.\d{1,3}){3}(/\d{1,2})?(:\d+)?\b")
WORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*")
# raw codes: identifiers with underscores, colon-joined keys, brackets of Python reprs, JSON objects
RAW_CODE_RES = [re.compile(p) for p in (
    r"\b\w*_\w+\b", r"[A-Za-z]\w*:\w+:\w+", r"\w+\[[^\]]*\]", r"\{\s*\"", r"\b[A-Z]{2,}_[A-Z]+\b", r"__\w+__")]
# half-width punctuation right after Chinese text (the glossary's 使用部门(单位) keeps its brackets)
HALF_WIDTH_RE = re.compile(rf"[{HAN}]\s*[,:;!?()]|[,:;!?(]\s*[{HAN}]")
HALF_WIDTH_ALLOWED = ("使用部门(单位)", "(单位)")


class VisibleText(HTMLParser):
    """The text a reader sees: element text and the visible attributes, without scripts and
    without the verbatim elements (<code>, <kbd>, <pre>, or any element marked data-verbatim)."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, skip_lang=None):
        super().__init__(convert_charrefs=True)
        self.skip_lang = skip_lang  # leave out elements in this language (lang="zh-CN": a Chinese document)
        self.stack = []  # (tag, skipped)
        self.chunks = []

    def skipped(self):
        return any(s for _, s in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        skip = (tag in HIDDEN_TAGS or tag in VERBATIM_TAGS or "data-verbatim" in attrs
                or (self.skip_lang is not None and attrs.get("lang") == self.skip_lang))
        if not self.skipped() and not skip:
            for name in VISIBLE_ATTRS:
                if attrs.get(name):
                    self.chunks.append(attrs[name])
            if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
                self.chunks.append(attrs["value"])
        if tag not in self.VOID:
            self.stack.append((tag, skip))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if not self.skipped() and data.strip():
            self.chunks.append(data.strip())


def visible_text(html, skip_lang=None):
    parser = VisibleText(skip_lang)
    parser.feed(html)
    parser.close()
    return parser.chunks


FILE_RE = re.compile(r"[^\s/]+\.(pdf|docx?|xlsx?|zip|png|jpe?g|txt)\b", re.I)


def _scrub(chunk, data=()):
    """Blank out what is data, not the portal's words: seeded and cloud names, ids, addresses, files."""
    for value in TYPED_AS_IS:
        chunk = chunk.replace(value, " ")
    for value in sorted((*SEEDED_VALUES, *data), key=len, reverse=True):
        tail = "(?![A-Za-z])" if value[-1].isalnum() else ""  # "web" is not "website"; "gc-seed-" is a prefix
        chunk = re.sub(rf"(?<![\w-]){re.escape(value)}{tail}", " ", chunk)
    for pattern in (FINGERPRINT_RE, UUID_RE, HEX_RE, IP_RE, FILE_RE):
        chunk = pattern.sub(" ", chunk)
    return chunk


def chinese_faults(chunks, data=()):
    """What in the visible text of a zh_CN page is not Chinese: English words, raw codes, half-width
    punctuation after Chinese (data: names that are values, e.g. the cloud's flavors)."""
    faults = []
    for raw in chunks:
        chunk = _scrub(raw, data)
        for pattern in RAW_CODE_RES:
            for match in pattern.finditer(chunk):
                faults.append(f"raw code {match.group(0)!r} in {raw!r}")
        words = [w for w in WORD_RE.findall(chunk) if w not in ALLOWED_WORDS]
        if words:
            faults.append(f"English {words} in {raw!r}")
        text = raw
        for allowed in HALF_WIDTH_ALLOWED:
            text = text.replace(allowed, "")
        for match in HALF_WIDTH_RE.finditer(text):
            faults.append(f"half-width {match.group(0)!r} in {raw!r}")
    return faults


def _seeded_chinese():
    """The Chinese values the seeders typed in (names of departments, systems, reasons...): data."""
    root = pathlib.Path(__file__).resolve().parents[1]
    values = {"中文"}  # the language switch names Chinese in Chinese
    for path in [root / "conftest.py", *root.glob("*_seed.py")]:
        for literal in re.findall(rf'"([^"]*[{HAN}][^"]*)"', path.read_text(encoding="utf-8")):
            values.update(part for part in re.split(r"\{[^}]*\}", literal) if part)  # f-strings' parts
    return sorted(values, key=len, reverse=True)


SEEDED_CHINESE = _seeded_chinese()


def english_faults(chunks):
    """Chinese left on an English page: a message without its English text, or Chinese written into
    a template or the code (the seeded data is Chinese and allowed)."""
    faults = []
    for raw in chunks:
        chunk = raw
        for value in SEEDED_CHINESE:
            chunk = chunk.replace(value, " ")
        if re.search(f"[{HAN}]", chunk) and not re.search("[A-Za-z]", chunk):  # English naming a 术语 is fine
            faults.append(f"Chinese in {raw!r}")
    return faults


def _routes():
    app = make_test_app("sqlite://", "/tmp/govcloud-route-listing")
    return sorted((rule.endpoint, rule.rule, tuple(sorted(rule.arguments)))
                  for rule in app.url_map.iter_rules()
                  if "GET" in rule.methods and rule.endpoint not in NOT_PAGES
                  and not rule.endpoint.startswith("api."))


ROUTES = _routes()


def url_values(seed):
    values = {"department_id": seed.dept_a, "user_id": seed.user_ids["dept_member"], "year": 2027}
    values.update({name: own for name, (own, _other) in seed.extra.items()})
    return values


@pytest.fixture
def cloud_app(app, seed):
    """The seeded app with the dev cloud's catalog (the request form lists its flavors and images),
    the scheduler's jobs and runs, an inventory snapshot and audit events with before/after values."""
    from sqlalchemy.orm import Session

    from portal.services.cloud_catalog import catalog
    from tests.operations_seed import seed_operations
    # one row a page: every list shows its pager (第 1 页，共 2 页)
    app.config.update(CLOUDS_YAML=str(clouds_yaml()), CLOUD="devcloud", PAGE_SIZE=1)
    with app.app_context(), Session(app.extensions["govcloud_db"][0]) as session:
        seed_operations(app, session, seed)
    cat = catalog(app.config)
    app.cloud_names = [f["name"] for f in cat["flavors"]] + [i["name"] for i in cat["images"]] + [app.config["CLOUD"]]
    return app


def render_all(app, seed, login_as, lang):
    """Yield (role, url, html) of every page each role may open."""
    from flask import url_for
    values = url_values(seed)
    for role in ROLES:
        client = login_as(role)
        client.set_cookie("govcloud_lang", lang)
        for endpoint, rule, arguments in ROUTES:
            missing = [a for a in arguments if a not in values]
            assert not missing, f"no value for {missing} of {rule}: seed a row and add it to url_values"
            with app.test_request_context():
                url = url_for(endpoint, **{a: values[a] for a in arguments})
            response = client.get(url)
            body = response.get_data(as_text=True)
            response.close()
            if response.status_code in (403, 404, 302, 401):
                continue
            assert response.status_code == 200, f"{role} {url}: {response.status_code}"
            assert response.mimetype == "text/html", f"{role} {url}: {response.mimetype}"
            yield role, url, body


def test_every_page_is_chinese(cloud_app, seed, login_as):
    faults, pages = [], 0
    for role, url, body in render_all(cloud_app, seed, login_as, "zh_CN"):
        pages += 1
        for fault in chinese_faults(visible_text(body), cloud_app.cloud_names):
            faults.append(f"{role} {url}: {fault}")
    assert pages > 150
    assert not faults, "\n".join(sorted(set(faults)))


def test_every_page_in_english_has_no_chinese_of_the_portal(cloud_app, seed, login_as):
    faults, pages = [], 0
    for role, url, body in render_all(cloud_app, seed, login_as, "en"):
        pages += 1
        for fault in english_faults(visible_text(body, skip_lang="zh-CN")):
            faults.append(f"{role} {url}: {fault}")
    assert pages > 150
    assert not faults, "\n".join(sorted(set(faults)))

"""Every visible string is in the zh_CN catalog, the compiled catalog is current, dates are local."""
import pathlib
from datetime import datetime, timezone

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

PORTAL = pathlib.Path(__file__).resolve().parents[2] / "portal"
CATALOG = PORTAL / "translations" / "zh_Hans_CN" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def extracted_ids():
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(PORTAL), method_map=method_map, keywords=KEYWORDS,
            options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


def test_every_string_has_a_chinese_translation():
    with open(CATALOG / "messages.po", "rb") as f:
        po = read_po(f)
    translated = {m.id for m in po if m.id and m.string and "fuzzy" not in m.flags}
    missing = extracted_ids() - translated
    assert len(translated) > 150
    assert not missing, f"add to messages.po and run pybabel compile: {sorted(missing)}"


def test_compiled_catalog_matches_the_po():
    with open(CATALOG / "messages.po", "rb") as f:
        po = {m.id: m.string for m in read_po(f) if m.id}
    with open(CATALOG / "messages.mo", "rb") as f:
        mo = {m.id: m.string for m in read_mo(f) if m.id}
    assert po == mo, "run: .venv/bin/pybabel compile -d portal/translations"


def test_dates_are_shown_in_shanghai_time(app):
    with app.test_request_context():
        from flask import render_template_string
        rendered = render_template_string("{{ t|localtime }}", t=datetime(2024, 1, 1, 16, 30, tzinfo=timezone.utc))
    assert rendered == "2024-01-02 00:30"

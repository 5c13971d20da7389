"""Locale and time zone selection, and date formatting for templates."""
from flask import current_app, has_request_context, request, session

LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


def select_locale():
    """Use the language chosen in this session (the API: Accept-Language), else the configured default (zh_CN)."""
    if not has_request_context():  # CLI commands, scheduled jobs
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if request.path.startswith("/api/"):  # programs say their language in Accept-Language
        return (request.accept_languages.best_match(current_app.config["LANGUAGES"])
                or current_app.config["BABEL_DEFAULT_LOCALE"])
    chosen = session.get("lang") or request.cookies.get("govcloud_lang")
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone():
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


# Punctuation joined to text in templates: full-width after Chinese (，：、（）), half-width in English.
PUNCTUATION = {
    "zh_CN": {"COLON": "：", "COMMA": "，", "SEP": "、", "LP": "（", "RP": "）"},
    "en": {"COLON": ": ", "COMMA": ", ", "SEP": ", ", "LP": " (", "RP": ")"},
}


def punctuation(locale):
    """Return the template names of the punctuation of locale (COLON, COMMA, SEP, LP, RP)."""
    return PUNCTUATION.get(str(locale), PUNCTUATION["en"])

"""The Flask application factory: configuration, extensions, blueprints, error pages, CLI."""
import logging
import os

from flask import Flask, appcontext_pushed, current_app, render_template
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.routing import IntegerConverter

from . import access, audit_hooks, logs, security
from .crypto import keyring
from .database import utcnow
from .errors import PortalError
from .extensions import babel, csrf, db, login_manager
from .i18n import LANGUAGE_NAMES, punctuation, select_locale, select_timezone
from .labels import template_labels
from .passwords import Passwords
from .runtime import build as build_runtime
from .services.timelimits import TimeLimits
from .settings import default_instance_path
from .text import _l

log = logging.getLogger(__name__)


class DatabaseId(IntegerConverter):
    """`<int:...>` in every route: ids too long for the databases' INTEGER match no route (404).

    Bounded in the regex rather than with `max`: werkzeug answers 405 instead of 404 when a
    converter rejects a value on a path that other methods share.
    """

    regex = r"\d{1,9}"


def create_app(config=None):
    """Build the portal: configuration, extensions, blueprints, error pages, CLI."""
    from .config import load_config

    app = Flask(__name__, instance_path=default_instance_path(), instance_relative_config=True)
    app.url_map.converters["int"] = DatabaseId  # before any route is added
    load_config(app, config)
    os.makedirs(app.instance_path, exist_ok=True)
    if app.config["PROXY_FIX_X_FOR"]:
        # behind a TLS proxy: the client address (rate limit, audit) and scheme come from it
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = app.config["PROXY_FIX_X_FOR"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    app.extensions["govcloud_runtime"] = runtime = build_runtime(app.config)
    # sealed fields use this app's key ring (build_runtime configured it; another app may since)
    appcontext_pushed.connect(lambda sender, **_: keyring.ensure(sender.config), app, weak=False)
    db.init_app(app, runtime.engine)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the login page explains itself
    login_manager.session_protection = "strong"
    app.extensions["govcloud_passwords"] = Passwords.from_config(app.config)
    logs.init_app(app)
    security.init_app(app)
    access.init_app(app, login_manager)
    audit_hooks.init_app(app)  # denials, failed operations and downloads in the audit log

    from .audit.views import bp as audit_bp
    from .auth.views import bp as auth_bp
    from .departments.views import bp as departments_bp
    from .main.views import bp as main_bp
    from .users.views import bp as users_bp

    for bp in (main_bp, auth_bp, departments_bp, users_bp, audit_bp):
        app.register_blueprint(bp)
    _register_request_blueprints(app)
    # operations (issue 6): maintenance windows, incidents, jobs, probes, SLA, /metrics
    from .incidents.views import bp as incidents_bp
    from .maintenance.views import bp as maintenance_bp
    from .operations.views import bp as operations_bp
    for bp in (maintenance_bp, incidents_bp, operations_bp):
        app.register_blueprint(bp)
    # usage, statements, monthly reports, budget (issue 9)
    from .billing.views import bp as billing_bp
    app.register_blueprint(billing_bp)
    from .billing.cli import register as register_billing_cli
    register_billing_cli(app)
    # vendor access grants (issue 8, 第十八条)
    from .grants.views import bp as grants_bp
    app.register_blueprint(grants_bp)
    # backup and recovery (issue 7, 第十九条)
    from .backups.views import bp as backups_bp
    app.register_blueprint(backups_bp)
    # the working-day calendar (issue 13)
    from .calendar.views import bp as calendar_bp
    app.register_blueprint(calendar_bp)
    # the live inventory of cloud resources (issue 18)
    from .inventory.views import bp as inventory_bp
    app.register_blueprint(inventory_bp)
    # informatization projects (issue 19, regulation 附件1)
    from .projects import evaluation, money, views  # noqa: F401  (the routes of the projects' blueprint)
    from .projects.blueprint import bp as projects_bp
    app.register_blueprint(projects_bp)
    # the security administrator's pages (issue 16, 三权分立)
    from .secadmin.views import bp as secadmin_bp
    app.register_blueprint(secadmin_bp)
    # every user's inbox and choice of e-mail and SMS (issue 17)
    from .notifications.views import bp as notifications_bp
    app.register_blueprint(notifications_bp)
    # the platform's duties: emergency plans and drills, rectification, key changes (issue 20)
    from .duties.views import bp as duties_bp
    app.register_blueprint(duties_bp)
    # the vendor's evaluation and annual assessment, security monitoring reports (issue 20)
    from .evaluation.views import bp as evaluation_bp
    from .security_reports.views import bp as security_reports_bp
    app.register_blueprint(evaluation_bp)
    app.register_blueprint(security_reports_bp)
    # issue 20: contacts kept current, security officers, confidentiality agreements
    from .contacts.views import bp as contacts_bp
    app.register_blueprint(contacts_bp)

    _register_template_helpers(app)
    _register_error_pages(app)

    from .cli import register_commands
    register_commands(app)
    return app


def _register_request_blueprints(app):
    """Resource requests, reviews, receipts and the JSON API (issue 4)."""
    from .api.views import bp as api_bp
    from .requests.views import bp as requests_bp
    from .provisioning.views import bp as provisioning_bp
    from .reviews.views import bp as reviews_bp

    for bp in (requests_bp, reviews_bp, provisioning_bp, api_bp):
        app.register_blueprint(bp)
    csrf.exempt(api_bp)
    from .requests.cli import register
    register(app)


@login_manager.user_loader
def _load_user(session_id):
    """The cookie's id of a server-side session: its user while the session lives, else None."""
    from .services.accounts import load_session_user
    from .web import session_policy
    return load_session_user(db.session, session_id, session_policy())


def _register_template_helpers(app):
    @app.template_filter("localtime")
    def _localtime(value, fmt="yyyy-MM-dd HH:mm"):
        return format_datetime(value, fmt) if value else ""

    @app.context_processor
    def _globals():
        from flask import request

        from .main.forms import LanguageForm

        here = request.full_path.rstrip("?") if request.method == "GET" else ""
        language_form = LanguageForm(formdata=None, lang=select_locale(), next=here)
        return {
            "language_form": language_form, "now_utc": utcnow(),
            **template_labels(), "LANGUAGE_NAMES": LANGUAGE_NAMES,
            "current_locale": select_locale(), "nav_items": _nav_items(), "NAV_SECTIONS": NAV_SECTIONS, "SECTION_TABS": SECTION_TABS, "todo_count": _todo_count(),
            "time_limits": TimeLimits.from_config(current_app.config),
            **punctuation(select_locale()),
        }


def _todo_count():
    """The number of to-dos waiting for the current user (the badge beside 首页), 0 when logged out."""
    from .services.dashboard import todo_count

    from flask import g

    if not current_user.is_authenticated or g.get("without_todo_count"):
        return 0
    return todo_count(db.session, current_user, utcnow())


# a menu entry that stands for several blueprints (their pages light it); a section's pages show
# its parts as tabs (templates/_sections.html)
NAV_SECTIONS = {"duties.index": ("duties", "contacts", "evaluation", "security_reports"),
                "billing.index": ("billing", "operations.usage")}
SECTION_TABS = {  # (endpoint, the blueprints or endpoints it stands for, title)
    "duties": (("duties.index", ("duties",), _l("Emergency and rectification")),
               ("contacts.index", ("contacts",), _l("Contacts and agreements")),
               ("evaluation.index", ("evaluation", "security_reports"), _l("Evaluation and reports"))),
}


def _nav_items():
    """Return (endpoint, title) pairs of the navigation for the current user's role."""
    from .access import DEPARTMENT_ADMIN, allows
    from .models.accounts import Role

    if not current_user.is_authenticated:
        return []
    items = [("main.index", _("Home"), None)]
    if current_user.role == Role.SECURITY:  # no business pages, no audit log (三权分立)
        return items + [("users.index", _("Users"), None), ("secadmin.policy", _("Security policy"), None),
                        ("secadmin.keys", _("Keys in use"), None), ("calendar.index", _("Working-day calendar"), None)]
    if current_user.role == Role.EXPERT:  # only the projects assigned to them
        return items + [("projects.index", _("Projects to review"), None)]
    if allows(current_user, (Role.DEPARTMENT,)):
        items.append(("departments.detail", _("My department"), {"department_id": current_user.department_id}))
    else:
        items.append(("departments.index", _("Departments"), None))
    if allows(current_user, (Role.ADMIN, DEPARTMENT_ADMIN, Role.AUDITOR)):
        items.append(("users.index", _("Users"), None))
    if allows(current_user, (Role.DEPARTMENT, Role.BUREAU, Role.AUDITOR)):
        items.append(("projects.index", _("Informatization projects"), None))
    items.append(("requests.index", _("Resource requests"), None))
    items.append(("inventory.index", _("Cloud resources"), None))
    if allows(current_user, (Role.BUREAU,)):
        items.append(("reviews.index", _("Review queue"), None))
    if allows(current_user, (Role.VENDOR, Role.BUREAU, Role.ADMIN, Role.AUDITOR)):
        items.append(("provisioning.queue", _("Provisioning queue"), None))
    if allows(current_user, (Role.BUREAU, Role.AUDITOR, Role.DEPARTMENT)):  # not the system administrator
        items.append(("audit.index", _("Audit log"), None))
    items.append(("maintenance.index", _("Maintenance"), None))
    items.append(("incidents.index", _("Incidents"), None))
    items.append(("operations.sla_report", _("SLA"), None))
    items.append(("billing.index", _("Fees and reports"), None))
    items.append(("grants.index", _("Vendor access"), None))
    items.append(("backups.index", _("Backup and recovery"), None))
    # issue 20, one section with tabs (_sections.html): emergency and rectification, contacts and
    # agreements, evaluation and security reports; the bureau's menu stays one row at 1400 px
    items.append(("duties.index", _("Platform duties"), None))
    if allows(current_user, (Role.VENDOR, Role.BUREAU, Role.ADMIN)):
        items.append(("operations.probe_list", _("Probes"), None))
        items.append(("operations.job_list", _("Jobs"), None))
    if allows(current_user, (Role.ADMIN,)):  # the bureau's home links it (its menu: one row at 1400 px)
        items.append(("calendar.index", _("Working-day calendar"), None))
    return items


API_ERROR_CODES = {400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                   405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 500: "server_error"}


def _register_error_pages(app):
    def render_error(code, title, message):
        from flask import g, jsonify, request
        g.without_todo_count = True  # an error page asks the database nothing more
        if request.path.startswith("/api/"):  # e.g. no route matched: still the API's JSON errors
            return jsonify({"code": API_ERROR_CODES.get(code, "error"), "message": str(message)}), code
        return render_template("errors/error.html", code=code, title=title, message=message), code

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        return render_error(400, _("Bad request"),
                            _("The form has expired or was not sent from this site. Please try again."))

    @app.errorhandler(400)
    def _bad_request(exc):
        return render_error(400, _("Bad request"), _("The request could not be understood."))

    @app.errorhandler(403)
    def _forbidden(exc):
        return render_error(403, _("Access denied"), _("You are not allowed to see this page."))

    @app.errorhandler(404)
    def _not_found(exc):
        return render_error(404, _("Not found"), _("The page does not exist or is not yours to see."))

    @app.errorhandler(405)
    def _method(exc):
        return render_error(405, _("Method not allowed"), _("The request could not be understood."))

    @app.errorhandler(413)
    def _too_large(exc):
        return render_error(413, _("Too large"), _("What you sent is larger than the portal accepts. Nothing was saved."))

    @app.errorhandler(PortalError)
    def _portal_error(exc):
        audit_hooks.note_error(exc)
        # out of scope and absent look the same: the page does not say which
        if exc.http_status == 404:
            return _not_found(exc)
        if exc.http_status == 403:  # a refusal that says why (e.g. 三权分立) shows its reason
            db.session.rollback()
            return render_error(403, _("Access denied"), exc.message) if exc.explicit else _forbidden(exc)
        return render_error(exc.http_status, _("Error"), exc.message)

    @app.errorhandler(500)
    def _server_error(exc):
        audit_hooks.note_error(getattr(exc, "original_exception", None) or exc)
        db.session.rollback()
        return render_error(500, _("Server error"), _("Something went wrong. The error was logged."))

"""Home page by role, language switch, health check."""
from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user

from ..access import public
from ..auth.views import safe_next
from ..extensions import db
from ..services import dashboard
from ..services.timelimits import TimeLimits
from .forms import LanguageForm

bp = Blueprint("main", __name__, template_folder="templates")
LANG_COOKIE_AGE = 365 * 24 * 3600


@bp.route("/")
def index():
    limits = TimeLimits.from_config(current_app.config)
    summary = dashboard.home_summary(db.session, current_user, limits=limits)
    return render_template(f"main/home_{current_user.role}.html", summary=summary, bench=summary["bench"],
                           HEALTH_LABELS=dashboard.HEALTH_LABELS)


@bp.route("/language", methods=["POST"])
@public
def set_language():
    form = LanguageForm()
    target = safe_next(form.next.data) or url_for("main.index")
    if form.validate_on_submit():
        session["lang"] = form.lang.data
        response = redirect(target)
        response.set_cookie("govcloud_lang", form.lang.data, max_age=LANG_COOKIE_AGE,
                            httponly=True, samesite="Lax",
                            secure=bool(request.environ.get("wsgi.url_scheme") == "https"))
        return response
    return redirect(target)


@bp.route("/healthz")
@public
def healthz():
    return jsonify(status="ok", database=dashboard.database_ok(db.session))

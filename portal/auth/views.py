"""Login, logout and password change."""
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..access import public
from ..errors import AccountLocked, AuthenticationFailed, RateLimited, ValidationFailed
from ..extensions import db
from ..services import accounts
from ..web import login_policy, passwords, request_info, show_error
from .forms import ChangePasswordForm, LoginForm

bp = Blueprint("auth", __name__, template_folder="templates")


def safe_next(target):
    """Return target when it is a path on this site, else None."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _fresh_session():
    """Drop everything in the session but the language: a new session on each login."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(db.session, request_info(), form.username.data,
                                         form.password.data, policy=login_policy(), passwords=passwords())
        except RateLimited as exc:
            flash(str(exc.message), "danger")
            status = 429
        except (AuthenticationFailed, AccountLocked) as exc:
            flash(str(exc.message), "danger")
        else:
            _fresh_session()
            login_user(user)
            session.permanent = True
            return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    accounts.record_logout(db.session, request_info(), current_user)
    logout_user()
    _fresh_session()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            user = accounts.change_password(db.session, request_info(), current_user,
                                            form.current_password.data, form.new_password.data,
                                            policy=login_policy(), passwords=passwords())
        except ValidationFailed as exc:
            show_error(form, exc)
        else:
            _fresh_session()
            login_user(user)  # the session token was rotated: other sessions end
            flash(_("Your password was changed."), "success")
            return redirect(url_for("main.index"))
    return render_template("auth/change_password.html", form=form)

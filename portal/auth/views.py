"""Login (password, then the second factor), logout, password change and second-factor set-up."""
import time
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..access import public
from ..errors import AccountLocked, AuthenticationFailed, RateLimited, ValidationFailed
from ..extensions import db
from ..services import accounts
from ..services import second_factor as totp
from ..web import login_policy, passwords, request_info, session_policy, show_error
from .forms import ChangePasswordForm, EnrolForm, LoginForm, RecoveryCodesForm, SecondFactorForm

bp = Blueprint("auth", __name__, template_folder="templates")
PENDING_SECONDS = 300  # the code must follow the password within this time


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


def _sign_in(user, method="password"):
    """Start a new server-side session for user (every factor passed, or the password just changed)
    and put its id in the cookie."""
    if method == "password_change":
        raw_id = accounts.new_session(db.session, request_info(), user, session_policy(),
                                      user_agent=request.user_agent.string)
    else:
        raw_id = accounts.complete_login(db.session, request_info(), user, session_policy(),
                                         user_agent=request.user_agent.string, method=method)
    _fresh_session()
    user.current_session_id = raw_id
    login_user(user)
    session.permanent = True


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
            target = safe_next(request.args.get("next")) or url_for("main.index")
            if user.totp_enabled:  # not logged in until the code passes
                _fresh_session()
                session["pending_login"] = {"user_id": user.id, "at": int(time.time()), "next": target}
                return redirect(url_for("auth.second_factor"))
            _sign_in(user)
            return redirect(target)
    return render_template("auth/login.html", form=form), status


def _pending_user():
    pending = session.get("pending_login")
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None, None
    return accounts.find_user(db.session, pending.get("user_id")), pending


@bp.route("/login/code", methods=["GET", "POST"])
@public
def second_factor():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    user, pending = _pending_user()
    if user is None:
        session.pop("pending_login", None)
        flash(_("Please log in again."), "info")
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        try:
            method = accounts.verify_second_factor(db.session, request_info(), user, form.code.data,
                                                   policy=login_policy())
        except ValidationFailed as exc:
            show_error(form, exc)
        except (AuthenticationFailed, AccountLocked) as exc:
            session.pop("pending_login", None)
            flash(str(exc.message), "danger")
            return redirect(url_for("auth.login"))
        else:
            _sign_in(user, method)
            if method == "recovery":
                flash(_("You used a recovery code; %(n)d are left.",
                        n=totp.unused_recovery_codes(db.session, user)), "warning")
            return redirect(safe_next(pending.get("next")) or url_for("main.index"))
    return render_template("auth/second_factor.html", form=form)


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
            _sign_in(user, "password_change")  # every session of the user ended: a new one for this
            flash(_("Your password was changed."), "success")
            return redirect(url_for("main.index"))
    forced = accounts.pending_step(current_user, login_policy()) == "password"
    return render_template("auth/change_password.html", form=form, forced=forced)


@bp.route("/account/second-factor", methods=["GET", "POST"])
def second_factor_setup():
    user = current_user._get_current_object()
    if user.totp_enabled:
        return render_template("auth/second_factor_status.html", form=RecoveryCodesForm(),
                               unused=totp.unused_recovery_codes(db.session, user))
    form = EnrolForm()
    if form.validate_on_submit():
        try:
            codes = totp.confirm_enrolment(db.session, request_info(), user, form.code.data)
        except ValidationFailed as exc:
            show_error(form, exc)
        else:
            flash(_("The second factor is on."), "success")
            return render_template("auth/recovery_codes.html", codes=codes)
    elif not user.totp_secret_sealed:
        totp.start_enrolment(db.session, user)
        db.session.commit()
    uri = totp.provisioning_uri(user, current_app.config["TOTP_ISSUER"])
    return render_template("auth/second_factor_enrol.html", form=form, qr=totp.qr_data_uri(uri),
                           secret=user.totp_secret_sealed)


@bp.route("/account/second-factor/recovery-codes", methods=["POST"])
def recovery_codes():
    user = current_user._get_current_object()
    form = RecoveryCodesForm()
    if not user.totp_enabled:
        flash(_("Set up the second factor first."), "warning")
        return redirect(url_for("auth.second_factor_setup"))
    if form.validate_on_submit():
        try:
            accounts.reauthenticate(db.session, request_info(), user, form.password.data,
                                    policy=login_policy(), passwords=passwords(), purpose="recovery codes")
            codes = totp.regenerate_recovery_codes(db.session, request_info(), user)
        except ValidationFailed as exc:
            show_error(form, exc)
        else:
            return render_template("auth/recovery_codes.html", codes=codes)
    return render_template("auth/second_factor_status.html", form=form,
                           unused=totp.unused_recovery_codes(db.session, user))

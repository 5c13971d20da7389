"""Small helpers the views share: who is acting, form errors, paging arguments."""
from flask import current_app, flash, g, request
from flask_login import current_user

from .services.accounts import LoginPolicy
from .services.audit import RequestInfo
from .services.sessions import SessionPolicy


def request_info():
    """Return the acting user, request id and address of the current request."""
    actor = current_user if current_user.is_authenticated else None
    return RequestInfo(actor=actor, correlation_id=g.get("request_id", ""),
                       remote_addr=request.remote_addr or "")


def flash_outcome(call, done):
    """Run call(); flash done, or the refusal (ValidationFailed) it raised after rolling back."""
    from .errors import ValidationFailed
    from .extensions import db
    try:
        call()
    except ValidationFailed as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
    else:
        flash(done, "success")


def passwords():
    return current_app.extensions["govcloud_passwords"]


def login_policy():
    return LoginPolicy.from_config(current_app.config)


def session_policy():
    return SessionPolicy.from_config(current_app.config)


def page_arg():
    return request.args.get("page", 1, type=int)


def per_page():
    return current_app.config["PAGE_SIZE"]


def show_error(form, exc):
    """Put a domain error under its form field, or flash it when it names none; an error with
    problems (InputInvalid) puts each under its field. Return the fields named."""
    problems = getattr(exc, "problems", None)
    if problems is None:
        field = getattr(exc, "field", None)
        problems = [(field, exc.message)]
    else:
        flash(str(exc.message), "danger")
    for field, message in problems:
        if field and field in form:
            form[field].errors = list(form[field].errors) + [message]
        else:
            flash(str(message), "danger")
    return sorted({field for field, _m in problems if field})

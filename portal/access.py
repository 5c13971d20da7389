"""Who may call which view: login by default, roles per view, read-only auditors."""
from functools import wraps

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .models.accounts import Role

DEPARTMENT_ADMIN = "department_admin"  # a department user flagged as its administrator
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Endpoints an auditor may POST to: they change only the auditor's own session or password, and
# the auditor's own inbox (read marks) and notification choices.
AUDITOR_WRITABLE = {"auth.logout", "auth.change_password", "main.set_language",
                    "auth.second_factor_setup", "auth.recovery_codes",
                    "notifications.read", "notifications.read_all", "notifications.preferences"}
# What a user who must first change the password or set up the second factor may reach.
STEP_PAGES = {"password": "auth.change_password", "totp": "auth.second_factor_setup"}
STEP_ALLOWED = {"auth.logout", "main.set_language"}


def public(view):
    """Mark a view as reachable without logging in."""
    view.is_public = True
    return view


def allows(user, roles):
    """Return True when user holds one of roles (DEPARTMENT_ADMIN counts as a role)."""
    if user.role in roles:
        return True
    return DEPARTMENT_ADMIN in roles and user.is_dept_admin


def require(*roles):
    """Allow a view only to the given roles; everyone else gets 403."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not allows(current_user, roles):
                abort(403)
            return view(*args, **kwargs)
        wrapped.allowed_roles = roles
        return wrapped
    return decorator


def init_app(app, login_manager):
    @app.before_request
    def _require_login():
        view = app.view_functions.get(request.endpoint)
        if view is None or getattr(view, "is_public", False) or request.endpoint == "static":
            return None
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        blocked = _pending_step_redirect()
        if blocked is not None:
            return blocked
        if (current_user.role == Role.AUDITOR and request.method not in SAFE_METHODS
                and request.endpoint not in AUDITOR_WRITABLE):
            abort(403)
        g.user = current_user
        return None


def _pending_step_redirect():
    """Send a user who must change the password (forced or expired) or set up a required second
    factor to that page; nothing else but logout and the language is reachable meanwhile."""
    from .services.accounts import pending_step
    from .web import login_policy
    step = pending_step(current_user, login_policy())
    if step is None or request.endpoint == STEP_PAGES[step] or request.endpoint in STEP_ALLOWED:
        return None
    if step == "password":
        flash(_("Please change your password before you continue."), "warning")
    else:
        flash(_("Please set up the second factor before you continue."), "warning")
    return redirect(url_for(STEP_PAGES[step]))

"""Who may call which view: login by default, roles per view, read-only auditors."""
from functools import wraps

from flask import abort, g, request
from flask_login import current_user

from .models.accounts import Role

DEPARTMENT_ADMIN = "department_admin"  # a department user flagged as its administrator
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Endpoints an auditor may POST to: they change only the auditor's own session or password.
AUDITOR_WRITABLE = {"auth.logout", "auth.change_password", "main.set_language"}


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
        if (current_user.role == Role.AUDITOR and request.method not in SAFE_METHODS
                and request.endpoint not in AUDITOR_WRITABLE):
            abort(403)
        g.user = current_user
        return None

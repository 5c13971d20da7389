"""What every module of /api/v1 shares: the blueprint, the acting user's RequestInfo, the page's role
check, the usual error statuses. views.py (the requests) and the domains_* modules import it; it
imports none of them, so the modules that declare operations form no circle."""
from flask import Blueprint, g, request

from ..access import allows
from ..services.audit import RequestInfo
from .errors import ApiError

bp = Blueprint("api", __name__, url_prefix="/api/v1")
REQUEST_ERRORS = (401, 403, 404)
READ_ERRORS = (400, 401, 403, 404)
LIST_ERRORS = (400, 401, 403)
WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 415, 422)


def ctx():
    """The acting user, request id and address of this call (for the services)."""
    return RequestInfo(actor=g.api_user, correlation_id=g.get("request_id", ""), remote_addr=request.remote_addr or "")


def allow(*roles):
    """Refuse (403) a user the page of the operation refuses: the same roles as its @require."""
    if not allows(g.api_user, roles):
        raise ApiError(403, "forbidden", "forbidden")

"""The one error shape of /api/v1: {"code", "message", "problems"?, "current"?}.

`code` is stable for programs; `message` is in the caller's language (Accept-Language, zh-CN
by default). Statuses: 400 malformed body or bad query, 401 no valid token (with
WWW-Authenticate), 403 role or token scope, 404 absent or another department's, 409 wrong state
or stale version (with the current object), 413 body too large, 415 not JSON, 422 field problems.
"""
from flask import jsonify

from ..text import _l

MESSAGES = {
    "body_must_be_json": _l("Send the body as JSON (Content-Type: application/json)."),
    "body_too_large": _l("The body is larger than %(limit)s bytes."),
    "body_not_json": _l("The body is not valid JSON."),
    "fields_invalid": _l("Some fields are not valid: see problems."),
    "forbidden": _l("You are not allowed to do this."),
    "read_only": _l("Auditors have read-only access."),
    "no_api_duty": _l("The security administrator's duties are on the portal's pages, not in the API."),
    "not_found": _l("Not found, or not yours to see."),
    "method_not_allowed": _l("This method is not allowed here."),
    "stale": _l("The object was changed since you read it: read it again (its ETag) and retry."),
    "idempotency_key_reused": _l("This Idempotency-Key was used for a different call."),
    "idempotency_key_busy": _l("A call with this Idempotency-Key is still running."),
    "idempotency_key_invalid": _l("An Idempotency-Key is 1 to 128 visible ASCII characters."),
    "no_receipt": _l("The request has no receipt yet."),
    "server_error": _l("Something went wrong. The error was logged."),
}
STATUS_CODES = {400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type", 422: "invalid",
                429: "rate_limited", 500: "server_error", 503: "cloud_unavailable"}


class ApiError(Exception):
    """An answer other than success: status, stable code, message key (or text), extras."""

    def __init__(self, status, code, message, *, problems=None, headers=None, current=None, **variables):
        super().__init__(code)
        self.status, self.code, self.message = status, code, message
        self.problems, self.headers, self.current, self.variables = problems, headers or {}, current, variables


def message_text(message, **variables):
    template = MESSAGES.get(message) if isinstance(message, str) else None
    if template is not None:
        return str(_l(template.msgid, **variables))
    return str(message)


def error_response(status, code, message, *, problems=None, headers=None, current=None, **variables):
    body = {"code": code, "message": message_text(message, **variables)}
    if problems:
        body["problems"] = [{"field": f, "message": str(m)} for f, m in problems]
    if current is not None:
        body["current"] = current
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="govcloud"'
    response.headers.update(headers or {})
    return response


def from_api_error(exc: ApiError):
    return error_response(exc.status, exc.code, exc.message, problems=exc.problems, headers=exc.headers,
                          current=exc.current, **exc.variables)

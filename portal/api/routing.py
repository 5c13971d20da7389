"""Declared API operations: each route names its input and output schemas once; the same
declaration validates the call and writes the OpenAPI document (portal/api/openapi.py).

An operation's body is read only as JSON (415 otherwise), only up to API_MAX_BODY_BYTES (413),
parsed without NaN or Infinity (400), and validated strictly by its schema (422 with the
problems). Its query string is validated by its query schema (400 with the problems). Nothing
runs before all of that has passed, so a refused call changes nothing.
"""
import json
from dataclasses import dataclass, field
from functools import wraps

from flask import current_app, g, jsonify, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from ..extensions import db
from ..schemas.base import problems
from ..specs import Limits
from . import idempotency
from .errors import ApiError

OPERATIONS = []  # every declared operation, in the order declared


@dataclass
class Operation:
    rule: str
    method: str
    operation_id: str
    summary: str
    tag: str
    body: type | None = None
    query: type | None = None
    response: type | None = None
    status: int = 200
    errors: tuple = ()
    idempotent: bool = False  # a creating POST that honours Idempotency-Key
    conditional: bool = False  # honours If-Match (ETag of the object it changes)
    description: str = ""
    path_params: dict = field(default_factory=dict)
    binary: str = ""  # a download: its media type instead of a JSON response
    links: dict = field(default_factory=dict)  # OpenAPI links of the success: name -> (operationId, parameters)


def _reject_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def read_json():
    """Return the request's JSON body, refusing what is not plain, bounded JSON."""
    if not request.mimetype == "application/json":
        raise ApiError(415, "unsupported_media_type", "body_must_be_json")
    limit = current_app.config["API_MAX_BODY_BYTES"]
    if (request.content_length or 0) > limit:
        raise ApiError(413, "payload_too_large", "body_too_large", limit=limit)
    request.max_content_length = limit  # also bounds a chunked body while it is read
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise ApiError(413, "payload_too_large", "body_too_large", limit=limit) from None
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError, UnicodeDecodeError):
        raise ApiError(400, "malformed", "body_not_json") from None


def validate(schema, data, *, status):
    try:
        return schema.model_validate(data, context={"limits": Limits.from_config(current_app.config)})
    except ValidationError as exc:
        raise ApiError(status, "invalid", "fields_invalid", problems=problems(exc)) from None


def _query(schema):
    args = {}
    for key in request.args:
        values = request.args.getlist(key)
        if len(values) > 1:
            raise ApiError(400, "invalid", "fields_invalid", problems=[(key, "repeated")])
        args[key] = values[0]
    try:
        return schema.model_validate(args, strict=False)
    except ValidationError as exc:
        raise ApiError(400, "invalid", "fields_invalid", problems=problems(exc)) from None


def operation(bp, rule, method, operation_id, summary, *, tag, body=None, query=None, response=None, status=200,
              errors=(), idempotent=False, conditional=False, description="", binary="", links=None):
    """Register view under rule/method and declare it for the OpenAPI document; links name the
    operations a client may call next with values of the answer (OpenAPI links)."""
    op = Operation(rule, method, operation_id, summary, tag, body, query, response, status, tuple(errors),
                   idempotent, conditional, description, binary=binary, links=links or {})
    OPERATIONS.append(op)

    def decorator(view):
        @wraps(view)
        def wrapped(**kwargs):
            if query is not None:
                kwargs["query"] = _query(query)
            if body is not None:
                kwargs["body"] = validate(body, read_json(), status=422)
            key = request.headers.get("Idempotency-Key") if idempotent else None
            if key is None:
                return view(**kwargs)
            return _once(key, view, kwargs)
        wrapped.is_public = True  # the API authenticates its own way (bearer tokens), in views.py
        wrapped.operation = op
        bp.add_url_rule(rule, endpoint=operation_id, view_func=wrapped, methods=[method])
        return wrapped
    return decorator


def _once(key, view, kwargs):
    row = idempotency.claim(db.session, g.api_user, key, request.method, request.path, request.get_data(cache=True))
    if row.status:
        response = jsonify(row.response)
        response.status_code = row.status
        response.headers["Idempotent-Replayed"] = "true"
        return response
    row_id = row.id
    try:
        response = current_app.make_response(view(**kwargs))
    except Exception:
        idempotency.finish(db.session, row_id, 500, None)
        raise
    idempotency.finish(db.session, row_id, response.status_code, response.get_json(silent=True))
    return response


def dump(model: BaseModel):
    return model.model_dump(mode="json")

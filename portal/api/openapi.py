"""The OpenAPI 3.1 document of /api/v1, written from the declared operations and their schemas."""
import re
from functools import lru_cache

from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from .routing import OPERATIONS

PREFIX = "/api/v1"
DESCRIPTIONS = {400: "malformed body or query (problems name the fields)", 401: "no valid token",
                403: "the role or the token's scope does not allow it (the security administrator: every "
                     "operation; the audit administrator: every write)", 404: "absent, or not yours to see",
                409: "wrong state, stale If-Match, or an Idempotency-Key still running (current: the object now)",
                413: "body larger than API_MAX_BODY_BYTES", 415: "body not application/json",
                422: "fields not valid (problems name each field and say why)"}


class Problem(BaseModel):
    field: str
    message: str


class Error(BaseModel):
    """Every answer other than success."""

    code: str = Field(description="stable, for programs: invalid, malformed, unauthorized, forbidden, "
                                  "insufficient_scope, not_found, conflict, stale, payload_too_large, ...")
    message: str = Field(description="for people, in the caller's language (Accept-Language; zh-CN by default)")
    problems: list[Problem] | None = None
    current: dict | None = Field(None, description="with 409 stale: the object as it is now")


def _path(rule):
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def _json(schema):
    return {"application/json": {"schema": schema}}


def _operation(op, refs):
    params = [{"name": name, "in": "path", "required": True,
               "schema": {"type": "integer", "minimum": 0, "maximum": 999_999_999}}
              for name in re.findall(r"<(?:\w+:)?(\w+)>", op.rule)]
    if op.query is not None:
        for name, prop in op.query.model_json_schema()["properties"].items():
            params.append({"name": name, "in": "query", "required": False, "schema": prop})
    if op.conditional:
        params.append({"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
                       "description": "the ETag you read; a stale one gets 409 with the current object"})
    if op.idempotent:
        params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                       "schema": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[\\x21-\\x7e]+$"},
                       "description": "a replay with the same key and body returns the first answer and creates "
                                      "nothing (kept 24 hours)"})
    if op.binary:
        ok = {"description": "OK", "content": {op.binary: {"schema": {"type": "string", "format": "binary"}}}}
    else:
        ok = {"description": "OK", "content": _json(refs[(op.response, "serialization")])}
        if op.conditional or getattr(op.response, "has_etag", False):
            ok["headers"] = {"ETag": {"schema": {"type": "string"}, "description": "send it back as If-Match"}}
    if op.links:
        ok["links"] = {name: {"operationId": target, "parameters": parameters}
                       for name, (target, parameters) in op.links.items()}
    responses = {str(op.status): ok}
    for status in sorted(set(op.errors) | {401, 403}):  # 403: a role the operation is not for
        responses[str(status)] = {"description": DESCRIPTIONS.get(status, "error"),
                                  "content": _json({"$ref": "#/components/schemas/Error"})}
    responses["401"]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    out = {"operationId": op.operation_id, "summary": op.summary, "tags": [op.tag], "security": [{"bearer": []}],
           "parameters": params, "responses": responses}
    if op.description:
        out["description"] = op.description
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": _json(refs[(op.body, "validation")])}
    return out


@lru_cache(maxsize=1)
def _document(count):
    models = {(Error, "serialization")}
    for op in OPERATIONS:
        if op.body is not None:
            models.add((op.body, "validation"))
        if op.query is not None:
            models.add((op.query, "validation"))
        if op.response is not None:
            models.add((op.response, "serialization"))
    refs, top = models_json_schema(sorted(models, key=lambda m: (m[0].__name__, m[1])),
                                   ref_template="#/components/schemas/{model}")
    paths = {}
    for op in OPERATIONS[:count]:
        paths.setdefault(_path(op.rule), {})[op.method.lower()] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "govcloud API", "version": "1",
                 "description": "政务云 self-service portal: resource requests and their review, provisioning, "
                                "receipts, changes and decommissions, and the reads of every domain. Tokens are "
                                "made by each user on the portal's token page. Errors share one shape (Error); "
                                "field problems answer 422. Roles (三权分立): the audit administrator (auditor) "
                                "only reads; the audit log is read by the audit administrator, the bureau and "
                                "each department (its own events), not by the system administrator (admin); the "
                                "security administrator (security) has no operation here: his duties are on the "
                                "portal's pages."},
        "servers": [{"url": PREFIX}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": top.get("$defs", {})},
        "paths": paths,
    }


def openapi_document():
    """Return the OpenAPI 3.1 document as a dict."""
    return _document(len(OPERATIONS))

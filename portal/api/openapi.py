"""The OpenAPI 3 description of /api/v1."""

ERROR = {"$ref": "#/components/schemas/Error"}


def _op(summary, *, body=None, ok=200, tag="requests", params=("request_id",)):
    op = {"summary": summary, "tags": [tag], "security": [{"bearer": []}],
          "parameters": [{"name": p, "in": "path", "required": True, "schema": {"type": "integer"}} for p in params],
          "responses": {str(ok): {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}},
                        **{str(code): {"description": text, "content": {"application/json": {"schema": ERROR}}}
                           for code, text in ((400, "invalid input"), (401, "no or bad token"), (403, "forbidden"),
                                              (404, "not found or not yours"), (409, "wrong state"))}}}
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op


SPEC = {"type": "object", "properties": {
    "servers": {"type": "array", "items": {"type": "object", "properties": {
        "name": {"type": "string"}, "flavor": {"type": "string"}, "image": {"type": "string"},
        "count": {"type": "integer"}, "data_volumes": {"type": "array", "items": {"type": "integer"}}}}},
    "volumes": {"type": "array", "items": {"type": "object", "properties": {
        "name": {"type": "string"}, "size_gb": {"type": "integer"}, "attach_to": {"type": "string"}}}},
    "network": {"type": "object", "properties": {"cidr": {"type": "string"}}},
    "rules": {"type": "array", "items": {"type": "object", "properties": {
        "port": {"type": "string"}, "protocol": {"type": "string", "enum": ["tcp", "udp", "icmp"]},
        "source": {"type": "string"}}}},
    "floating_ips": {"type": "integer"}, "ssh_public_key": {"type": "string"}}}
REQUEST_BODY = {"type": "object", "required": ["system_name"], "properties": {
    "system_name": {"type": "string"}, "purpose": {"type": "string"}, "project_ref": {"type": "string"},
    "security_level": {"type": "integer", "minimum": 1, "maximum": 4}, "construction_plan": {"type": "string"},
    "spec": SPEC, "submit": {"type": "boolean"}}}
OPERATION_BODY = {"type": "object", "required": ["action"], "properties": {
    "action": {"type": "string", "enum": ["retry", "rollback", "resolve"]},
    "comment": {"type": "string", "description": "how the failure was handled; required with resolve"}}}
REVIEW_BODY = {"type": "object", "required": ["decision"], "properties": {
    "decision": {"type": "string", "enum": ["start", "approve", "reject", "return", "green_channel"]},
    "comment": {"type": "string"}, "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
    "volume_sizes": {"type": "object", "additionalProperties": {"type": "integer"}},
    "floating_ips": {"type": "integer"}}}


def openapi_document():
    """Return the OpenAPI 3.0 document as a dict."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "govcloud API", "version": "1",
                 "description": "政务云 resource requests: apply, review, provision, receipt, change, decommission."},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string"}, "message": {"type": "string"},
                "problems": {"type": "array", "items": {"type": "object"}}}}, "Spec": SPEC}},
        "paths": {
            "/requests": {"get": _op("List the requests you may see", params=()),
                          "post": _op("Create a draft request (optionally submit it)", body=REQUEST_BODY, ok=201,
                                      params=())},
            "/requests/{request_id}": {"get": _op("Read a request"),
                                       "patch": _op("Edit a draft or returned request", body=REQUEST_BODY)},
            "/requests/{request_id}/submit": {"post": _op("Submit for review")},
            "/requests/{request_id}/cancel": {"post": _op("Cancel a draft or returned request")},
            "/requests/{request_id}/review": {"post": _op("Review decision (bureau)", body=REVIEW_BODY)},
            "/requests/{request_id}/operation": {"post": _op("Operator action on a failed request (vendor)",
                                                             body=OPERATION_BODY)},
            "/requests/{request_id}/change": {"post": _op("Open a change request for a system", ok=201, body={
                "type": "object", "properties": {"reason": {"type": "string"}, "spec": SPEC,
                                                 "submit": {"type": "boolean"}}})},
            "/requests/{request_id}/decommission": {"post": _op("Apply for decommission of a system", ok=201, body={
                "type": "object", "required": ["reason", "backup_confirmed"], "properties": {
                    "reason": {"type": "string"}, "backup_confirmed": {"type": "boolean"},
                    "migration_note": {"type": "string", "description": "where the data was migrated to; "
                                       "required with backup_confirmed (第十条二)"}}})},
            "/requests/{request_id}/resources": {"get": _op("Cloud resources of the system")},
            "/requests/{request_id}/receipt": {"get": _op("Delivery receipt of the request", tag="receipts")},
            "/receipts/{receipt_id}/confirm": {"post": _op("Confirm a receipt (签收)", tag="receipts",
                                                           params=("receipt_id",))},
        },
    }

"""JSON API /api/v1 with personal tokens (Authorization: Bearer ...); the same services as the pages."""
from flask import Blueprint, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from ..access import SAFE_METHODS, public
from ..errors import PortalError
from ..extensions import db
from ..models.accounts import Role
from ..services import api_tokens, provisioning_ops, receipts, resource_requests as svc, reviews
from ..services.audit import RequestInfo
from ..services.cloud_catalog import catalog
from ..services.resource_requests import SubmissionInvalid
from ..workflow import RequestKind
from .openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class ApiError(Exception):
    def __init__(self, status, code, message):
        self.status, self.code, self.message = status, code, message


def _error(status, code, message, **extra):
    return jsonify({"code": code, "message": str(message), **extra}), status


@bp.errorhandler(ApiError)
def _api_error(exc):
    return _error(exc.status, exc.code, exc.message)


@bp.errorhandler(PortalError)
def _portal_error(exc):
    db.session.rollback()
    codes = {400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict"}
    extra = {}
    if isinstance(exc, SubmissionInvalid):
        extra["problems"] = [{"field": f, "message": str(m)} for f, m in exc.problems]
    status = exc.http_status
    if status == 404:
        return _error(404, "not_found", "not found")  # absent and out of scope look the same
    return _error(status, codes.get(status, "error"), exc.message, **extra)


@bp.errorhandler(HTTPException)
def _http_error(exc):
    return _error(exc.code, exc.name.lower().replace(" ", "_"), exc.description)


@bp.before_request
def _authenticate():
    if request.endpoint == "api.openapi":
        return None
    where = RequestInfo(correlation_id=g.get("request_id", ""), remote_addr=request.remote_addr or "")
    result = api_tokens.authorize_request(db.session, where, request.headers.get("Authorization"), request.method)
    if isinstance(result, api_tokens.Refusal):
        body, status = _error(result.status, result.code, result.message)
        return body, status, {"WWW-Authenticate": result.challenge} if result.challenge else {}
    user = result.user
    if user.role == Role.AUDITOR and request.method not in SAFE_METHODS:
        return _error(403, "forbidden", "auditors have read-only access")
    g.api_user = user
    return None


@bp.after_request
def _bearer_challenge(response):
    """Every 401 of the API names the scheme it wants (RFC 6750)."""
    if response.status_code == 401 and "WWW-Authenticate" not in response.headers:
        response.headers["WWW-Authenticate"] = api_tokens.CHALLENGE
    return response


def _ctx():
    return RequestInfo(actor=g.api_user, correlation_id=g.get("request_id", ""), remote_addr=request.remote_addr or "")


def _body():
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid", "the body must be a JSON object")
    return data


def _request_json(r, full=True):
    out = {"id": r.id, "number": r.number, "kind": r.kind, "state": r.state, "department_id": r.department_id,
           "system_id": r.system_root_id, "system_name": r.system_name, "urgent": r.urgent, "version": r.version,
           "submitted_at": r.submitted_at.isoformat() if r.submitted_at else None}
    if full:
        out.update({"purpose": r.purpose, "project_ref": r.project_ref, "security_level": r.security_level,
                    "construction_plan": r.construction_plan, "reason": r.reason,
                    "backup_confirmed": r.backup_confirmed, "spec": r.spec, "approved_spec": r.approved_spec,
                    "adjustment": r.adjustment, "review_comment": r.review_comment,
                    "failure_message": r.failure_message,
                    "versions": [{"version": v.version, "submitted_at": v.submitted_at.isoformat(),
                                  "review_comment": v.review_comment} for v in r.versions]})
    return out


@bp.route("/openapi.json")
@public
def openapi():
    return jsonify(openapi_document())


@bp.route("/requests", methods=["GET"])
@public
def list_requests():
    page = svc.list_requests(db.session, g.api_user, state=request.args.get("state", ""),
                             kind=request.args.get("kind", ""), q=request.args.get("q", ""),
                             page=request.args.get("page", 1, type=int),
                             per_page=min(100, request.args.get("per_page", 20, type=int)))
    return jsonify({"items": [_request_json(r, full=False) for r in page.items], "page": page.page,
                    "pages": page.pages, "total": page.total})


@bp.route("/requests", methods=["POST"])
@public
def create_request():
    data = _body()
    r = svc.create_request(db.session, _ctx(), data, data.get("spec") or {})
    if data.get("submit"):
        r = svc.submit_request(db.session, _ctx(), r.id, catalog(current_app.config))
    return jsonify(_request_json(r)), 201


@bp.route("/requests/<int:request_id>", methods=["GET"])
@public
def get_request(request_id):
    return jsonify(_request_json(svc.get_request(db.session, g.api_user, request_id)))


@bp.route("/requests/<int:request_id>", methods=["PATCH"])
@public
def update_request(request_id):
    data = _body()
    current = svc.get_request(db.session, g.api_user, request_id)
    merged = {f: data.get(f, getattr(current, f)) for f in svc.TEXT_FIELDS + ("security_level",)}
    r = svc.update_request(db.session, _ctx(), request_id, merged, data.get("spec", current.spec))
    return jsonify(_request_json(r))


@bp.route("/requests/<int:request_id>/submit", methods=["POST"])
@public
def submit_request(request_id):
    r = svc.submit_request(db.session, _ctx(), request_id, catalog(current_app.config))
    return jsonify(_request_json(r))


@bp.route("/requests/<int:request_id>/cancel", methods=["POST"])
@public
def cancel_request(request_id):
    return jsonify(_request_json(svc.cancel_request(db.session, _ctx(), request_id)))


@bp.route("/requests/<int:request_id>/review", methods=["POST"])
@public
def review_request(request_id):
    data = _body()
    decision = data.get("decision")
    comment = data.get("comment") or ""
    if decision == "start":
        r = reviews.start_review(db.session, _ctx(), request_id)
    elif decision == "approve":
        r = reviews.approve_request(db.session, _ctx(), request_id, catalog(current_app.config),
                                    counts=data.get("counts"), volume_sizes=data.get("volume_sizes"),
                                    floating_ips=data.get("floating_ips"), comment=comment)
    elif decision == "reject":
        r = reviews.reject_request(db.session, _ctx(), request_id, comment)
    elif decision == "return":
        r = reviews.return_request(db.session, _ctx(), request_id, comment)
    elif decision == "green_channel":
        r = reviews.green_channel(db.session, _ctx(), request_id, catalog(current_app.config), comment)
    else:
        raise ApiError(400, "invalid", "decision must be start, approve, reject, return or green_channel")
    return jsonify(_request_json(r))


@bp.route("/requests/<int:request_id>/operation", methods=["POST"])
@public
def operate_request(request_id):
    """Operator action on a failed request (vendor, admin): retry, rollback, or resolve with a comment."""
    data = _body()
    action = data.get("action")
    comment = data.get("comment")
    if action == "retry":
        r = provisioning_ops.retry_job(db.session, _ctx(), request_id)
    elif action == "rollback":
        r = provisioning_ops.rollback_request(db.session, _ctx(), request_id)
    elif action == "resolve":
        r = provisioning_ops.resolve_request(db.session, _ctx(), request_id, comment if isinstance(comment, str) else "")
    else:
        raise ApiError(400, "invalid", "action must be retry, rollback or resolve")
    return jsonify(_request_json(r))


@bp.route("/requests/<int:request_id>/change", methods=["POST"])
@public
def change_request(request_id):
    data = _body()
    r = svc.start_change(db.session, _ctx(), request_id, RequestKind.CHANGE, {"reason": data.get("reason", "")})
    if "spec" in data:
        merged = {f: getattr(r, f) for f in svc.TEXT_FIELDS + ("security_level",)}
        r = svc.update_request(db.session, _ctx(), r.id, merged, data["spec"])
    if data.get("submit"):
        r = svc.submit_request(db.session, _ctx(), r.id, catalog(current_app.config))
    return jsonify(_request_json(r)), 201


@bp.route("/requests/<int:request_id>/decommission", methods=["POST"])
@public
def decommission_request(request_id):
    data = _body()
    r = svc.start_change(db.session, _ctx(), request_id, RequestKind.DECOMMISSION,
                         {"reason": data.get("reason", ""), "backup_confirmed": bool(data.get("backup_confirmed")),
                          "migration_note": str(data.get("migration_note") or "")})
    if data.get("submit", True):
        r = svc.submit_request(db.session, _ctx(), r.id, {})
    return jsonify(_request_json(r)), 201


@bp.route("/requests/<int:request_id>/resources", methods=["GET"])
@public
def request_resources(request_id):
    rows = svc.system_resources(db.session, g.api_user, request_id)
    return jsonify({"items": [{"kind": r.kind, "name": r.name, "openstack_id": r.openstack_id,
                               "attributes": r.attributes} for r in rows]})


@bp.route("/requests/<int:request_id>/receipt", methods=["GET"])
@public
def request_receipt(request_id):
    r = svc.get_request(db.session, g.api_user, request_id)
    rec = receipts.receipt_for_request(db.session, r.id)
    if rec is None:
        raise ApiError(404, "not_found", "no receipt yet")
    return jsonify({"id": rec.id, "number": rec.number, "request_id": r.id, "issued_at": rec.issued_at.isoformat(),
                    "operator": rec.operator, "items": rec.items,
                    "confirmed_at": rec.confirmed_at.isoformat() if rec.confirmed_at else None})


@bp.route("/receipts/<int:receipt_id>/confirm", methods=["POST"])
@public
def confirm_receipt(receipt_id):
    rec = receipts.confirm_receipt(db.session, _ctx(), receipt_id)
    return jsonify({"id": rec.id, "number": rec.number, "confirmed_at": rec.confirmed_at.isoformat()})

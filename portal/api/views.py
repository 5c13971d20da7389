"""JSON API /api/v1 with personal tokens (Authorization: Bearer ...); the same services as the pages.

Every operation is declared with its schemas (routing.operation); the OpenAPI document is written
from those declarations (openapi.py). Objects a client may change carry an ETag; sent back as
If-Match, a stale one gets 409 with the current object, and two people acting at once get one
success and one 409 (the services' row-locked transitions).
"""
import hashlib
import io
import json

from flask import current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from ..access import SAFE_METHODS
from ..audit_hooks import note_error
from ..errors import InputInvalid, PortalError
from ..extensions import db
from ..models.accounts import Role
from ..schemas import requests as schemas
from ..services import api_tokens, provisioning_ops, receipts, resource_requests as svc, reviews
from ..services.audit import RequestInfo
from ..services.cloud_catalog import catalog
from ..services.transitions import lock
from ..specs import Limits
from ..requests.views import upload_dir
from ..workflow import RequestKind
from .common import REQUEST_ERRORS, WRITE_ERRORS, bp
from .common import ctx as _ctx
from .errors import STATUS_CODES, ApiError, error_response, from_api_error
from .openapi import openapi_document
from .routing import dump, operation


@bp.errorhandler(ApiError)
def _api_error(exc):
    note_error(exc)
    db.session.rollback()
    return from_api_error(exc)


@bp.errorhandler(PortalError)
def _portal_error(exc):
    note_error(exc)
    db.session.rollback()
    status = exc.http_status
    if status == 404:  # absent and out of scope look the same
        return error_response(404, "not_found", "not_found")
    if isinstance(exc, InputInvalid):
        return error_response(422, "invalid", exc.message, problems=exc.problems)
    if status == 400:  # a business rule on the fields given
        field = getattr(exc, "field", None)
        return error_response(422, "invalid", exc.message, problems=[(field, exc.message)] if field else None)
    return error_response(status, STATUS_CODES.get(status, "error"), exc.message)


@bp.errorhandler(HTTPException)
def _http_error(exc):
    note_error(exc)
    db.session.rollback()
    code = STATUS_CODES.get(exc.code, exc.name.lower().replace(" ", "_"))
    return error_response(exc.code, code, {413: "body_too_large", 405: "method_not_allowed"}.get(exc.code, exc.description),
                          limit=current_app.config["API_MAX_BODY_BYTES"])


@bp.before_request
def _authenticate():
    if request.endpoint == "api.openapi":
        return None
    where = RequestInfo(correlation_id=g.get("request_id", ""), remote_addr=request.remote_addr or "")
    result = api_tokens.authorize_request(db.session, where, request.headers.get("Authorization"), request.method)
    if isinstance(result, api_tokens.Refusal):
        return error_response(result.status, result.code, result.message,
                               headers={"WWW-Authenticate": result.challenge} if result.challenge else None)
    g.api_user = user = result.user  # also who a refusal below is recorded for
    if user.role == Role.AUDITOR and request.method not in SAFE_METHODS:
        return error_response(403, "forbidden", "read_only")
    if user.role == Role.SECURITY:  # 三权分立: no business and no audit log, so no operation of the API
        return error_response(403, "forbidden", "no_api_duty")
    return None


def _catalog():
    return catalog(current_app.config)


def _limits():
    return Limits.from_config(current_app.config)


# -- requests: what a client sees of one

def _summary(r):
    return {"id": r.id, "number": r.number, "kind": r.kind, "state": r.state, "department_id": r.department_id,
            "system_id": r.system_root_id, "system_name": r.system_name, "urgent": r.urgent, "version": r.version,
            "submitted_at": r.submitted_at}


def _detail(r):
    return schemas.RequestDetail.model_validate({
        **_summary(r), "purpose": r.purpose, "project_ref": r.project_ref, "project_id": r.project_id,
        "existing_system": r.existing_system, "security_level": r.security_level,
        "construction_plan": r.construction_plan, "reason": r.reason, "backup_confirmed": r.backup_confirmed,
        "spec": r.spec, "approved_spec": r.approved_spec, "adjustment": r.adjustment,
        "review_comment": r.review_comment, "failure_message": r.failure_message,
        "documents": [{"id": a.id, "purpose": a.purpose, "filename": a.filename, "size": a.size, "sha256": a.sha256}
                      for a in r.attachments],
        "versions": [{"version": v.version, "submitted_at": v.submitted_at, "review_comment": v.review_comment}
                     for v in r.versions]})


def etag(detail):
    digest = hashlib.sha256(json.dumps(dump(detail), sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return f'"{digest[:24]}"'


def _answer(r, status=200):
    detail = _detail(r)
    response = jsonify(dump(detail))
    response.status_code = status
    response.headers["ETag"] = etag(detail)
    return response


def _if_match(request_id):
    """With If-Match: lock the request's row and compare; a stale ETag gets 409 with the current request."""
    wanted = request.headers.get("If-Match")
    if wanted is None:
        return
    r = lock(db.session, svc.get_request(db.session, g.api_user, request_id))  # scope first: another's is 404
    detail = _detail(r)
    if wanted.strip() != "*" and etag(detail) not in [t.strip() for t in wanted.split(",")]:
        raise ApiError(409, "stale", "stale", current=dump(detail), headers={"ETag": etag(detail)})


@bp.route("/openapi.json")
def openapi():
    return jsonify(openapi_document())


openapi.is_public = True


@operation(bp, "/requests", "GET", "listRequests", "List the requests you may see", tag="requests",
           query=schemas.RequestQuery, response=schemas.RequestList, errors=(400, 401))
def list_requests(query):
    page = svc.list_requests(db.session, g.api_user, state=query.state, kind=query.kind, q=query.q,
                             page=query.page, per_page=query.per_page)
    return dump(schemas.RequestList(items=[_summary(r) for r in page.items], page=page.page, pages=page.pages,
                                    total=page.total))


def _create(body, *, kind=RequestKind.NEW, system=None):
    """Create a draft and, with submit, submit it, in one transaction: a refused submission stores nothing."""
    fields = body.model_dump(include=set(svc.TEXT_FIELDS) | {"security_level", "project_id", "existing_system"},
                             exclude_none=True)
    r = svc.create_request(db.session, _ctx(), fields, body.spec.model_dump(), commit=False, limits=_limits())
    for document in body.documents:
        _add_document(r.id, document)
    if body.submit:
        r = svc.submit_request(db.session, _ctx(), r.id, _catalog(), gate=current_app.config["PROJECT_GATE"])
    db.session.commit()
    return _answer(r, 201)


def _add_document(request_id, document):
    return svc.add_attachment(db.session, _ctx(), request_id, document.purpose, document.filename,
                              io.BytesIO(document.content()), upload_dir(), commit=False)


REQUEST_LINKS = {f"{verb}Request": (f"{verb}Request", {"request_id": "$response.body#/id"})
                 for verb in ("get", "update", "submit", "cancel", "review")}


@operation(bp, "/requests", "POST", "createRequest", "Create a draft request (optionally submit it)",
           tag="requests", body=schemas.RequestCreate, response=schemas.RequestDetail, status=201,
           errors=WRITE_ERRORS, idempotent=True, links=REQUEST_LINKS)
def create_request(body):
    return _create(body)


@operation(bp, "/requests/<int:request_id>", "GET", "getRequest", "Read a request", tag="requests",
           response=schemas.RequestDetail, errors=REQUEST_ERRORS)
def get_request(request_id):
    return _answer(svc.get_request(db.session, g.api_user, request_id))


@operation(bp, "/requests/<int:request_id>", "PATCH", "updateRequest", "Edit a draft or returned request",
           tag="requests", body=schemas.RequestPatch, response=schemas.RequestDetail, errors=WRITE_ERRORS,
           conditional=True)
def update_request(request_id, body):
    _if_match(request_id)
    current = svc.get_request(db.session, g.api_user, request_id)
    given = body.model_dump(exclude_none=True, exclude={"spec"})
    merged = {f: given.get(f, getattr(current, f)) for f in svc.TEXT_FIELDS + ("security_level",)}
    if current.kind == RequestKind.NEW:  # the project of a new system (附件1 第七条(七))
        merged.update(project_id=given.get("project_id", current.project_id),
                      existing_system=given.get("existing_system", current.existing_system))
    spec = body.spec.model_dump() if body.spec is not None else current.spec
    return _answer(svc.update_request(db.session, _ctx(), request_id, merged, spec, limits=_limits()))


@operation(bp, "/requests/<int:request_id>/documents", "POST", "addRequestDocument",
           "Upload a document of a draft or returned request (construction plan, self-test report)",
           tag="requests", body=schemas.Document, response=schemas.RequestDetail, status=201,
           errors=WRITE_ERRORS, conditional=True)
def add_request_document(request_id, body):
    _if_match(request_id)
    _add_document(request_id, body)
    db.session.commit()
    return _answer(svc.get_request(db.session, g.api_user, request_id), 201)


@operation(bp, "/requests/<int:request_id>/submit", "POST", "submitRequest", "Submit for review",
           tag="requests", response=schemas.RequestDetail, errors=WRITE_ERRORS, conditional=True)
def submit_request(request_id):
    _if_match(request_id)
    return _answer(svc.submit_request(db.session, _ctx(), request_id, _catalog(), gate=current_app.config["PROJECT_GATE"]))


@operation(bp, "/requests/<int:request_id>/cancel", "POST", "cancelRequest", "Cancel a draft or returned request",
           tag="requests", response=schemas.RequestDetail, errors=WRITE_ERRORS, conditional=True)
def cancel_request(request_id):
    _if_match(request_id)
    return _answer(svc.cancel_request(db.session, _ctx(), request_id))


@operation(bp, "/requests/<int:request_id>/review", "POST", "reviewRequest", "Review decision (bureau)",
           tag="reviews", body=schemas.Review, response=schemas.RequestDetail, errors=WRITE_ERRORS,
           conditional=True)
def review_request(request_id, body):
    _if_match(request_id)
    ctx, comment = _ctx(), body.comment
    if body.decision == "start":
        r = reviews.start_review(db.session, ctx, request_id)
    elif body.decision == "approve":
        r = reviews.approve_request(db.session, ctx, request_id, _catalog(), counts=body.counts,
                                    volume_sizes=body.volume_sizes, floating_ips=body.floating_ips, comment=comment)
    elif body.decision == "reject":
        r = reviews.reject_request(db.session, ctx, request_id, comment)
    elif body.decision == "return":
        r = reviews.return_request(db.session, ctx, request_id, comment)
    else:
        r = reviews.green_channel(db.session, ctx, request_id, _catalog(), comment)
    return _answer(r)


@operation(bp, "/requests/<int:request_id>/operation", "POST", "operateRequest",
           "Operator action on a failed request (vendor, admin): retry, rollback, or resolve with a comment",
           tag="provisioning", body=schemas.Operation, response=schemas.RequestDetail, errors=WRITE_ERRORS,
           conditional=True)
def operate_request(request_id, body):
    _if_match(request_id)
    if body.action == "retry":
        r = provisioning_ops.retry_job(db.session, _ctx(), request_id)
    elif body.action == "rollback":
        r = provisioning_ops.rollback_request(db.session, _ctx(), request_id)
    else:
        r = provisioning_ops.resolve_request(db.session, _ctx(), request_id, body.comment)
    return _answer(r)


@operation(bp, "/requests/<int:request_id>/change", "POST", "createChange", "Open a change request for a system",
           tag="requests", body=schemas.ChangeCreate, response=schemas.RequestDetail, status=201,
           errors=WRITE_ERRORS, idempotent=True)
def change_request(request_id, body):
    r = svc.start_change(db.session, _ctx(), request_id, RequestKind.CHANGE,
                         {"reason": body.reason, "backup_confirmed": body.backup_confirmed,
                          "migration_note": body.migration_note},
                         spec=body.spec.model_dump() if body.spec is not None else None, commit=False,
                         limits=_limits())
    if body.submit:
        r = svc.submit_request(db.session, _ctx(), r.id, _catalog(), gate=current_app.config["PROJECT_GATE"])
    db.session.commit()
    return _answer(r, 201)


@operation(bp, "/requests/<int:request_id>/decommission", "POST", "createDecommission",
           "Apply for decommission of a system", tag="requests", body=schemas.DecommissionCreate,
           response=schemas.RequestDetail, status=201, errors=WRITE_ERRORS, idempotent=True)
def decommission_request(request_id, body):
    r = svc.start_change(db.session, _ctx(), request_id, RequestKind.DECOMMISSION,
                         {"reason": body.reason, "backup_confirmed": body.backup_confirmed,
                          "migration_note": body.migration_note}, commit=False, limits=_limits())
    if body.submit:
        r = svc.submit_request(db.session, _ctx(), r.id, {}, gate=current_app.config["PROJECT_GATE"])
    db.session.commit()
    return _answer(r, 201)


@operation(bp, "/requests/<int:request_id>/resources", "GET", "listRequestResources",
           "Cloud resources of the system", tag="requests", response=schemas.ResourceList, errors=REQUEST_ERRORS)
def request_resources(request_id):
    rows = svc.system_resources(db.session, g.api_user, request_id)
    return dump(schemas.ResourceList(items=[{"kind": r.kind, "name": r.name, "openstack_id": r.openstack_id,
                                             "attributes": r.attributes} for r in rows]))


def _receipt(rec):
    return schemas.ReceiptOut.model_validate({
        "id": rec.id, "number": rec.number, "request_id": rec.request_id, "issued_at": rec.issued_at,
        "operator": rec.operator, "items": rec.items, "confirmed_at": rec.confirmed_at})


@operation(bp, "/requests/<int:request_id>/receipt", "GET", "getReceipt", "Delivery receipt of the request",
           tag="receipts", response=schemas.ReceiptOut, errors=REQUEST_ERRORS)
def request_receipt(request_id):
    r = svc.get_request(db.session, g.api_user, request_id)
    rec = receipts.receipt_for_request(db.session, r.id)
    if rec is None:
        raise ApiError(404, "not_found", "no_receipt")
    return dump(_receipt(rec))


@operation(bp, "/receipts/<int:receipt_id>/confirm", "POST", "confirmReceipt", "Confirm a receipt (签收)",
           tag="receipts", response=schemas.ReceiptOut, errors=WRITE_ERRORS)
def confirm_receipt(receipt_id):
    return dump(_receipt(receipts.confirm_receipt(db.session, _ctx(), receipt_id)))


# the other domains' operations (each module declares its own on bp, from .common)
from . import (domains_contacts, domains_duties, domains_evaluation, domains_operations,  # noqa: E402,F401
               domains_projects, domains_records)

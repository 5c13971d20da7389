"""Department side of resource requests: drafts, uploads, submit, cancel, change, decommission."""
import hashlib
import json
import os
import uuid
from typing import NamedTuple

from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from ..database import utcnow
from ..errors import Forbidden, InputInvalid, NotFound, ValidationFailed, WrongState
from ..models.accounts import Role
from ..models.projects import Project
from ..pagination import paginate
from ..models.requests import CloudResource, ProvisioningJob, RequestAttachment, RequestVersion, ResourceRequest
from ..scoping import get_scoped, scoped
from ..schemas.base import form_field, problems as schema_problems
from ..schemas.requests import DraftFields, Spec
from ..specs import EMPTY_SPEC, Limits, change_problems, diff_specs, normalize_spec, validate_spec
from ..text import _l
from ..workflow import EDITABLE, EXECUTED, LIVE, REQUESTS, SETTLED, RequestKind, RequestState
from .audit import record_event
from .decommission_guard import guard_problems, set_migration
from .project_gate import gate_problems
from .transitions import lock, transition

TEXT_FIELDS = ("system_name", "purpose", "project_ref", "construction_plan", "reason")
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# content signatures: the type is decided by the bytes, never by the name or the browser
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"PK\x03\x04", "application/zip", ".zip"),  # docx, xlsx, odt are zip files
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage", ".doc"),
)
ATTACHMENT_PURPOSES = ("construction_plan", "self_test")
DOCUMENT_LABELS = {"construction_plan": _l("Construction plan"),
                   "self_test": _l("Performance and security self-test report")}
# 附件1: the construction plan and the performance and security self-test report go with a new request
REQUIRED_DOCUMENTS = {RequestKind.NEW: ("construction_plan", "self_test")}


def _require_department_user(user, department_id=None):
    if user is None or user.role != Role.DEPARTMENT:
        raise Forbidden()
    if department_id is not None and user.department_id != department_id:
        raise NotFound(_l("Request"), "")


def list_requests(session, user, *, state="", kind="", q="", urgent=False, page=1, per_page=20):
    """Return one page of the requests user may see, newest first."""
    stmt = scoped(select(ResourceRequest), user)
    if state:
        stmt = stmt.where(ResourceRequest.state == state)
    if kind:
        stmt = stmt.where(ResourceRequest.kind == kind)
    if urgent:
        stmt = stmt.where(ResourceRequest.urgent.is_(True))
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(ResourceRequest.system_name.ilike(like), ResourceRequest.number.ilike(like)))
    # the list shows each request's department: loaded in one query per page, not one per row
    stmt = stmt.order_by(ResourceRequest.id.desc()).options(joinedload(ResourceRequest.department))
    return paginate(session, stmt, page, per_page)


def get_request(session, user, request_id):
    """Return a request user may see, or raise NotFound."""
    return get_scoped(session, ResourceRequest, request_id, user, kind=_l("Request"))


def _clean(data):
    out = {f: str(data.get(f) or "").strip() for f in TEXT_FIELDS}
    try:
        level = int(data.get("security_level") or 2)
    except (TypeError, ValueError):
        level = 0
    out["security_level"] = level
    if "project_id" in data:  # issue 19: the 信息化项目 (its department's; the gate is at submit)
        try:
            out["project_id"] = int(data["project_id"]) if data["project_id"] not in (None, "", 0, "0") else None
        except (TypeError, ValueError):
            raise ValidationFailed(_l("Choose a project of your department."), field="project_id") from None
    if "existing_system" in data:
        out["existing_system"] = bool(data["existing_system"])
    return out


def _check_project(session, user, fields):
    """A request names a project of its own department, or none."""
    project_id = fields.get("project_id")
    if project_id is None:
        return
    project = session.get(Project, project_id)
    if project is None or project.department_id != user.department_id:
        raise ValidationFailed(_l("Choose a project of your department."), field="project_id")


def _drafted(fields):
    """The fields the draft schema checks (the project is checked against the database)."""
    return {k: v for k, v in fields.items() if k not in ("project_id", "existing_system")}


def checked_draft(fields, spec, limits=None):
    """Return the spec of a draft as normalize_spec gives it, or raise InputInvalid: a draft may be
    incomplete, but every value it holds is within its schema (portal/schemas/requests.py)."""
    spec = normalize_spec(spec)
    context = {"limits": limits or Limits()}
    problems = []
    for schema, data, prefix in ((DraftFields, fields, ()), (Spec, spec, ("servers",))):
        try:
            schema.model_validate(data, context=context)
        except ValidationError as exc:
            problems.extend(schema_problems(exc, name=lambda loc, p=prefix: form_field(loc or p)))
    if problems:
        raise InputInvalid(problems)
    return spec


def _number(request):
    return f"ZWY-{request.created_at:%Y%m%d}-{request.id:05d}"


def create_request(session, ctx, data, spec, *, kind=RequestKind.NEW, system=None, commit=True, limits=None):
    """Save a new draft request of the acting department user (commit=False: the caller commits, e.g.
    after submitting it in the same transaction)."""
    user = ctx.actor
    _require_department_user(user)
    fields = _clean(data)
    if not fields["system_name"]:
        raise ValidationFailed(_l("This field is required."), field="system_name")
    _check_project(session, user, fields)
    spec = checked_draft(_drafted(fields), spec, limits)
    request = ResourceRequest(number=f"tmp-{uuid.uuid4().hex[:20]}", kind=kind, department_id=user.department_id,
                              system_id=system.id if system is not None else None, state=RequestState.DRAFT,
                              spec=spec, created_by_id=user.id, created_at=utcnow(), **fields)
    session.add(request)
    session.flush()
    request.number = _number(request)
    record_event(session, ctx, "request.create", object_type="resource_request", object_id=request.id,
                 department_id=request.department_id, after={"number": request.number, "kind": kind})
    if kind in (RequestKind.DECOMMISSION, RequestKind.CHANGE) and data.get("backup_confirmed"):
        set_migration(session, ctx, request, True, data.get("migration_note"))
    if commit:
        session.commit()
    return request


def edit_token(request):
    """A short digest of what an editor sees of a request; sent back with the edit, it tells whether
    someone changed the request in between."""
    content = json.dumps({"state": request.state, **_content(request)}, sort_keys=True, ensure_ascii=False,
                         default=str)
    return hashlib.sha256(content.encode()).hexdigest()[:32]


def update_request(session, ctx, request_id, data, spec, *, limits=None, seen=None):
    """Change a draft or returned request; with seen (edit_token as the editor opened it), refuse
    with 409 when someone changed it since."""
    request = get_request(session, ctx.actor, request_id)
    _require_department_user(ctx.actor, request.department_id)
    lock(session, request)  # two editors, or an edit and a submit, at once: one after the other
    if request.state not in EDITABLE:
        raise WrongState(_l("Only drafts and returned requests can be edited."))
    if seen and seen != edit_token(request):
        raise WrongState(_l("Someone changed this request after you opened it. Your text is kept below: "
                            "compare it with the request and save again."))
    fields = _clean(data)
    if not fields["system_name"]:
        raise ValidationFailed(_l("This field is required."), field="system_name")
    _check_project(session, ctx.actor, fields)
    spec = checked_draft(_drafted(fields), spec, limits)
    before = {"spec": request.spec, **{f: getattr(request, f) for f in fields}}
    for key, value in fields.items():
        setattr(request, key, value)
    if "backup_confirmed" in data and request.kind in (RequestKind.DECOMMISSION, RequestKind.CHANGE):
        set_migration(session, ctx, request, data["backup_confirmed"], data.get("migration_note"))
    if request.kind != RequestKind.DECOMMISSION:
        request.spec = spec
    record_event(session, ctx, "request.update", object_type="resource_request", object_id=request.id,
                 department_id=request.department_id, before={"changes": len(diff_specs(before["spec"], request.spec))},
                 after={"version": request.version})
    session.commit()
    return request


def sniff(head):
    """Return (content_type, extension) for the first bytes of a file, or None when not allowed."""
    for magic, content_type, ext in SIGNATURES:
        if head.startswith(magic):
            return content_type, ext
    return None


def create_with_documents(session, ctx, data, spec, documents, upload_dir, *, limits=None):
    """Save a new draft with the documents sent along ([(purpose, filename, stream)]), all or nothing:
    a document refused leaves no draft and no file behind."""
    request = create_request(session, ctx, data, spec, commit=False, limits=limits)
    stored = []
    try:
        for purpose, filename, stream in documents:
            stored.append(add_attachment(session, ctx, request.id, purpose, filename, stream, upload_dir,
                                         commit=False))
    except ValidationFailed:
        for attachment in stored:
            os.remove(os.path.join(upload_dir, attachment.stored_name))
        raise
    session.commit()
    return request


class SavedDocument(NamedTuple):
    name: str          # the uploader's file name, made safe
    stored_name: str   # the file's name under the upload folder
    path: str
    content_type: str
    size: int
    sha256: str


def save_document(filename, stream, upload_dir):
    """Keep an uploaded document (PDF, Word/Excel, decided by its bytes, at most 10 MB) under
    upload_dir with a name of its own; ValidationFailed (field document) stores nothing."""
    data = stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationFailed(_l("The file is larger than 10 MB."), field="document")
    if not data:
        raise ValidationFailed(_l("The file is empty."), field="document")
    kind = sniff(data[:16])
    if kind is None:
        raise ValidationFailed(_l("Only PDF and Word/Excel documents can be uploaded."), field="document")
    content_type, ext = kind
    stored_name = f"{uuid.uuid4().hex}{ext}"
    os.makedirs(upload_dir, exist_ok=True)
    path = os.path.join(upload_dir, stored_name)
    with open(path, "xb") as fh:
        fh.write(data)
    name = os.path.basename(str(filename or "document").replace("\\", "/"))[:200] or "document"
    return SavedDocument(name, stored_name, path, content_type, len(data), hashlib.sha256(data).hexdigest())


def store_upload(filename, stream, upload_dir):
    """save_document, answered as the columns of a document's row (filename, stored_name,
    content_type, size, sha256): request attachments and project documents are stored alike."""
    saved = save_document(filename, stream, upload_dir)
    return {"filename": saved.name, "stored_name": saved.stored_name, "content_type": saved.content_type,
            "size": saved.size, "sha256": saved.sha256}


def add_attachment(session, ctx, request_id, purpose, filename, stream, upload_dir, *, commit=True):
    """Store an uploaded document (PDF, Office) under upload_dir, checked by size and content."""
    request = get_request(session, ctx.actor, request_id)
    _require_department_user(ctx.actor, request.department_id)
    if request.state not in EDITABLE:
        raise WrongState(_l("Only drafts and returned requests can be edited."))
    if purpose not in ATTACHMENT_PURPOSES:
        raise ValidationFailed(_l("Choose what the document is."), field="purpose")
    saved = save_document(filename, stream, upload_dir)
    attachment = RequestAttachment(request_id=request.id, purpose=purpose, filename=saved.name,
                                   stored_name=saved.stored_name, content_type=saved.content_type, size=saved.size,
                                   sha256=saved.sha256)
    session.add(attachment)
    record_event(session, ctx, "request.attach", object_type="resource_request", object_id=request.id,
                 department_id=request.department_id,
                 after={"filename": saved.name, "size": saved.size, "sha256": attachment.sha256,
                        "purpose": purpose})
    session.flush()
    session.expire(request, ["attachments"])
    if commit:
        session.commit()
    return attachment


def get_attachment(session, user, request_id, attachment_id, upload_dir):
    """Return (attachment, path) of a document of a request user may see."""
    request = get_request(session, user, request_id)
    attachment = session.get(RequestAttachment, attachment_id)
    if attachment is None or attachment.request_id != request.id:
        raise NotFound(_l("Document"), attachment_id)
    return attachment, os.path.join(upload_dir, attachment.stored_name)


def missing_documents(request):
    """Return the purposes of the documents request's kind requires that are not uploaded yet."""
    uploaded = {a.purpose for a in request.attachments}
    return [p for p in REQUIRED_DOCUMENTS.get(request.kind, ()) if p not in uploaded]


def document_problems(request):
    """Return a (field, message) problem for each required document not uploaded."""
    return [("document", _l("Upload the %(document)s: a resource request (attachment 1) needs it.",
                            document=DOCUMENT_LABELS[p])) for p in missing_documents(request)]


def require_documents(request):
    """Raise ValidationFailed when a required document of request is missing (nothing changes)."""
    problems = document_problems(request)
    if problems:
        raise InputInvalid(problems, problems[0][1])


def submission_problems(request, catalog, current=None):
    """Return (field, message) problems that keep request from being submitted."""
    problems = document_problems(request)
    if not request.system_name:
        problems.append(("system_name", _l("This field is required.")))
    if request.kind == RequestKind.NEW:
        if not request.purpose:
            problems.append(("purpose", _l("This field is required.")))
        if not 1 <= request.security_level <= 4:
            problems.append(("security_level", _l("Choose a security protection level from 1 to 4.")))
    if request.kind in (RequestKind.CHANGE, RequestKind.DECOMMISSION) and not request.reason:
        problems.append(("reason", _l("Explain the reason for the change or decommission.")))
    if request.kind == RequestKind.DECOMMISSION:
        return problems  # and the decommission guard (services/decommission.py), which needs the session
    problems.extend(validate_spec(normalize_spec(request.spec), catalog))
    if request.kind == RequestKind.CHANGE and current is not None:
        if not diff_specs(current, request.spec):
            problems.append(("servers", _l("The change request does not change anything.")))
        problems.extend(change_problems(current, request.spec))
    return problems


def submit_request(session, ctx, request_id, catalog, *, commit=True, gate=True):
    """Validate a draft or returned request and submit it for review; keep the version. With gate
    (the PROJECT_GATE setting), a new system's request names a project that passed the design review
    (附件1 第七条(七)) or moves a system already in use."""
    request = get_request(session, ctx.actor, request_id)
    _require_department_user(ctx.actor, request.department_id)
    current = current_spec(session, request.system_id) if request.system_id else None
    problems = submission_problems(request, catalog, current)
    if gate:
        problems = gate_problems(session, request) + problems
    if request.kind in (RequestKind.DECOMMISSION, RequestKind.CHANGE):
        problems.extend(guard_problems(session, request, current))  # 第十条(二): removed only after a backup
    if problems:
        raise SubmissionInvalid(problems)
    if request.state == RequestState.RETURNED:
        request.version += 1
    transition(session, ctx, REQUESTS, request, "submit", after={"version": request.version})
    session.add(RequestVersion(request_id=request.id, version=request.version, submitted_by=ctx.actor.username,
                               content=_content(request)))
    if commit:
        session.commit()
    return request


def _content(request):
    return {"system_name": request.system_name, "purpose": request.purpose, "project_ref": request.project_ref,
            "project_id": request.project_id, "existing_system": request.existing_system,
            "security_level": request.security_level, "construction_plan": request.construction_plan,
            "reason": request.reason, "backup_confirmed": request.backup_confirmed,
            "migration_note": request.migration_note, "spec": request.spec}


def cancel_request(session, ctx, request_id):
    """Withdraw a draft or returned request."""
    request = get_request(session, ctx.actor, request_id)
    _require_department_user(ctx.actor, request.department_id)
    transition(session, ctx, REQUESTS, request, "cancel")
    session.commit()
    return request


class SubmissionInvalid(InputInvalid):
    """The request has problems; `problems` lists (field, message)."""

    def __init__(self, problems):
        super().__init__(problems, _l("The request cannot be submitted yet: correct the marked fields."))


# -- systems: a new request and the changes that followed it

def system_requests(session, system_id):
    """Return every request of a system (the new request and its changes), oldest first."""
    return list(session.scalars(select(ResourceRequest).where(
        or_(ResourceRequest.id == system_id, ResourceRequest.system_id == system_id)).order_by(ResourceRequest.id)))


def current_spec(session, system_id):
    """Return the spec the system's resources have now (its last executed request), or the empty spec."""
    done = [r for r in system_requests(session, system_id)
            if r.state in (RequestState.PROVISIONED, RequestState.DELIVERED)]
    if not done:
        return normalize_spec(EMPTY_SPEC)
    last = done[-1]
    if last.kind == RequestKind.DECOMMISSION:
        return normalize_spec(EMPTY_SPEC)
    return normalize_spec(last.approved_spec)


def superseded_by(session, request):
    """Return the last carried-out request of request's system after it (a change or a decommission), or
    None while request's resources are still what the system has."""
    if request.state not in EXECUTED:
        return None
    later = [r for r in system_requests(session, request.system_root_id) if r.id > request.id and r.state in EXECUTED]
    return later[-1] if later else None


def open_requests(session, system_id):
    """Return the requests of a system that are not settled yet (a change or decommission in the works)."""
    return [r for r in system_requests(session, system_id) if r.state not in SETTLED]


def system_status(session, system_id):
    """Return "pending" (a request is open), "live", "decommissioned" or "none"."""
    return status_of(system_requests(session, system_id))


def status_of(requests):
    """system_status of a system whose requests (oldest first) are already loaded."""
    open_ = [r for r in requests if r.state not in SETTLED]
    if open_:
        return "pending"
    done = [r for r in requests if r.state in (RequestState.PROVISIONED, RequestState.DELIVERED)]
    if not done:
        return "none"
    return "decommissioned" if done[-1].kind == RequestKind.DECOMMISSION else "live"


def start_change(session, ctx, system_id, kind, data=None, *, spec=None, commit=True, limits=None):
    """Open a change or decommission request (a draft) for a live system of the user's department; a
    change starts from the system's current spec unless spec is given."""
    system = get_request(session, ctx.actor, system_id)
    _require_department_user(ctx.actor, system.department_id)
    if system.kind != RequestKind.NEW:
        raise NotFound(_l("Request"), system_id)
    status = system_status(session, system.id)
    if status == "pending":
        raise WrongState(_l("Another request of this system is still open."))
    if status != "live":
        raise WrongState(_l("Only a system whose resources are provisioned can be changed."))
    data = dict(data or {})
    for field in ("system_name", "purpose", "project_ref", "construction_plan", "security_level", "project_id"):
        data.setdefault(field, getattr(system, field))
    if kind != RequestKind.CHANGE:
        spec = EMPTY_SPEC
    elif spec is None:
        spec = current_spec(session, system.id)
    return create_request(session, ctx, data, spec, kind=kind, system=system, commit=commit, limits=limits)


def delivered_resources(session, department_id, system_id, *, with_deleted=False):
    """Return the cloud resources a system uses: its own and the department's shared router and default
    network (system_id empty), never the project; what the receipt lists and the request page shows."""
    stmt = select(CloudResource).where(
        CloudResource.department_id == department_id,
        or_(CloudResource.system_id == system_id, CloudResource.system_id.is_(None)),
        CloudResource.kind != "project").order_by(CloudResource.id)
    rows = list(session.scalars(stmt))
    if with_deleted:  # a system's own deleted rows (a decommission's receipt); never another's
        return [r for r in rows if not (r.deleted and r.system_id != system_id)]
    return [r for r in rows if not r.deleted]


DELETION_ORDER = ("floating_ip", "server", "volume", "keypair", "security_group", "subnet", "network", "router")


def deletion_plan(session, request):
    """Return what a decommission of request's system deletes in the cloud, servers first: the system's
    own resources, and the department's router and default network when no other system uses them."""
    root = request.system_root_id
    rows = delivered_resources(session, request.department_id, root)
    others = [s for s in live_systems(session, request.department_id) if s.id != root]
    plan = [r for r in rows if r.system_id == root or not others]
    rank = {kind: n for n, kind in enumerate(DELETION_ORDER)}
    return sorted(plan, key=lambda r: (rank.get(r.kind, len(rank)), r.id))


def system_resources(session, user, system_id):
    """Return the live cloud resources of a system user may see (with the shared router and network);
    a decommissioned system has none, though its department's router may still serve others."""
    system = get_request(session, user, system_id)
    if system_status(session, system.system_root_id) == "decommissioned":
        return []
    return delivered_resources(session, system.department_id, system.system_root_id)


def live_systems(session, department_id):
    """Return the new requests of a department whose systems hold resources (for quotas)."""
    roots = session.scalars(select(ResourceRequest).where(ResourceRequest.department_id == department_id,
                                                          ResourceRequest.kind == RequestKind.NEW))
    return [r for r in roots if any(x.state in LIVE for x in system_requests(session, r.id))
            and system_status(session, r.id) != "decommissioned"]


def request_jobs(session, request):
    """Return the provisioning jobs of a request, oldest first."""
    return list(session.scalars(select(ProvisioningJob).where(ProvisioningJob.request_id == request.id)
                                .order_by(ProvisioningJob.id)))

"""API of what is kept: backups (policies, runs, artifacts, restores, extractions), grants, the audit log.

Each operation allows exactly the roles of its page (the page's @require, checked first, so a role
the page refuses gets 403 whatever the id) and then calls the page's own service, which scopes the
object (another department's answers 404), checks the role again and audits the change.
"""
from zoneinfo import ZoneInfo

from flask import current_app, g, request

from ..access import DEPARTMENT_ADMIN
from ..audit.views import csv_export
from ..errors import ValidationFailed
from ..extensions import db
from ..models.accounts import BUSINESS_VIEWERS, Role
from ..pagination import paginate
from ..schemas.base import Listing, Page
from ..schemas import audit as audit_schemas, backups as schemas, grants as grant_schemas
from ..services import audit, backups as svc, ssh_keys, vendor_access
from .common import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS, allow, bp, ctx
from .routing import dump, operation

ALL_ROLES = BUSINESS_VIEWERS  # every business page is open to every role but the security administrator, as its @require says


def _cloud():
    return current_app.extensions["govcloud_runtime"].cloud()


def _answer(out, obj, status=200):
    return dump(out.model_validate(obj)), status


def _list(rule, operation_id, summary, *, tag, query, out, find, roles=ALL_ROLES):
    """Declare GET rule: the page find(session, user, page=, per_page=, **filters of query) returns."""
    listing = Listing[out]

    @operation(bp, rule, "GET", operation_id, summary, tag=tag, query=query, response=listing, errors=LIST_ERRORS)
    def list_(query):
        allow(*roles)
        page = find(db.session, g.api_user, **query.model_dump())
        return dump(listing(items=[out.model_validate(item) for item in page.items], page=page.page,
                            pages=page.pages, total=page.total))
    return list_


def _read(rule, operation_id, summary, *, tag, out, get, roles=ALL_ROLES):
    """Declare GET rule: the object get(session, user, id) returns (its scope: another department's is 404)."""
    @operation(bp, rule, "GET", operation_id, summary, tag=tag, response=out, errors=READ_ERRORS)
    def read(**ident):
        allow(*roles)
        return _answer(out, get(db.session, g.api_user, *ident.values()))
    return read


# -- backups: the reads (every role, as on the backup pages) --------------------------------------

_list("/backups/policies", "listBackupPolicies", "List the backup policies you may see", tag="backups",
      query=Page, out=schemas.PolicyOut,
      find=lambda session, user, page, per_page: paginate(session, svc.policies_select(user), page, per_page))
_list("/backups/runs", "listBackupRuns", "List the backup runs you may see, newest first", tag="backups",
      query=schemas.RunQuery, out=schemas.RunOut, find=svc.list_runs)
_list("/backups/artifacts", "listBackupArtifacts",
      "List the backups (snapshot images, volume backups) you may see, newest first", tag="backups",
      query=schemas.ArtifactQuery, out=schemas.ArtifactOut, find=svc.list_artifacts)
_list("/backups/restores", "listRestores",
      "List the restores you may see, newest first (state requested: asked of the vendor, not started)",
      tag="backups", query=schemas.RestoreQuery, out=schemas.RestoreOut, find=svc.list_restores)
_list("/backups/extractions", "listExtractions", "List the extraction applications you may see, newest first",
      tag="backups", query=schemas.ExtractionQuery, out=schemas.ExtractionOut, find=svc.list_extractions)
_read("/backups/policies/<int:policy_id>", "getBackupPolicy", "Read a backup policy", tag="backups",
      out=schemas.PolicyOut, get=svc.get_policy)
_read("/backups/runs/<int:run_id>", "getBackupRun", "Read a backup run", tag="backups", out=schemas.RunOut,
      get=svc.get_run)
_read("/backups/restores/<int:restore_id>", "getRestore", "Read a restore", tag="backups", out=schemas.RestoreOut,
      get=svc.get_restore)
_read("/backups/extractions/<int:extraction_id>", "getExtraction", "Read an extraction application",
      tag="backups", out=schemas.ExtractionOut, get=svc.get_extraction)


# -- backup policies ------------------------------------------------------------------------------

POLICY_FIELDS = tuple(f for f in schemas.PolicyPatch.model_fields if f != "system_id")


def _saved_policy(save, *args):
    """Run a policy service; its 'target' problem is the API's system_id."""
    try:
        return save(db.session, ctx(), *args)
    except ValidationFailed as exc:
        if exc.field == "target":
            exc.field = "system_id"
        raise


@operation(bp, "/backups/policies", "POST", "createBackupPolicy",
           "Create a backup policy of a system or a department's default", tag="backups",
           body=schemas.PolicyCreate, response=schemas.PolicyOut, status=201, errors=WRITE_ERRORS, idempotent=True)
def create_backup_policy(body):
    allow(*svc.EDITORS)
    data = body.model_dump(include=set(POLICY_FIELDS))
    department_id = body.department_id or g.api_user.department_id
    data["target"] = f"s{body.system_id}" if body.system_id else f"d{department_id}"
    return _answer(schemas.PolicyOut, _saved_policy(svc.create_policy, data), 201)


@operation(bp, "/backups/policies/<int:policy_id>", "PATCH", "updateBackupPolicy",
           "Change a backup policy (only the fields given; enabled switches it on or off)", tag="backups",
           body=schemas.PolicyPatch, response=schemas.PolicyOut, errors=WRITE_ERRORS)
def update_backup_policy(policy_id, body):
    allow(*svc.EDITORS)
    policy = svc.get_policy(db.session, g.api_user, policy_id)
    given = body.model_dump(exclude_unset=True)
    data = {f: given.get(f, getattr(policy, f)) for f in POLICY_FIELDS}
    system_id = given.get("system_id", policy.system_id)
    data["target"] = f"s{system_id}" if system_id else f"d{policy.department_id}"
    return _answer(schemas.PolicyOut, _saved_policy(svc.update_policy, policy.id, data))


@operation(bp, "/backups/policies/<int:policy_id>/hooks-approval", "POST", "approveBackupHooks",
           "The department's administrator approves the policy's current backup commands (they run from then on)",
           tag="backups", response=schemas.PolicyOut, errors=WRITE_ERRORS)
def approve_backup_hooks(policy_id):
    allow(Role.DEPARTMENT)
    return _answer(schemas.PolicyOut, svc.approve_hooks(db.session, ctx(), policy_id))


@operation(bp, "/backups/policies/<int:policy_id>/runs", "POST", "runBackupNow",
           "Back up now: queue a run of the policy (the due-runner starts it within a minute)", tag="backups",
           response=schemas.RunOut, status=201, errors=WRITE_ERRORS)
def run_backup_now(policy_id):
    allow(*svc.RUNNERS)
    return _answer(schemas.RunOut, svc.back_up_now(db.session, ctx(), policy_id), 201)


# -- restores and extractions (备份数据提取): they act on a department's hosts or data ------------------

def _restore_fields(body):
    """What a restore, started or requested, takes besides its mode (the restore page's fields)."""
    return body.model_dump(include={"urgent", "reason", "target_name"})


CREATES_RESTORE = dict(tag="backups", body=schemas.RestoreCreate, response=schemas.RestoreOut, status=201,
                       errors=WRITE_ERRORS, idempotent=True)  # a restore started or requested: the page's fields


@operation(bp, "/backups/artifacts/<int:artifact_id>/restores", "POST", "createRestore",
           "Restore a backup now (the department; the vendor only under a live grant of the department for the "
           "backup's system, naming the department's request in the reason)", **CREATES_RESTORE)
def create_restore(artifact_id, body):
    allow(*svc.RESTORERS)
    job = svc.start_restore(db.session, ctx(), _cloud(), artifact_id, body.mode, settings=current_app.config,
                            **_restore_fields(body))
    return _answer(schemas.RestoreOut, job, 201)


@operation(bp, "/backups/artifacts/<int:artifact_id>/restore-requests", "POST", "requestRestore",
           "A department asks the vendor to restore one of its backups (the vendor's warrant, 第十八条): the "
           "restore waits in state requested until the vendor carries it out or the department withdraws it",
           **CREATES_RESTORE)
def request_restore(artifact_id, body):
    allow(Role.DEPARTMENT)
    return _answer(schemas.RestoreOut, svc.request_restore(db.session, ctx(), artifact_id, body.mode,
                                                           **_restore_fields(body)), 201)


@operation(bp, "/backups/restores/<int:restore_id>/start", "POST", "carryOutRestore",
           "The vendor carries out a restore the department requested (it starts at once)", tag="backups",
           response=schemas.RestoreOut, errors=WRITE_ERRORS)
def carry_out_restore(restore_id):
    allow(Role.VENDOR)
    job = svc.carry_out_restore(db.session, ctx(), _cloud(), restore_id, settings=current_app.config)
    return _answer(schemas.RestoreOut, job)


@operation(bp, "/backups/restores/<int:restore_id>/withdraw", "POST", "withdrawRestore",
           "The department withdraws its restore request before the vendor started it", tag="backups",
           response=schemas.RestoreOut, errors=WRITE_ERRORS)
def withdraw_restore(restore_id):
    allow(Role.DEPARTMENT)
    return _answer(schemas.RestoreOut, svc.withdraw_restore(db.session, ctx(), restore_id))


# -- the department's SSH keys for the backup hooks (第十八条): the private key is never answered ---------

def _key(user, key):
    """A key as user may read it: the public key only to the department's users."""
    out = schemas.SshKeyOut.model_validate(key)
    if user.role != Role.DEPARTMENT:
        out = out.model_copy(update={"public_key": None})
    return dump(out)


SSH_KEYS = Listing[schemas.SshKeyOut]
CREATES_KEY = dict(tag="backups", response=schemas.SshKeyOut, status=201, errors=WRITE_ERRORS, idempotent=True)


@operation(bp, "/backups/keys", "GET", "listSshKeys",
           "List SSH keys for backup hooks, newest first: a department user its department's (with the public "
           "keys to install); the bureau, vendor and admin the live keys a policy may choose", tag="backups",
           query=schemas.SshKeyQuery, response=SSH_KEYS, errors=LIST_ERRORS)
def list_ssh_keys(query):
    allow(*ssh_keys.READERS)
    user = g.api_user
    page = paginate(db.session, ssh_keys.keys_select(user, query.department_id), query.page, query.per_page)
    return dump(SSH_KEYS(items=[_key(user, k) for k in page.items], page=page.page, pages=page.pages,
                         total=page.total))


@operation(bp, "/backups/keys/<int:key_id>", "GET", "getSshKey", "Read an SSH key for backup hooks",
           tag="backups", response=schemas.SshKeyOut, errors=READ_ERRORS)
def get_ssh_key(key_id):
    allow(*ssh_keys.READERS)
    return _key(g.api_user, ssh_keys.get_key(db.session, g.api_user, key_id))


@operation(bp, "/backups/keys", "POST", "generateSshKey",
           "The department's administrator generates a new Ed25519 key of the department (install the public "
           "key on the hosts; the private key is never returned)", body=schemas.SshKeyCreate, **CREATES_KEY)
def generate_ssh_key(body):
    allow(DEPARTMENT_ADMIN)
    return _key(g.api_user, ssh_keys.generate_key(db.session, ctx(), body.name)), 201


@operation(bp, "/backups/keys/uploads", "POST", "uploadSshKey",
           "The department's administrator stores a key made elsewhere (Ed25519, no passphrase); the private "
           "key is kept sealed and never returned or audited", body=schemas.SshKeyUpload, **CREATES_KEY)
def upload_ssh_key(body):
    allow(DEPARTMENT_ADMIN)
    return _key(g.api_user, ssh_keys.upload_key(db.session, ctx(), body.name, body.private_key)), 201


@operation(bp, "/backups/keys/<int:key_id>/revoke", "POST", "revokeSshKey",
           "The department's administrator revokes a key: no policy may choose it and no hook runs with it",
           tag="backups", response=schemas.SshKeyOut, errors=WRITE_ERRORS)
def revoke_ssh_key(key_id):
    allow(DEPARTMENT_ADMIN)
    return _key(g.api_user, ssh_keys.revoke_key(db.session, ctx(), key_id))


@operation(bp, "/backups/artifacts/<int:artifact_id>/extractions", "POST", "createExtraction",
           "Apply to take one of your department's backups out as a file (the bureau decides)", tag="backups",
           body=schemas.ExtractionCreate, response=schemas.ExtractionOut, status=201, errors=WRITE_ERRORS,
           idempotent=True)
def create_extraction(artifact_id, body):
    allow(Role.DEPARTMENT)
    return _answer(schemas.ExtractionOut, svc.apply_extraction(db.session, ctx(), artifact_id, body.reason), 201)


@operation(bp, "/backups/extractions/<int:extraction_id>/decision", "POST", "decideExtraction",
           "The bureau approves (the file is prepared at once) or rejects an extraction, with its reason",
           tag="backups", body=schemas.ExtractionDecision, response=schemas.ExtractionOut, errors=WRITE_ERRORS)
def decide_extraction(extraction_id, body):
    allow(*svc.DECIDERS)
    extraction = svc.decide_extraction(db.session, ctx(), _cloud(), extraction_id, body.decision == "approve",
                                       body.comment, settings=current_app.config)
    return _answer(schemas.ExtractionOut, extraction)


# -- vendor access grants (运维授权) ----------------------------------------------------------------

_list("/grants", "listGrants", "List the grants you may see (a vendor its own, a department its own), newest first",
      tag="grants", query=grant_schemas.GrantQuery, out=grant_schemas.GrantOut, roles=vendor_access.VIEWERS,
      find=lambda session, user, page, per_page, state: paginate(session, vendor_access.grants_select(user, state),
                                                                 page, per_page))
_read("/grants/<int:grant_id>", "getGrant", "Read a grant", tag="grants", out=grant_schemas.GrantOut,
      get=vendor_access.get_grant, roles=vendor_access.VIEWERS)


def _key_dir():
    return current_app.config["GRANT_KEY_DIR"]


@operation(bp, "/grants", "POST", "createGrant", "A vendor applies for access to a system for a window",
           tag="grants", body=grant_schemas.GrantCreate, response=grant_schemas.GrantOut, status=201,
           errors=WRITE_ERRORS, idempotent=True)
def create_grant(body):
    allow(Role.VENDOR)
    grant = vendor_access.apply_grant(db.session, ctx(), body.system_id, body.reason, body.starts_at, body.ends_at)
    return _answer(grant_schemas.GrantOut, grant, 201)


@operation(bp, "/grants/<int:grant_id>/decision", "POST", "decideGrant",
           "The department's administrator approves (naming the management endpoint) or refuses a grant",
           tag="grants", body=grant_schemas.GrantDecision, response=grant_schemas.GrantOut, errors=WRITE_ERRORS)
def decide_grant(grant_id, body):
    allow(DEPARTMENT_ADMIN)
    endpoint = {"host": body.ssh_host, "port": body.ssh_port, "username": body.ssh_username,
                "host_key": body.ssh_host_key}
    grant = vendor_access.decide_grant(db.session, ctx(), grant_id, body.decision == "approve", body.comment,
                                       endpoint, _key_dir())
    return _answer(grant_schemas.GrantOut, grant)


@operation(bp, "/grants/<int:grant_id>/revoke", "POST", "revokeGrant",
           "The department's administrator ends a grant at once (its key is destroyed)", tag="grants",
           body=grant_schemas.GrantRevoke, response=grant_schemas.GrantOut, errors=WRITE_ERRORS)
def revoke_grant(grant_id, body):
    allow(DEPARTMENT_ADMIN)
    grant = vendor_access.revoke_grant(db.session, ctx(), grant_id, _key_dir(), body.comment)
    return _answer(grant_schemas.GrantOut, grant)


@operation(bp, "/grants/<int:grant_id>/withdraw", "POST", "withdrawGrant",
           "The vendor withdraws its application", tag="grants", response=grant_schemas.GrantOut,
           errors=WRITE_ERRORS)
def withdraw_grant(grant_id):
    allow(Role.VENDOR)
    return _answer(grant_schemas.GrantOut, vendor_access.withdraw_grant(db.session, ctx(), grant_id))


# -- the audit log (操作日志) -----------------------------------------------------------------------

def _audit_filter(filters):
    return audit.days_filter(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]), **filters)


@operation(bp, "/audit/events", "GET", "searchAuditEvents",
           "Search the audit log, newest first (the audit administrator and the bureau; department users: their "
           "department's events; the system and security administrators are refused, 三权分立); follow "
           "`next_before` to walk a log of millions of events at the same cost per page", tag="audit",
           query=audit_schemas.AuditQuery, response=audit_schemas.AuditListing, errors=LIST_ERRORS)
def search_audit_events(query):
    allow(*audit.READERS)
    filters = query.model_dump(exclude={"page", "per_page", "before"})
    f = _audit_filter(filters)
    if query.before is not None:
        found = audit.search_events(db.session, g.api_user, f, before=query.before, per_page=query.per_page)
        items, page, pages, total, next_before = found.items, None, None, None, found.older
    else:
        found = audit.search_page(db.session, g.api_user, f, page=query.page, per_page=query.per_page)
        items, page, pages, total = found.items, found.page, found.pages, found.total
        next_before = items[-1].id if items and found.page < found.pages else None
    return dump(audit_schemas.AuditListing(
        items=[audit_schemas.AuditEventOut.model_validate(e) for e in items], page=page, pages=pages,
        total=total, next_before=next_before))


@operation(bp, "/audit/events/export", "GET", "exportAuditEvents",
           "Export every event the filters select as CSV, oldest first, streamed (the export is audited; "
           "the same roles as searchAuditEvents)",
           tag="audit", query=audit_schemas.AuditFilters, errors=LIST_ERRORS, binary="text/csv")
def export_audit_events(query):
    allow(*audit.READERS)
    return csv_export(ctx(), _audit_filter(query.model_dump()), request.args)

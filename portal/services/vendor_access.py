"""运维授权 (第十八条): vendors apply, departments grant and revoke, every access is audited.

Outside a live grant a vendor sees a system's operational state but has no way in. During
one, the portal reads the servers' console logs for the vendor and runs commands on the
department's management endpoint with a key pair made for that grant; the private key lives
in the instance folder only while the grant does.
"""
import os
from datetime import timedelta

from sqlalchemy import select

from ..database import utcnow
from ..errors import Forbidden, NotFound, ValidationFailed
from ..models.grants import GRANTS, GrantState, VendorGrant
from ..models.accounts import Role
from ..models.requests import CloudResource, ResourceRequest
from ..scoping import get_scoped, scoped
from ..text import _l
from ..workflow import RequestKind
from .audit import record_event
from .transitions import transition

VIEWERS = (Role.DEPARTMENT, Role.VENDOR, Role.BUREAU, Role.AUDITOR, Role.ADMIN)  # who sees grants
MAX_WINDOW = timedelta(days=30)
MAX_COMMAND = 2000


class NoLiveGrant(Forbidden):
    """The vendor holds no live grant for what it tries to reach."""

    def __init__(self):
        super().__init__(_l("Access needs a live grant of the department (第十八条)."))


def _move(session, ctx, grant, action, *, detail="", after=None, actor=None):
    transition(session, ctx, GRANTS, grant, action, detail=detail, after=after, actor=actor)


def key_path(key_dir, grant_id):
    return os.path.join(key_dir, f"grant-{grant_id}.key")


def _destroy_key(key_dir, grant_id):
    try:
        os.unlink(key_path(key_dir, grant_id))
    except FileNotFoundError:
        pass


# --- reading --------------------------------------------------------------------------------

def grants_select(user, state=""):
    """The select of the grants user may see, newest first: a vendor its own, a department its own,
    others all."""
    stmt = scoped(select(VendorGrant), user)
    if user.role == Role.VENDOR:
        stmt = stmt.where(VendorGrant.vendor_id == user.id)
    if state:
        stmt = stmt.where(VendorGrant.state == state)
    return stmt.order_by(VendorGrant.id.desc())


def list_grants(session, user):
    """Return the newest 200 grants user may see (see grants_select)."""
    return list(session.scalars(grants_select(user).limit(200)))


def get_grant(session, user, grant_id):
    grant = get_scoped(session, VendorGrant, grant_id, user, kind=_l("Grant"))
    if user.role == Role.VENDOR and grant.vendor_id != user.id:
        raise NotFound(_l("Grant"), grant_id)
    return grant


def grantable_systems(session):
    """Return the systems a vendor may apply for: new requests that were provisioned."""
    from .resource_requests import system_status
    roots = session.scalars(select(ResourceRequest).where(ResourceRequest.kind == RequestKind.NEW)
                            .order_by(ResourceRequest.department_id, ResourceRequest.id))
    return [r for r in roots if system_status(session, r.id) == "live"]


def grant_servers(session, grant):
    """Return the live server resources of the grant's system."""
    return list(session.scalars(select(CloudResource).where(
        CloudResource.system_id == grant.system_id, CloudResource.kind == "server",
        CloudResource.deleted.is_(False)).order_by(CloudResource.id)))


# --- the vendor -----------------------------------------------------------------------------

def apply_grant(session, ctx, system_id, reason, starts_at, ends_at):
    """A vendor operator applies for access to a system for a time window."""
    user = ctx.actor
    if user.role != Role.VENDOR:
        raise Forbidden()
    system = session.get(ResourceRequest, system_id)
    if system is None or system not in grantable_systems(session):
        raise ValidationFailed(_l("Choose a system that is in service."), field="system_id")
    reason = (reason or "").strip()
    if len(reason) < 2:  # two characters already say something in Chinese (巡检)
        raise ValidationFailed(_l("Say why access is needed."), field="reason")
    if ends_at <= starts_at:
        raise ValidationFailed(_l("The end must be after the start."), field="ends_at")
    if ends_at <= utcnow():
        raise ValidationFailed(_l("The window is already over."), field="ends_at")
    if ends_at - starts_at > MAX_WINDOW:
        raise ValidationFailed(_l("A grant lasts at most 30 days."), field="ends_at")
    grant = VendorGrant(department_id=system.department_id, system_id=system.id,
                        vendor_id=user.id, reason=reason, starts_at=starts_at, ends_at=ends_at)
    session.add(grant)
    session.flush()
    record_event(session, ctx, "grant.apply", object_type="vendor_grant", object_id=grant.id,
                 department_id=grant.department_id, after=grant.snapshot(), detail=reason)
    session.commit()
    return grant


def withdraw_grant(session, ctx, grant_id):
    grant = get_grant(session, ctx.actor, grant_id)
    if ctx.actor.id != grant.vendor_id:
        raise Forbidden()
    _move(session, ctx, grant, "withdraw")
    session.commit()
    return grant


# --- the department -------------------------------------------------------------------------

def _require_department_admin(user, grant):
    if not (user.role == Role.DEPARTMENT and user.is_dept_admin
            and user.department_id == grant.department_id):
        raise Forbidden()


def decide_grant(session, ctx, grant_id, approve, comment, endpoint, key_dir):
    """The department's administrator approves (naming the endpoint) or refuses a grant."""
    from provisioner.ssh import SSHError, new_keypair, pinned_client
    user = ctx.actor
    grant = get_grant(session, user, grant_id)
    _require_department_admin(user, grant)
    comment = (comment or "").strip()
    if not approve:
        if not comment:
            raise ValidationFailed(_l("Give the reason for refusing."), field="comment")
        grant.decided_by_id, grant.decided_at, grant.decision_comment = user.id, utcnow(), comment
        _move(session, ctx, grant, "refuse", detail=comment)
        session.commit()
        return grant
    host = (endpoint.get("host") or "").strip()
    username = (endpoint.get("username") or "").strip()
    host_key = (endpoint.get("host_key") or "").strip()
    port = endpoint.get("port") or 22
    if not host or not username:
        raise ValidationFailed(_l("Name the management host and the user name."), field="ssh_host")
    try:
        pinned_client(host, port, host_key).close()
    except SSHError:
        raise ValidationFailed(_l("Give the host's public key as '<type> <base64>'."),
                               field="ssh_host_key") from None
    if grant.ends_at <= utcnow():
        _move(session, ctx, grant, "expire")
        session.commit()
        raise ValidationFailed(_l("The window is already over."))
    private, public = new_keypair(f"govcloud-grant-{grant.id}")
    os.makedirs(key_dir, mode=0o700, exist_ok=True)
    fd = os.open(key_path(key_dir, grant.id), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(private)
    grant.ssh_host, grant.ssh_port, grant.ssh_username = host, int(port), username
    grant.ssh_host_key, grant.public_key = host_key, public
    grant.decided_by_id, grant.decided_at, grant.decision_comment = user.id, utcnow(), comment
    _move(session, ctx, grant, "approve", detail=comment,
          after={"endpoint": f"{username}@{host}:{port}"})
    session.commit()
    return grant


def revoke_grant(session, ctx, grant_id, key_dir, comment=""):
    """The department ends a grant at once; the portal destroys the grant's private key."""
    grant = get_grant(session, ctx.actor, grant_id)
    _require_department_admin(ctx.actor, grant)
    _move(session, ctx, grant, "revoke", detail=(comment or "").strip())
    session.commit()
    _destroy_key(key_dir, grant.id)
    return grant


def expire_grants(session, ctx, key_dir, now=None):
    """End every grant whose window is over; return how many (a scheduled job runs this)."""
    now = now or utcnow()
    due = list(session.scalars(select(VendorGrant).where(
        VendorGrant.state.in_([GrantState.APPROVED, GrantState.REQUESTED]),
        VendorGrant.ends_at <= now)))
    for grant in due:
        _move(session, ctx, grant, "expire")
    session.commit()
    for grant in due:
        _destroy_key(key_dir, grant.id)
    return len(due)


# --- access, only during a live grant -------------------------------------------------------

def _live(session, ctx, grant_id, key_dir, what):
    """Return the grant if the acting vendor holds it live; audit and refuse otherwise."""
    user = ctx.actor
    grant = get_grant(session, user, grant_id)
    now = utcnow()
    if grant.state == GrantState.APPROVED and grant.ends_at <= now:
        _move(session, ctx, grant, "expire")
        session.commit()
        _destroy_key(key_dir, grant.id)
    if user.role != Role.VENDOR or grant.vendor_id != user.id or not grant.is_live(now):
        record_event(session, ctx, f"access.{what}", object_type="vendor_grant",
                     object_id=grant.id, department_id=grant.department_id, outcome="denied",
                     detail=f"grant is {grant.state}")
        session.commit()
        raise NoLiveGrant()
    return grant


def console_output(session, ctx, grant_id, resource_id, cloud, key_dir, length=100):
    """Return a server's console log for the vendor holding a live grant on its system."""
    grant = _live(session, ctx, grant_id, key_dir, "console")
    server = next((s for s in grant_servers(session, grant) if s.id == resource_id), None)
    if server is None:
        raise NotFound(_l("Server"), resource_id)
    text = cloud.server_console_output(server.openstack_id, length=length)
    record_event(session, ctx, "access.console", object_type="server",
                 object_id=server.openstack_id, department_id=grant.department_id,
                 after={"grant": grant.id, "lines": text.count("\n")})
    session.commit()
    return server, text


def run_ssh(session, ctx, grant_id, command, key_dir):
    """Run one command on the grant's management endpoint; audit command and exit status."""
    from provisioner.ssh import SSHError, run_command
    grant = _live(session, ctx, grant_id, key_dir, "ssh")
    command = (command or "").strip()
    if not command or len(command) > MAX_COMMAND:
        raise ValidationFailed(_l("Enter a command (at most 2000 characters)."), field="command")
    try:
        with open(key_path(key_dir, grant.id)) as f:
            private = f.read()
    except FileNotFoundError:
        raise NoLiveGrant() from None
    where = f"{grant.ssh_username}@{grant.ssh_host}:{grant.ssh_port}"
    try:
        result = run_command(grant.ssh_host, grant.ssh_port, grant.ssh_username, private,
                             grant.ssh_host_key, command)
    except SSHError as exc:
        record_event(session, ctx, "access.ssh", object_type="vendor_grant", object_id=grant.id,
                     department_id=grant.department_id, outcome="failure",
                     after={"command": command, "endpoint": where}, detail=str(exc))
        session.commit()
        raise ValidationFailed(_l("The management host could not be reached: %(error)s",
                                  error=str(exc)), field="command") from None
    record_event(session, ctx, "access.ssh", object_type="vendor_grant", object_id=grant.id,
                 department_id=grant.department_id,
                 outcome="success" if result.exit_status == 0 else "failure",
                 after={"command": command, "endpoint": where, "exit_status": result.exit_status})
    session.commit()
    return result

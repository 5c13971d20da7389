"""A department's own SSH keys for the backup hooks on its hosts (第十八条, issue 16).

Only the department's administrator generates (Ed25519), uploads or revokes a key; the
department's users see the public keys (to install them on their hosts). The private key is kept
in `private_key_sealed` in the OpenSSH format paramiko loads; it is never shown, never returned by
a page or the API and never written to the audit log (DepartmentSshKey.snapshot leaves it out).
"""
import base64
import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from ..database import utcnow
from ..errors import Forbidden, ValidationFailed, WrongState
from ..models.accounts import Role
from ..models.backups import DepartmentSshKey
from ..scoping import get_scoped, scoped
from ..text import _l
from .audit import record_event

MAX_NAME = 120
MAX_PRIVATE_KEY = 16 * 1024
# Who reads keys: the department's users (their own, with the public keys to install) and the roles of
# the policy form, which offers every department's live keys by name and fingerprint (backups.EDITORS).
READERS = (Role.DEPARTMENT, Role.VENDOR, Role.BUREAU, Role.ADMIN)


def _admin(user):
    """Return the department id user administers; Forbidden for anyone else."""
    if user is None or not getattr(user, "is_dept_admin", False):
        raise Forbidden()
    return user.department_id


def _department_user(user):
    if user is None or user.role != Role.DEPARTMENT:
        raise Forbidden()
    return user.department_id


def fingerprint(public_line):
    """Return the SHA256 fingerprint of an OpenSSH public key line, as ssh-keygen -l shows it."""
    blob = base64.b64decode(public_line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def _serialize(key, comment):
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    return private, f"{public} {comment}"


def parse_private_key(text):
    """Return the Ed25519 private key of an uploaded OpenSSH (or PKCS#8 PEM) text; ValidationFailed else."""
    data = (text or "").strip().encode()
    if not data or len(data) > MAX_PRIVATE_KEY:
        raise ValidationFailed(_l("Paste an Ed25519 private key in OpenSSH format, without a passphrase."),
                               field="private_key")
    key = None
    for loader in (serialization.load_ssh_private_key, serialization.load_pem_private_key):
        try:
            key = loader(data, password=None)
            break
        except (ValueError, TypeError):
            continue
    if not isinstance(key, Ed25519PrivateKey):
        raise ValidationFailed(_l("Paste an Ed25519 private key in OpenSSH format, without a passphrase."),
                               field="private_key")
    return key


def _name(session, department_id, name):
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise ValidationFailed(_l("Enter between %(min)d and %(max)d characters.", min=1, max=MAX_NAME), field="name")
    taken = session.scalar(select(DepartmentSshKey.id).where(DepartmentSshKey.department_id == department_id,
                                                             DepartmentSshKey.name == name))
    if taken is not None:
        raise ValidationFailed(_l("A key of this name exists already."), field="name")
    return name


def _store(session, ctx, department_id, name, key, how):
    from ..models.accounts import Department
    code = session.get(Department, department_id).code.lower()
    private, public = _serialize(key, f"govcloud-{code}-{name}"[:80].replace(" ", "-"))
    row = DepartmentSshKey(department_id=department_id, name=name, public_key=public, private_key_sealed=private,
                           fingerprint=fingerprint(public), created_by_id=ctx.actor.id, created_at=utcnow())
    session.add(row)
    session.flush()
    record_event(session, ctx, f"department_ssh_key.{how}", object_type="department_ssh_key", object_id=row.id,
                 department_id=department_id, after=row.snapshot())
    session.commit()
    return row


def generate_key(session, ctx, name):
    """The department's administrator makes a new Ed25519 key of the department; returns the row."""
    department_id = _admin(ctx.actor)
    name = _name(session, department_id, name)
    return _store(session, ctx, department_id, name, Ed25519PrivateKey.generate(), "generate")


def upload_key(session, ctx, name, private_key_text):
    """The department's administrator stores a key it made elsewhere (Ed25519, no passphrase)."""
    department_id = _admin(ctx.actor)
    name = _name(session, department_id, name)
    key = parse_private_key(private_key_text)
    return _store(session, ctx, department_id, name, key, "upload")


def revoke_key(session, ctx, key_id):
    """The department's administrator revokes a key: no policy may choose it and no hook runs with it."""
    department_id = _admin(ctx.actor)
    row = get_scoped(session, DepartmentSshKey, key_id, ctx.actor, kind=_l("SSH key"))
    if row.department_id != department_id:
        raise Forbidden()
    if row.revoked_at is not None:
        raise WrongState(_l("This SSH key has been revoked already."))
    before = row.snapshot()
    row.revoked_at = utcnow()
    row.revoked_by_id = ctx.actor.id
    record_event(session, ctx, "department_ssh_key.revoke", object_type="department_ssh_key", object_id=row.id,
                 department_id=department_id, before=before, after=row.snapshot())
    session.commit()
    return row


def list_keys(session, user, *, live_only=False, department_id=None):
    """Return the keys of user's department (department users), or of department_id (others), newest first."""
    if user is not None and user.role == Role.DEPARTMENT:
        department_id = user.department_id
    if department_id is None:
        return []
    stmt = select(DepartmentSshKey).where(DepartmentSshKey.department_id == department_id)
    if live_only:
        stmt = stmt.where(DepartmentSshKey.revoked_at.is_(None))
    return list(session.scalars(stmt.order_by(DepartmentSshKey.created_at.desc(), DepartmentSshKey.id.desc())))


def department_keys(session, user):
    """Return the keys a department user sees (its own department's); Forbidden for other roles."""
    _department_user(user)
    return list_keys(session, user)


def keys_select(user, department_id=None):
    """The select of the keys user may read, newest first: a department user's own department's
    (revoked ones too); for the policy form's other roles the live keys, of department_id if given."""
    if user is None or user.role not in READERS:
        raise Forbidden()
    stmt = scoped(select(DepartmentSshKey), user)
    if user.role != Role.DEPARTMENT:
        stmt = stmt.where(DepartmentSshKey.revoked_at.is_(None))
        if department_id is not None:
            stmt = stmt.where(DepartmentSshKey.department_id == department_id)
    return stmt.order_by(DepartmentSshKey.created_at.desc(), DepartmentSshKey.id.desc())


def get_key(session, user, key_id):
    """Return a key user may read (another department's is NotFound to a department user)."""
    if user is None or user.role not in READERS:
        raise Forbidden()
    return get_scoped(session, DepartmentSshKey, key_id, user, kind=_l("SSH key"))

"""What the duties services share (issue 20): who acts, uploaded documents, Beijing days, the
notices of an object's owner (a department, or the vendor for the platform's own objects)."""
import calendar
import os
from datetime import date

from ..database import utcnow
from ..errors import Forbidden, NotFound, ValidationFailed
from ..models.accounts import Role
from ..text import _l
from ..workdays import CHINA
from .notifications import notify_department, notify_roles
from .resource_requests import save_document
from .transitions import transition

MAX_TEXT = 4000


def today(now=None):
    """The Beijing day of now."""
    return (now or utcnow()).astimezone(CHINA).date()


def add_months(day, months):
    """day plus months (the last day of a shorter month: 31 Jan + 1 month = 28/29 Feb)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def require_role(user, roles):
    if user is None or user.role not in roles:
        raise Forbidden()


def clean(value, field, *, required=True, limit=MAX_TEXT):
    """Stripped text of at most limit characters (ValidationFailed on field otherwise)."""
    value = str(value or "").strip()
    if required and not value:
        raise ValidationFailed(_l("This field is required."), field=field)
    if len(value) > limit:
        raise ValidationFailed(_l("At most %(n)d characters.", n=limit), field=field)
    return value


def act(session, ctx, machine, obj, action, roles, *, note="", note_required=False, effects=None, after=None):
    """Move obj by action as ctx.actor (one of roles): check, lock, stamp, audit `<machine>.<action>`
    with the note as its reason; 409 when someone else moved it first. The caller commits."""
    require_role(ctx.actor, roles)
    note = clean(note, "note", required=note_required, limit=2000)
    return transition(session, ctx, machine, obj, action, detail=note, effects=effects, after=after)


def store_document(row, filename, stream, upload_dir):
    """Keep an uploaded document (resource_requests.save_document: PDF, Word/Excel, at most 10 MB)
    and describe it on row (a _Document). Returns the path written (to remove it when the
    transaction fails)."""
    saved = save_document(filename, stream, upload_dir)
    row.document_name, row.document_stored, row.document_type = saved.name, saved.stored_name, saved.content_type
    row.document_size, row.document_sha256 = saved.size, saved.sha256
    return saved.path


def document_path(row, upload_dir, kind):
    """The file of row's document, or NotFound."""
    if not row.document_stored:
        raise NotFound(kind, row.id)
    path = os.path.join(upload_dir, row.document_stored)
    if not os.path.exists(path):
        raise NotFound(kind, row.id)
    return path


def remove_quietly(path):
    if path:
        try:
            os.remove(path)
        except OSError:
            pass


def notify_owner(session, settings, department_id, *, subject, body, topic, link, bureau=False):
    """Tell whoever must act: the department's users (and IT lead), or the vendor for the platform's
    own objects (department_id None); the bureau too when bureau. Returns the notification rows."""
    if department_id is not None:
        rows = notify_department(session, settings or {}, department_id, subject=subject, body=body, topic=topic,
                                 link=link)
    else:
        rows = notify_roles(session, settings or {}, (Role.VENDOR,), subject=subject, body=body, topic=topic,
                            link=link)
    if bureau:
        rows += notify_bureau(session, settings, department_id, subject=subject, body=body, topic=topic, link=link)
    return rows


def notify_bureau(session, settings, department_id, *, subject, body, topic, link):
    """Tell the bureau's users (the message filed under the department concerned, if any)."""
    return notify_roles(session, settings or {}, (Role.BUREAU,), subject=subject, body=body, topic=topic, link=link,
                        department_id=department_id)

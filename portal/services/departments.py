"""The departments registry (使用部门): create, edit, contacts, list."""
from ..text import _l
from sqlalchemy import func, or_, select

from ..database import utcnow
from ..errors import Conflict, Forbidden, ValidationFailed
from ..models.accounts import Department, DepartmentLevel, Role
from ..models.grants import GrantState, VendorGrant
from ..models.operations import Incident, IncidentState
from ..pagination import paginate
from ..scoping import get_scoped, scoped
from .audit import record_event

MANAGERS = (Role.BUREAU, Role.ADMIN)


def list_departments(session, user, *, q="", level="", page=1, per_page=20):
    """Return one page of the departments user may see, filtered by text and level."""
    stmt = scoped(select(Department), user)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(Department.name.ilike(like), Department.code.ilike(like)))
    if level:
        stmt = stmt.where(Department.level == level)
    stmt = stmt.order_by(Department.code)
    return paginate(session, stmt, page, per_page)


def contact_department_ids(session, user, now=None):
    """The departments whose contacts (names, phones, e-mails) user may read; None: every one.

    The vendor reads them only where it has work to do (第十八条: no access without the
    department's authorization): a department with an incident not yet resolved, or one that gave
    this vendor user an access grant that is live now.
    """
    if user.role != Role.VENDOR:
        return None
    now = now or utcnow()
    incidents = select(Incident.department_id).where(
        Incident.state.in_((IncidentState.OPEN, IncidentState.ACKNOWLEDGED)), Incident.department_id.is_not(None))
    grants = select(VendorGrant.department_id).where(
        VendorGrant.vendor_id == user.id, VendorGrant.state == GrantState.APPROVED,
        VendorGrant.starts_at <= now, VendorGrant.ends_at > now)
    return set(session.scalars(incidents.union(grants)))


def with_contacts_for(session, user, limit=10):
    """The departments whose contacts user may read, by code (the vendor's home)."""
    stmt = scoped(select(Department), user)
    visible = contact_department_ids(session, user)
    if visible is not None:
        stmt = stmt.where(Department.id.in_(visible))
    return list(session.scalars(stmt.order_by(Department.code).limit(limit)))


def get_department(session, user, department_id):
    """Return a department user may see, or raise NotFound."""
    return get_scoped(session, Department, department_id, user, kind=_l("Department"))


def department_choices(session, user):
    """Return every department user may see, by code (for select boxes)."""
    return list(session.scalars(scoped(select(Department), user).order_by(Department.code)))


def parent_choices(session):
    """Return departments that may be the parent of a sub-unit (city and county level)."""
    return list(session.scalars(select(Department)
                                .where(Department.level != DepartmentLevel.SUB_UNIT)
                                .order_by(Department.code)))


def _check(session, data, department=None):
    level = data.get("level")
    if level not in set(DepartmentLevel):
        raise ValidationFailed(_l("Choose a valid level."), field="level")
    parent_id = data.get("parent_id") or None
    if level == DepartmentLevel.SUB_UNIT:
        if parent_id is None:
            raise ValidationFailed(_l("A sub-unit needs a parent department."), field="parent_id")
        parent = session.get(Department, parent_id)
        if parent is None or parent.level == DepartmentLevel.SUB_UNIT:
            raise ValidationFailed(_l("The parent must be a city or county department."), field="parent_id")
        if department is not None and parent.id == department.id:
            raise ValidationFailed(_l("A department cannot be its own parent."), field="parent_id")
    else:
        parent_id = None
    data["parent_id"] = parent_id
    for column, field in ((Department.code, "code"), (Department.name, "name")):
        stmt = select(Department.id).where(column == data[field])
        if department is not None:
            stmt = stmt.where(Department.id != department.id)
        if session.scalar(stmt) is not None:
            raise Conflict(_l("This value is already used by another department."), field=field)
    if department is not None and level == DepartmentLevel.SUB_UNIT:
        has_children = session.scalar(select(Department.id).where(Department.parent_id == department.id))
        if has_children is not None:
            raise ValidationFailed(_l("A department with sub-units cannot become a sub-unit."), field="level")
    project = data.get("openstack_project_id") or None
    data["openstack_project_id"] = project
    if project is not None:
        stmt = select(Department.id).where(Department.openstack_project_id == project)
        if department is not None:
            stmt = stmt.where(Department.id != department.id)
        if session.scalar(stmt) is not None:
            raise Conflict(_l("This value is already used by another department."),
                           field="openstack_project_id")
    return data


def _require_manager(user):
    if user.role not in MANAGERS:
        raise Forbidden()


def create_department(session, ctx, data):
    """Register a department (bureau or admin)."""
    _require_manager(ctx.actor)
    data = _check(session, dict(data))
    department = Department(**{k: data.get(k) or ("" if k in Department.CONTACT_FIELDS else None)
                               for k in Department.FIELDS})
    department.name, department.code, department.level = data["name"], data["code"], data["level"]
    session.add(department)
    session.flush()
    record_event(session, ctx, "department.create", object_type="department", object_id=department.id,
                 department_id=department.id, after=department.snapshot())
    session.commit()
    return department


def update_department(session, ctx, department_id, data):
    """Change every field of a department (bureau or admin)."""
    _require_manager(ctx.actor)
    department = get_department(session, ctx.actor, department_id)
    data = _check(session, dict(data), department)
    before = department.snapshot()
    for field in Department.FIELDS:
        if field in data:
            value = data[field]
            if field in Department.CONTACT_FIELDS:
                value = value or ""
            setattr(department, field, value)
    record_event(session, ctx, "department.update", object_type="department", object_id=department.id,
                 department_id=department.id, before=before, after=department.snapshot())
    session.commit()
    return department


def update_contacts(session, ctx, department_id, data, on_change=None):
    """Change a department's security officer and contacts (its own users, bureau, admin);
    on_change(session, ctx, department, before, after) runs before the commit with the values in
    clear (issue 20: services.contacts.change_notifier tells the bureau and the vendor)."""
    user = ctx.actor
    department = get_department(session, user, department_id)  # scoped: foreign -> NotFound
    if user.role not in MANAGERS + (Role.DEPARTMENT,):
        raise Forbidden()
    before = department.snapshot()
    clear_before = {f: getattr(department, f) for f in Department.CONTACT_FIELDS}
    for field in Department.CONTACT_FIELDS:
        if field in data:
            setattr(department, field, data[field] or "")
    record_event(session, ctx, "department.contacts_update", object_type="department",
                 object_id=department.id, department_id=department.id,
                 before={f: before[f] for f in Department.CONTACT_FIELDS},
                 after={f: department.snapshot()[f] for f in Department.CONTACT_FIELDS})
    if on_change is not None:
        on_change(session, ctx, department, clear_before,
                  {f: getattr(department, f) for f in Department.CONTACT_FIELDS})
    session.commit()
    return department


def count_departments(session, user):
    """Return how many departments user may see."""
    return session.scalar(select(func.count()).select_from(scoped(select(Department), user).subquery()))

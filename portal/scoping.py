"""The one place where a department user's view of the data is narrowed to its department."""
from sqlalchemy import Select, false, select

from .errors import NotFound
from .models.accounts import Role


def scoped(query, user):
    """Restrict a select (or a model) to the rows user may see.

    Department users see rows whose model's __scope_column__ equals their department; experts only
    rows their model's __expert_clause__(user id) admits (none without one); bureau, vendor, auditor
    and admin see everything. Anonymous users see nothing.
    """
    stmt = query if isinstance(query, Select) else select(query)
    if user is None or not getattr(user, "is_authenticated", False):
        return stmt.where(false())
    if user.role == Role.EXPERT:  # 评审专家: only what is assigned to them (a model's __expert_clause__)
        clause = getattr(stmt.column_descriptions[0]["entity"], "__expert_clause__", None)
        return stmt.where(clause(user.id) if clause is not None else false())
    if user.role != Role.DEPARTMENT:
        return stmt
    model = stmt.column_descriptions[0]["entity"]
    clause = getattr(model, "__scope_clause__", None)
    if clause is not None:  # rows linked to several departments (e.g. maintenance windows)
        return stmt.where(clause(user.department_id))
    column = getattr(model, model.__scope_column__)
    return stmt.where(column == user.department_id)


def get_scoped(session, model, ident, user, kind=None):
    """Return the object with id ident if user may see it, else raise NotFound."""
    obj = session.scalars(scoped(select(model).where(model.id == ident), user)).one_or_none()
    if obj is None:
        raise NotFound(kind or model.__name__, ident)
    return obj

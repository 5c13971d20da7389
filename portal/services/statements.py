"""费用结算单: rate a department's month, review, freeze; re-rating after review makes a new version.

States are data (STATEMENTS, a StateMachine); `transition` moves a statement through
services.transitions (validated, one winner, audited) and adds what a review or a freeze records. A frozen statement is immutable: the services refuse, and
the models' flush guard (models/billing.py) refuses any other code path too.
"""
import hashlib
import json
from datetime import timezone
from decimal import Decimal

from sqlalchemy import func, select

from ..models.billing import STATEMENT_STATE_LABELS, Rate, Statement, StatementLine, StatementState
from ..database import utcnow
from ..errors import Forbidden, Immutable, ValidationFailed
from ..models.accounts import Department, Role
from ..scoping import get_scoped, scoped
from ..statemachine import StateMachine
from ..text import _l
from . import metering
from .audit import record_event
from .rating import PricePoint, Usage, month_bounds, rate_usage
from .transitions import transition as move

S = StatementState
TRANSITIONS = {
    (S.DRAFT, "review"): S.REVIEWED,
    (S.REVIEWED, "reopen"): S.DRAFT,
    (S.REVIEWED, "freeze"): S.FROZEN,
}
STATEMENTS = StateMachine("statement", "statement", TRANSITIONS, STATEMENT_STATE_LABELS, kind=_l("statement"), snapshots=True)
TERMINAL = STATEMENTS.terminal()
RATERS = (Role.BUREAU, Role.VENDOR, Role.ADMIN)  # who may (re-)rate a month
REVIEWERS = (Role.BUREAU,)


def _require(user, roles):
    if user is None or user.role not in roles:
        raise Forbidden()


def _utc(value):
    return value.astimezone(timezone.utc).isoformat()


def _dec(value, places):
    return str(Decimal(value).quantize(Decimal(places)))


def content_hash(statement):
    """Return the SHA-256 of the statement's canonical content (header and lines).

    Times in UTC and decimals at their column's scale, so the hash is the same before and after
    a round trip through either database.
    """
    doc = {
        "department_id": statement.department_id, "year": statement.year, "month": statement.month,
        "version": statement.version, "total": _dec(statement.total, "0.01"),
        "lines": [{"system_id": line.system_id, "system_name": line.system_name,
                   "resource_type": line.resource_type, "period_start": _utc(line.period_start),
                   "period_end": _utc(line.period_end), "rate_id": line.rate_id,
                   "unit_price": _dec(line.unit_price, "0.000001"), "unit_seconds": line.unit_seconds,
                   "quantity_hours": _dec(line.quantity_hours, "0.0001"), "amount": _dec(line.amount, "0.01")}
                  for line in sorted(statement.lines, key=lambda l: l.position)],
    }
    canonical = json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def prices(session):
    """Return every rate as PricePoint (the whole 计费标准 history)."""
    return [PricePoint(r.id, r.resource_type, Decimal(r.unit_price), r.effective_from)
            for r in session.scalars(select(Rate))]


def compute(session, department_id, year, month):
    """Rate one department's month from the stored usage; return rating.Rated (nothing stored)."""
    start, end = month_bounds(year, month)
    usages = [Usage(r.system_id, r.system_name, r.resource_type, r.quantity, r.interval_start, r.interval_end)
              for r in metering.usage_between(session, department_id, start, end)]
    return rate_usage(usages, prices(session), start, end)


def latest(session, department_id, year, month):
    return session.scalars(select(Statement).where(
        Statement.department_id == department_id, Statement.year == year, Statement.month == month)
        .order_by(Statement.version.desc()).limit(1)).first()


def _fill(statement, rated):
    statement.lines = [StatementLine(position=i, system_id=l.system_id, system_name=l.system_name,
                                     resource_type=l.resource_type, period_start=l.period_start,
                                     period_end=l.period_end, rate_id=l.rate_id, unit_price=l.unit_price,
                                     unit_seconds=l.unit_seconds, quantity_hours=l.quantity_hours,
                                     amount=l.amount)
                       for i, l in enumerate(rated.lines, start=1)]
    statement.total = rated.total
    statement.note = ("; ".join(f"no rate for {t}" for t in rated.unpriced))[:500]


def rate_month(session, ctx, department_id, year, month, *, now=None):
    """Rate a department's month: fill the draft, or start a new version beside a reviewed/frozen one.

    Returns the statement holding the new figures. The caller commits.
    """
    user = ctx.actor
    if user is not None:
        _require(user, RATERS)
    if not 1 <= month <= 12:
        raise ValidationFailed(_l("Month must be between 1 and 12."), field="month")
    department = session.get(Department, department_id)
    if department is None:
        raise ValidationFailed(_l("Unknown department."), field="department_id")
    now = now or utcnow()
    rated = compute(session, department_id, year, month)
    start, end = month_bounds(year, month)
    gaps = metering.gap_seconds(session, start, min(end, max(start, now)))
    current = latest(session, department_id, year, month)
    if current is not None and current.state == S.DRAFT:
        before = current.snapshot()
        _fill(current, rated)
        current.rated_at = now
        current.gap_seconds = gaps
        action, statement = "statement.rerate", current
    else:
        version = (current.version + 1) if current is not None else 1
        statement = Statement(department_id=department_id, year=year, month=month, version=version,
                              state=S.DRAFT, rated_at=now, gap_seconds=gaps)
        _fill(statement, rated)
        session.add(statement)
        before = current.snapshot() if current is not None else None
        action = "statement.rate" if current is None else "statement.new_version"
    session.flush()
    record_event(session, ctx, action, object_type="statement", object_id=statement.id,
                 department_id=department_id, before=before, after=statement.snapshot(),
                 actor=user)
    return statement


def transition(session, ctx, statement, action):
    """Move statement by action: validate, stamp, hash on freeze, audit (same transaction)."""
    _require(ctx.actor, REVIEWERS)
    if statement.state in TERMINAL:
        raise Immutable("费用结算单", statement.id)

    def recorded(statement, now):
        if action == "review":
            statement.reviewed_by, statement.reviewed_at = ctx.actor.username, now
        elif action == "reopen":
            statement.reviewed_by, statement.reviewed_at = "", None
        elif action == "freeze":
            statement.frozen_by, statement.frozen_at = ctx.actor.username, now
            with session.no_autoflush:  # loading the lines must not flush the frozen state before the hash is set
                statement.content_hash = content_hash(statement)
    move(session, ctx, STATEMENTS, statement, action, effects=recorded)
    return statement


def get_statement(session, user, statement_id):
    return get_scoped(session, Statement, statement_id, user, kind="费用结算单")


def act(session, ctx, statement_id, action):
    """Apply a review action to the statement with id statement_id as ctx.actor (the caller commits)."""
    statement = get_statement(session, ctx.actor, statement_id)
    return transition(session, ctx, statement, action)


def verify(statement):
    """Return True when a frozen statement's content still matches its recorded hash."""
    return statement.state == S.FROZEN and content_hash(statement) == statement.content_hash


def statements_query(user, *, year=None, month=None, state="", department_id=None):
    """The select of the statements user may see (departments: their own), newest month first."""
    stmt = scoped(select(Statement), user)
    if year:
        stmt = stmt.where(Statement.year == year)
    if month:
        stmt = stmt.where(Statement.month == month)
    if state:
        stmt = stmt.where(Statement.state == state)
    if department_id is not None:
        stmt = stmt.where(Statement.department_id == department_id)
    return stmt.order_by(Statement.year.desc(), Statement.month.desc(), Statement.department_id,
                         Statement.version.desc(), Statement.id.desc())


def list_statements(session, user, *, year=None, month=None):
    return list(session.scalars(statements_query(user, year=year, month=month)))


def year_totals(session, user, year):
    """Return {department id: total of the newest version of each month} for a year."""
    newest = (select(Statement.department_id, Statement.month, func.max(Statement.version).label("v"))
              .where(Statement.year == year).group_by(Statement.department_id, Statement.month).subquery())
    stmt = scoped(select(Statement), user).join(
        newest, (Statement.department_id == newest.c.department_id) & (Statement.month == newest.c.month)
        & (Statement.version == newest.c.v)).where(Statement.year == year)
    out = {}
    for statement in session.scalars(stmt):
        out.setdefault(statement.department_id, {})[statement.month] = statement.total
    return out


def add_rate(session, ctx, resource_type, unit_price, effective_from, note=""):
    """Add a price to the 计费标准 (never an edit of an old one); the caller commits."""
    from .rating import RESOURCE_UNITS, base_type
    _require(ctx.actor, (Role.BUREAU,))
    if base_type(resource_type) not in RESOURCE_UNITS:
        raise ValidationFailed(_l("Unknown resource type."), field="resource_type")
    if not isinstance(unit_price, Decimal) or unit_price < 0:
        raise ValidationFailed(_l("The price must be a non-negative amount."), field="unit_price")
    if effective_from.tzinfo is None:
        raise ValidationFailed(_l("The effective time needs a time zone."), field="effective_from")
    effective_from = effective_from.replace(microsecond=0)
    exists = session.scalar(select(Rate.id).where(Rate.resource_type == resource_type,
                                                  Rate.effective_from == effective_from))
    if exists:
        raise ValidationFailed(_l("A price for this resource type already takes effect at that time."),
                               field="effective_from")
    rate = Rate(resource_type=resource_type, unit_price=unit_price, effective_from=effective_from, note=note,
                created_by=ctx.actor.username if ctx.actor is not None else "")
    session.add(rate)
    session.flush()
    record_event(session, ctx, "rate.create", object_type="rate", object_id=rate.id,
                 after={"resource_type": resource_type, "unit_price": str(unit_price),
                        "effective_from": effective_from.isoformat()})
    return rate


def list_rates(session):
    return list(session.scalars(select(Rate).order_by(Rate.resource_type, Rate.effective_from)))


def estimate_for_spec(session, spec, flavors, at=None):
    """Estimate a request spec's monthly fee at the current 计费标准 (for the request form)."""
    from .rating import estimate_monthly_cost
    return estimate_monthly_cost(spec, flavors, prices(session), at or utcnow())

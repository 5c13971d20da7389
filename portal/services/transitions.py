"""The one function that moves a stateful object: validate, claim, stamp, audit (one transaction).

Two people acting on one object at once (two reviewers, a reviewer and the department): the
stored state is read under a row lock and compared with the one the action started from, so
exactly one moves it and the other gets TransitionNotAllowed (409) with the state it is in now.
"""
from sqlalchemy import inspect, select

from ..database import utcnow
from ..statemachine import TransitionNotAllowed
from .audit import record_event


def _snapshot(machine, obj):
    return obj.snapshot() if machine.snapshots else {"state": obj.state}


def stored_state(session, obj):
    """Return obj's state as committed, locking its row until this transaction ends (PostgreSQL:
    a second mover waits here for the first, then reads the state the first left)."""
    ident = inspect(obj)
    model = type(obj)
    return session.scalar(select(model.state).where(ident.mapper.primary_key[0] == ident.identity[0])
                          .with_for_update())


def lock(session, obj):
    """Reload obj's row under a row lock held until this transaction ends (PostgreSQL: a second
    editor waits here, then sees what the first left). Returns obj, refreshed."""
    ident = inspect(obj)
    model = type(obj)
    return session.scalar(select(model).where(ident.mapper.primary_key[0] == ident.identity[0])
                          .with_for_update().execution_options(populate_existing=True))


def transition(session, ctx, machine, obj, action, *, detail="", after=None, actor=None, department_id=None,
               effects=None, now=None, outcome="success"):
    """Move obj by action in machine and write the audit event `<machine.name>.<action>`; effects(obj, now)
    sets what else the move changes, before the event records the object's new state. Returns the new state."""
    now = now or utcnow()
    before_state = obj.state
    target = machine.next_state(before_state, action)
    before = _snapshot(machine, obj)
    if inspect(obj).persistent:
        current = stored_state(session, obj)
        if current != before_state:  # someone else moved it since it was read
            raise TransitionNotAllowed(machine, current, action)
    machine.apply(obj, action, now)
    if effects is not None:
        effects(obj, now)
    session.flush()
    if department_id is None:
        department_id = getattr(obj, "department_id", None)
    record_event(session, ctx, f"{machine.name}.{action}", object_type=machine.object_type, object_id=obj.id,
                 department_id=department_id, before=before, after={**_snapshot(machine, obj), **(after or {})},
                 detail=detail, actor=actor, outcome=outcome)
    return target

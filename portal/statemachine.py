"""State machines as data: every stateful object's transitions are a table `(state, action) -> state`.

A StateMachine validates and applies a transition (state, and the time stamps its target sets);
`portal.services.transitions.transition` is the one function that moves a persisted object: it
also makes sure that of two people acting at once only one moves it, and writes the audit event.
Pure logic: no session, no audit here.
"""
from dataclasses import dataclass, field

from .errors import ValidationFailed
from .text import _l


class TransitionNotAllowed(ValidationFailed):
    """The object is not (any more) in a state where this action applies."""

    http_status = 409

    def __init__(self, machine, state, action):
        self.state = state
        self.action = action
        label = machine.labels.get(state, state) if machine is not None else state
        super().__init__(_l("This action is not possible while the %(kind)s is %(state)s.",
                            kind=machine.kind if machine is not None else "", state=label))


@dataclass(frozen=True)
class StateMachine:
    """The states of one kind of object and the actions that move it."""

    name: str                       # audit actions are "<name>.<action>"
    object_type: str                # the audit log's object type
    transitions: dict               # (state, action) -> state
    labels: dict = field(default_factory=dict)  # state -> display label (for the error message)
    kind: object = ""               # what the object is called in a message ("request", 申请)
    stamps: dict = field(default_factory=dict)  # target state -> attribute set to the time of the move
    changed_at: str = ""            # attribute set to the time of every move
    snapshots: bool = False         # audit the object's snapshot() before and after, not only its state

    def next_state(self, state, action):
        """Return the state action leads to from state, or raise TransitionNotAllowed (409)."""
        target = self.transitions.get((state, action))
        if target is None:
            raise TransitionNotAllowed(self, state, action)
        return target

    def can(self, state, action):
        return (state, action) in self.transitions

    def allowed_actions(self, state):
        """Return the actions possible from state."""
        return {action for (src, action) in self.transitions if src == state}

    def terminal(self):
        """States no action leaves."""
        sources = {src for src, _action in self.transitions}
        return {dst for dst in self.transitions.values() if dst not in sources}

    def apply(self, obj, action, now):
        """Move obj (in memory) by action: check, set the state and the target's stamp; return (before, after)."""
        before = obj.state
        target = self.next_state(before, action)
        obj.state = target
        for stamp in (self.stamps.get(target), self.changed_at):
            if stamp:
                setattr(obj, stamp, now)
        return before, target

"""Issue 14: one state-machine helper; every machine is a table the code reads."""
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from portal.models.backups import EXTRACTIONS, RESTORES, RUNS
from portal.models.grants import GRANTS
from portal.services.incidents import INCIDENTS
from portal.services.maintenance import WINDOWS
from portal.services.statements import STATEMENTS
from portal.statemachine import StateMachine, TransitionNotAllowed
from portal.workflow import JOBS, REQUESTS

MACHINES = [REQUESTS, JOBS, WINDOWS, INCIDENTS, GRANTS, STATEMENTS, RUNS, RESTORES, EXTRACTIONS]
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)


def test_apply_validates_and_stamps():
    machine = StateMachine("thing", "thing", {("a", "go"): "b", ("b", "stop"): "c"}, {"a": "A", "c": "C"},
                           kind="thing", stamps={"c": "stopped_at"}, changed_at="changed_at")
    obj = SimpleNamespace(state="a", stopped_at=None, changed_at=None)
    assert machine.apply(obj, "go", NOW) == ("a", "b") and obj.changed_at == NOW and obj.stopped_at is None
    assert machine.apply(obj, "stop", NOW) == ("b", "c") and obj.stopped_at == NOW
    with pytest.raises(TransitionNotAllowed) as caught:
        machine.apply(obj, "go", NOW)
    assert caught.value.http_status == 409 and obj.state == "c" and "C" in str(caught.value.message)
    assert machine.terminal() == {"c"} and machine.allowed_actions("a") == {"go"} and not machine.can("c", "go")


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.name)
def test_every_machine_is_data_with_labels_for_every_state(machine):
    states = {s for s, _a in machine.transitions} | set(machine.transitions.values())
    assert states <= set(machine.labels), f"{machine.name}: states without a label {states - set(machine.labels)}"
    assert machine.terminal(), f"{machine.name} never ends"
    for target, attribute in machine.stamps.items():
        assert target in states and attribute


def test_request_stamps_follow_the_table():
    request = SimpleNamespace(state="draft", submitted_at=None, provisioned_at=None, state_changed_at=None)
    REQUESTS.apply(request, "submit", NOW)
    assert request.state == "submitted" and request.submitted_at == NOW == request.state_changed_at

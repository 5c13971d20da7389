"""Provisioning steps in words (issue 17): every step the provisioner takes, read from its code, has
a label; the plan of a request places the job's current step on the progress bar."""
import ast
import pathlib

import pytest

from portal.steps import (KINDS, ROLLBACK_PLAN, STEP_LABELS, planned_steps, progress, step_code, step_kind,
                          step_label)

PROVISIONER = pathlib.Path(__file__).resolve().parents[2] / "provisioner"
SYSTEM_ID = 8


def _sample(node, keys):
    """A step name the expression `node` can produce: literals kept, `key` read from its naming.key()
    assignment, any other value an item name."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id in keys:
        return keys[node.id]
    if isinstance(node, ast.JoinedStr):
        return "".join(_sample(part.value if isinstance(part, ast.FormattedValue) else part, keys)
                       for part in node.values)
    return "web-1"


def _naming_key(call):
    """`naming.key("server", self.system_id, instance["name"])` -> server:R8:web-1."""
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "key"
            and isinstance(call.func.value, ast.Name) and call.func.value.id == "naming"):
        return None
    kind = call.args[0].value
    return f"{kind}:R{SYSTEM_ID}" if len(call.args) == 2 else f"{kind}:R{SYSTEM_ID}:web-1"


def provisioner_steps():
    """Every step name the provisioner's code passes to self.step(...), one sample per call."""
    samples = []
    for path in sorted(PROVISIONER.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            keys = {}
            for node in ast.walk(function):
                if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                    value = _naming_key(node.value)
                    if value is not None:
                        keys[node.targets[0].id] = value
            for node in ast.walk(function):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "step"
                        and isinstance(node.func.value, ast.Name) and node.func.value.id == "self"):
                    samples.append((f"{path.name}:{node.lineno}", _sample(node.args[0], keys)))
    return samples


STEPS = provisioner_steps()


def test_the_provisioners_steps_are_found():
    codes = {step_code(name) for _, name in STEPS}
    # the runner's and the rollback's steps: a change that hides them from this reader fails here
    assert len(STEPS) >= 20 and len(codes) >= 18, STEPS


@pytest.mark.parametrize("where,name", STEPS, ids=[f"{w} {n}" for w, n in STEPS])
def test_every_step_the_provisioner_takes_has_a_label(where, name):
    code = step_code(name)
    assert code in STEP_LABELS, f"{where}: the step {name!r} has no label in portal/steps.py STEP_LABELS"
    assert step_label(name) != name
    assert step_kind(name) in KINDS and step_kind(name) != "other"


@pytest.mark.parametrize("name,label", [
    ("server:R8:web-1:wait", "Waiting for server web-1 to start"),
    ("volume:R8:data:attach", "Attaching volume data"),
    ("volume:R8:web-1-d1:extend", "Preparing volume web-1-d1"),
    ("sg:R8:rules", "Setting the security group rules"),
    ("fip:R8:2", "Assigning floating IP 2"),
    ("delete:server:R8:web-2", "Deleting server web-2"),
    ("delete:router", "Deleting router"),
    ("rollback:volume", "Rolling back: deleting volume"),
    ("rollback:plan", "Rolling back: finding what the request created"),
    ("quotas:final", "Setting the quotas"),
])
def test_labels_name_what_the_step_works_on(name, label):
    assert step_label(name) == label


@pytest.mark.parametrize("name", ["dns:R8", "server:R8:web-1:snapshot", "server:R8", "something-new", ""])
def test_a_step_of_no_known_shape_has_no_label(name):
    assert step_code(name) is None and step_kind(name) == "other" and step_label(name) == name


SPEC = {"servers": [{"name": "web", "flavor": "m1.tiny", "image": "cirros", "count": 2, "data_volumes": [1]}],
        "volumes": [{"name": "data", "size_gb": 2, "attach_to": ""}], "rules": [],
        "network": {"cidr": ""}, "floating_ips": 1, "ssh_public_key": ""}


def test_the_plan_follows_the_runners_order():
    plan = planned_steps(SPEC, SYSTEM_ID)
    assert plan == ["project", "quotas:raise", "router", "network:default", "subnet:default",
                    "router_interface:default", "sg:R8", "sg:R8:rules", "server:R8:web-1", "server:R8:web-2",
                    "volume:R8:web-1-d1", "volume:R8:web-2-d1", "volume:R8:data", "server:R8:web-1:wait",
                    "server:R8:web-2:wait", "volume:R8:web-1-d1:extend", "volume:R8:web-1-d1:attach",
                    "volume:R8:web-2-d1:extend", "volume:R8:web-2-d1:attach", "volume:R8:data:extend",
                    "fip:R8:1", "receipt"]
    assert all(step_code(step) in STEP_LABELS for step in plan + list(ROLLBACK_PLAN))
    assert planned_steps({}, SYSTEM_ID) == ["project", "quotas:raise", "receipt"]  # a decommission


def test_progress_moves_with_the_step_and_ends_at_100():
    plan = planned_steps(SPEC, SYSTEM_ID)
    seen = [progress(plan, step, finished=False)[2] for step in
            ("", "project", "sg:R8", "server:R8:web-2:wait", "fip:R8:1", "receipt")]
    assert seen == sorted(seen) and seen[0] == 0 and seen[-1] < 100
    assert progress(plan, "receipt", finished=True) == (len(plan), len(plan), 100)
    # steps the plan cannot know are placed by the runner's order
    assert progress(plan, "delete:server:R8:web-3", finished=False)[0] == plan.index("server:R8:web-1")
    assert progress(plan, "server:R8:web-2:resize", finished=False)[0] == plan.index("server:R8:web-2:wait")
    assert progress(plan, "quotas:final", finished=False)[0] == plan.index("receipt")
    assert progress(list(ROLLBACK_PLAN), "rollback:volume", finished=False)[0] == 1


def test_a_decommission_plans_its_deletes_in_the_runners_order():
    deleting = ["fip:R8:1", "volume:R8:data", "server:R8:web-1", "sg:R8"]
    plan = planned_steps({}, SYSTEM_ID, deleting)
    assert plan == ["project", "quotas:raise", "delete:fip:R8:1", "delete:volume:R8:data", "delete:server:R8:web-1",
                    "delete:sg:R8", "receipt"]
    assert [step_label(s) for s in plan[2:-1]] == ["Deleting floating IP 1", "Deleting volume data",
                                                  "Deleting server web-1", "Deleting security group"]
    assert progress(plan, "delete:server:R8:web-1", finished=False)[2] == int(100 * 4 / 7)
    # the department's network goes last, with the final quotas: placed before the receipt
    assert progress(plan, "delete:router", finished=False)[0] == plan.index("receipt")

"""The provisioner's steps for people and for metrics. Pure logic.

JobRunner.step() names each step by what it works on: `project`, `quotas:raise`, `network:default`,
`sg:R8:rules`, `server:R8:web-1:wait`, `volume:R8:data:attach`, `delete:server:R8:web-2`,
`rollback:volume`. `step_code` reads the name back into a code of a small fixed set (None when the
name is of no known shape), `step_label` into words (云主机 web-1 启动中…), `step_kind` into the bounded
label of the step-timing metrics, and `progress` places a job's current step in the plan of its
request (the bar on the request's page).
"""
from .specs import expand, normalize_spec
from .text import _l

# the parts a step name has before its optional suffix: `server:R8:web-1` then `:wait`
_BASE_PARTS = {"project": 1, "router": 1, "receipt": 1, "quotas": 2, "network": 2, "subnet": 2,
               "router_interface": 2, "sg": 2, "keypair": 2, "server": 3, "volume": 3, "fip": 3}
_SUFFIXES = {("sg", "rules"): "sg_rules", ("server", "wait"): "server_wait", ("server", "resize"): "server_resize",
             ("volume", "extend"): "volume_extend", ("volume", "attach"): "volume_attach"}
_ROLLBACK_STAGES = {"plan": "rollback_plan", "quotas": "rollback_quotas", "finish": "rollback_finish"}

# step code -> words (%(item)s: the server's or volume's name, or what is deleted)
STEP_LABELS = {
    "project": _l("Preparing the department's cloud project"),
    "quotas": _l("Setting the quotas"),
    "router": _l("Creating the router"),
    "network": _l("Creating the network"),
    "subnet": _l("Creating the subnet"),
    "router_interface": _l("Connecting the network to the router"),
    "sg": _l("Creating the security group"),
    "sg_rules": _l("Setting the security group rules"),
    "keypair": _l("Importing the key pair"),
    "server": _l("Creating server %(item)s"),
    "server_wait": _l("Waiting for server %(item)s to start"),
    "server_resize": _l("Changing the flavor of server %(item)s"),
    "volume": _l("Creating volume %(item)s"),
    "volume_extend": _l("Preparing volume %(item)s"),
    "volume_attach": _l("Attaching volume %(item)s"),
    "fip": _l("Assigning floating IP %(item)s"),
    "delete": _l("Deleting %(item)s"),
    "receipt": _l("Issuing the delivery receipt"),
    "rollback_plan": _l("Rolling back: finding what the request created"),
    "rollback": _l("Rolling back: deleting %(item)s"),
    "rollback_quotas": _l("Rolling back: setting the quotas"),
    "rollback_finish": _l("Rolling back: closing the request"),
}
# what a deleted thing is, by the first part of its key or by its resource kind
THING_LABELS = {
    "server": _l("server"), "volume": _l("volume"), "fip": _l("floating IP"), "floating_ip": _l("floating IP"),
    "sg": _l("security group"), "security_group": _l("security group"), "keypair": _l("key pair"),
    "network": _l("network"), "subnet": _l("subnet"), "router": _l("router"),
    "router_interface": _l("router interface"),
}
# the bounded kinds of the step-timing metrics (provisioner/timings.py)
KINDS = ("project", "quotas", "router", "router_interface", "network", "subnet", "sg", "sg_rules", "keypair",
         "server", "server_wait", "server_resize", "volume", "volume_extend", "volume_attach", "fip", "delete",
         "receipt", "rollback", "other")
# the order the runner takes its steps in (a step outside the plan is placed by it)
_ORDER = ("project", "quotas", "router", "network", "subnet", "router_interface", "sg", "sg_rules", "keypair",
          "delete", "server", "volume", "server_wait", "server_resize", "volume_extend", "volume_attach", "fip",
          "receipt", "rollback_plan", "rollback", "rollback_quotas", "rollback_finish")


def step_code(name):
    """Return the code of a step name (`server:R12:web-1:wait` -> server_wait), None if unknown."""
    parts = (name or "").split(":")
    first = parts[0]
    if first == "delete" and len(parts) > 1:
        return "delete"
    if first == "rollback" and len(parts) == 2:
        return _ROLLBACK_STAGES.get(parts[1], "rollback")
    base = _BASE_PARTS.get(first)
    if base is None or len(parts) < base:
        return None
    if len(parts) == base:
        return first
    if len(parts) == base + 1:
        return _SUFFIXES.get((first, parts[-1]))
    return None


def step_kind(name):
    """Return the metrics kind of a step name: `server:R12:web-1:wait` -> server_wait, `quotas:raise` -> quotas."""
    code = step_code(name)
    if code is None:
        return "other"
    return "rollback" if code.startswith("rollback") else code


def _thing(key):
    """`server:R8:web-2` -> 云主机 web-2; `router` -> 路由器; a resource kind alone -> its words."""
    parts = key.split(":")
    words = THING_LABELS.get(parts[0])
    if words is None:
        return key
    item = parts[2] if parts[0] in ("server", "volume", "fip") and len(parts) > 2 else ""
    return f"{words} {item}".strip()


def step_label(name):
    """Return the words of a step for people (in the page's language), or the name itself when unknown."""
    code = step_code(name)
    if code is None:
        return name or ""
    parts = name.split(":")
    if code == "delete":
        item = _thing(name.split(":", 1)[1])
    elif code == "rollback":
        item = _thing(parts[1])
    elif code == "fip":
        item = parts[2]
    else:
        item = parts[2] if len(parts) > 2 and _BASE_PARTS.get(parts[0]) == 3 else ""
    text = str(STEP_LABELS[code])
    return text % {"item": item} if "%(item)s" in STEP_LABELS[code].msgid else text


def _key(kind, system_id, item=None):
    """A resource key as provisioner/naming.py's key() writes it."""
    return f"{kind}:R{system_id}" if item is None else f"{kind}:R{system_id}:{item}"


# the order the runner deletes a system's resources in (provisioner/runner.py remove_unwanted)
DELETE_ORDER = ("floating_ip", "volume", "server", "keypair", "security_group", "subnet", "network")


def planned_steps(spec, system_id, deleting=()):
    """Return the step names the runner takes, in order, to build spec for a system; `deleting` the
    keys of the resources it removes, in DELETE_ORDER (the department's network, removed with its
    last system, and the final quotas are not known beforehand: they are placed by their order)."""
    spec = normalize_spec(spec)
    instances, volumes = expand(spec)
    plan = ["project", "quotas:raise"]
    deletes = [f"delete:{key}" for key in deleting]
    if not (instances or volumes):  # a decommission: only deletes
        return plan + deletes + ["receipt"]
    suffix = f"R{system_id}" if spec["network"]["cidr"] else "default"
    plan += ["router", f"network:{suffix}", f"subnet:{suffix}", f"router_interface:{suffix}",
             _key("sg", system_id), _key("sg", system_id) + ":rules"]
    if spec["ssh_public_key"]:
        plan.append(_key("keypair", system_id))
    plan += deletes
    plan += [_key("server", system_id, i["name"]) for i in instances]
    plan += [_key("volume", system_id, v["name"]) for v in volumes]
    plan += [_key("server", system_id, i["name"]) + ":wait" for i in instances]
    for v in volumes:
        plan.append(_key("volume", system_id, v["name"]) + ":extend")
        if v["attach_to"] in {i["name"] for i in instances}:
            plan.append(_key("volume", system_id, v["name"]) + ":attach")
    plan += [_key("fip", system_id, n) for n in range(1, spec["floating_ips"] + 1)]
    return plan + ["receipt"]


ROLLBACK_PLAN = ("rollback:plan", "rollback:server", "rollback:quotas", "rollback:finish")


def _position(plan, name):
    """Return the index of the step in the plan, or of the first planned step it comes before."""
    if name in plan:
        return plan.index(name)
    code = step_code(name) or ""
    if code == "server_resize" and name.rsplit(":", 1)[0] + ":wait" in plan:  # within the server's wait
        return plan.index(name.rsplit(":", 1)[0] + ":wait")
    planned_deletes = [i for i, planned in enumerate(plan) if planned.startswith("delete:")]
    if code == "delete" and planned_deletes:  # the department's network, after the system's resources
        return planned_deletes[-1] + 1
    if name == "quotas:final":
        code = "receipt"
    if code not in _ORDER:
        return 0
    rank = _ORDER.index(code)
    for i, planned in enumerate(plan):
        if _ORDER.index(step_code(planned)) >= rank:
            return i
    return len(plan) - 1


def progress(plan, current_step, *, finished):
    """Return (steps done, steps in all, percent) of a job at current_step of plan."""
    total = len(plan)
    if finished:
        return total, total, 100
    done = _position(plan, current_step) if current_step else 0
    return done, total, int(100 * done / total) if total else 0

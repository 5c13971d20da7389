"""The names govcloud gives cloud resources, in one place.

A resource has a key in its department (`router`, `network:default`, `server:R<system id>:web-1`)
and an OpenStack name made of the prefix, the department code and the key
(`gc-edu-server-R12-web-1`): a step finds what it created by this name even when its id was never
stored, and the reconciler and the rollback read the system back out of it.
"""
import re

from portal.settings import DEFAULTS
from portal.specs import expand, normalize_spec

DEFAULT_PREFIX = DEFAULTS["CLOUD_NAME_PREFIX"]
# system-level keys: short kind in the key -> resource kind
SYSTEM_KINDS = {"sg": "security_group", "network": "network", "subnet": "subnet", "keypair": "keypair",
                "server": "server", "volume": "volume", "fip": "floating_ip"}
DEPARTMENT_KEYS = {"router": "router", "network:default": "network", "subnet:default": "subnet"}
SYSTEM_TAG = re.compile(r"-R(\d+)(?:-|$)")


def key(kind, system_id, item=None):
    """The key of a system's resource: `sg:R12`, `server:R12:web-1`, `fip:R12:1`."""
    return f"{kind}:R{system_id}" if item is None else f"{kind}:R{system_id}:{item}"


def department_start(prefix, department):
    """The start of every resource name of a department: `gc-edu-`."""
    return f"{prefix}-{department.code.lower()}-"


def resource_name(prefix, department, resource_key):
    """Return the OpenStack name for a resource key: prefix, department code and the key."""
    return department_start(prefix, department) + resource_key.replace(":", "-")


def names_system(name, prefix, department, system_id):
    """True when an OpenStack name is one of a system's names (any key of R<id>)."""
    start = department_start(prefix, department)
    tag = f"-R{system_id}"
    rest = "-" + name[len(start):]
    return name.startswith(start) and (rest.endswith(tag) or f"{tag}-" in rest)


def system_named(name, prefix, department):
    """Return the system id a department's resource name carries (`-R<id>`), or None."""
    match = SYSTEM_TAG.search(name[len(department_start(prefix, department)) - 1:])
    return int(match.group(1)) if match else None


def spec_keys(spec, system_id):
    """Return {key: kind} of the resources the runner gives a system for spec (without the
    department's router and default network)."""
    spec = normalize_spec(spec)
    instances, volumes = expand(spec)
    if not (instances or volumes):
        return {}
    keys = {key("sg", system_id): "security_group"}
    if spec["network"]["cidr"]:
        keys[key("network", system_id)] = "network"
        keys[key("subnet", system_id)] = "subnet"
    if spec["ssh_public_key"]:
        keys[key("keypair", system_id)] = "keypair"
    keys.update({key("server", system_id, i["name"]): "server" for i in instances})
    keys.update({key("volume", system_id, v["name"]): "volume" for v in volumes})
    keys.update({key("fip", system_id, n): "floating_ip" for n in range(1, spec["floating_ips"] + 1)})
    return keys

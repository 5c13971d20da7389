"""The resources a request asks for (its spec): normalize, validate, expand, size, diff. Pure logic."""
import ipaddress
import re
from dataclasses import dataclass, fields

from .errors import ValidationFailed
from .text import _l

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
SSH_KEY_RE = re.compile(r"^(ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]{20,}( .*)?$")
PROTOCOLS = ("tcp", "udp", "icmp")
HARD_INSTANCES = 10_000  # never expanded beyond this, whatever a stored spec says
MAX_BANDWIDTH_MBPS = 10_000  # 附件1 带宽: the system's public bandwidth, recorded (and shown on review and receipt)


@dataclass(frozen=True)
class Limits:
    """The bounds settings put on a request (REQUEST_MAX_* in portal/settings.py)."""

    servers: int = 50         # servers of one request, every group's count together
    count: int = 20           # servers of one group
    volume_gb: int = 2000     # GB of one volume
    total_gb: int = 20000     # GB of every volume of one request
    server_vcpus: int = 32    # vCPUs of one server's flavor
    server_ram_mb: int = 131072

    @classmethod
    def from_config(cls, config):
        return cls(**{f.name: int(config.get(f"REQUEST_MAX_{f.name.upper()}", f.default)) for f in fields(cls)})


EMPTY_SPEC = {"servers": [], "volumes": [], "network": {"cidr": ""}, "rules": [], "floating_ips": 0,
              "bandwidth_mbps": 0, "ssh_public_key": ""}


def _int(value, default=0):
    """A form's number: empty -> default, not a whole number -> -1 (refused by validate_spec)."""
    if value is None or str(value).strip() == "":
        return default
    if isinstance(value, bool) or isinstance(value, float):
        return -1
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return -1


def normalize_spec(raw):
    """Return a spec with every key present, numbers as ints and empty rows dropped."""
    raw = raw or {}
    servers = []
    for s in raw.get("servers") or []:
        name = str(s.get("name") or "").strip().lower()
        if not name and not s.get("flavor"):
            continue
        data = s.get("data_volumes") or []
        if isinstance(data, str):
            data = [p for p in re.split(r"[,\s，]+", data) if p]
        server = {"name": name, "flavor": str(s.get("flavor") or ""), "image": str(s.get("image") or ""),
                  "count": _int(s.get("count"), 1), "data_volumes": [_int(v, -1) for v in data]}
        instances = _instances(server, s.get("instances"))
        if instances:
            server["instances"] = instances
        servers.append(server)
    volumes = []
    for v in raw.get("volumes") or []:
        name = str(v.get("name") or "").strip().lower()
        if not name and not v.get("size_gb"):
            continue
        volumes.append({"name": name, "size_gb": _int(v.get("size_gb"), -1),
                        "attach_to": str(v.get("attach_to") or "").strip().lower()})
    rules = []
    for r in raw.get("rules") or []:
        port = str(r.get("port") or "").strip()
        if not port and not r.get("source"):
            continue
        rules.append({"port": port, "protocol": str(r.get("protocol") or "tcp").lower(),
                      "source": str(r.get("source") or "").strip()})
    network = raw.get("network") or {}
    return {"servers": servers, "volumes": volumes,
            "network": {"cidr": str(network.get("cidr") or "").strip()},
            "rules": rules, "floating_ips": _int(raw.get("floating_ips"), 0),
            "bandwidth_mbps": _int(raw.get("bandwidth_mbps"), 0),
            "ssh_public_key": str(raw.get("ssh_public_key") or "").strip()}


def _instances(group, raw):
    """Return a group's per-server lines (附件2, one server of a group changed alone): {"web-2":
    {"flavor": "m1.medium"}} resizes web-2 only, {"web-1": {"cancel": True}} cancels web-1 only. Lines of
    servers the group does not have, and lines that change nothing, are dropped."""
    out = {}
    if not isinstance(raw, dict):
        return out
    for name, line in raw.items():
        prefix, _, index = str(name).rpartition("-")
        if prefix != group["name"] or not index.isdigit() or not 1 <= int(index) <= group["count"] \
                or str(int(index)) != index or not isinstance(line, dict):
            continue
        if line.get("cancel") is True:
            out[name] = {"cancel": True}
            continue
        flavor = str(line.get("flavor") or "")
        if flavor and flavor != group["flavor"]:
            out[name] = {"flavor": flavor}
    return dict(sorted(out.items()))


def _bounded(spec):
    if sum(max(0, s["count"]) for s in spec["servers"]) > HARD_INSTANCES:
        raise ValidationFailed(_l("A request has at most %(max)d servers.", max=HARD_INSTANCES))


def instance_names(spec):
    """Return the names of the servers a spec expands to (group web with count 2: web-1, web-2)."""
    _bounded(spec)
    return [f"{s['name']}-{i}" for s in spec["servers"] for i in range(1, s["count"] + 1)
            if not s.get("instances", {}).get(f"{s['name']}-{i}", {}).get("cancel")]


def expand(spec):
    """Return (instances, volumes) as flat lists: every server and every volume with its name."""
    _bounded(spec)
    instances, volumes = [], []
    for s in spec["servers"]:
        for i in range(1, s["count"] + 1):
            name = f"{s['name']}-{i}"
            line = s.get("instances", {}).get(name, {})
            if line.get("cancel"):  # cancelled alone (附件2): neither the server nor its data volumes
                continue
            instances.append({"name": name, "flavor": line.get("flavor") or s["flavor"], "image": s["image"]})
            for j, size in enumerate(s["data_volumes"], start=1):
                volumes.append({"name": f"{name}-d{j}", "size_gb": size, "attach_to": name})
    for v in spec["volumes"]:
        volumes.append({"name": v["name"], "size_gb": v["size_gb"], "attach_to": v["attach_to"]})
    return instances, volumes


def parse_ports(port):
    """Return (min, max) of a port or range "80" / "8000-8080", or None when it is not one."""
    m = re.fullmatch(r"(\d{1,5})(?:\s*-\s*(\d{1,5}))?", port or "")
    if not m:
        return None
    low, high = int(m.group(1)), int(m.group(2) or m.group(1))
    if not (1 <= low <= high <= 65535):
        return None
    return low, high


def cidr_ok(cidr):
    """A system's own network: a private IPv4 network with a prefix of /16 to /28."""
    try:
        net = ipaddress.ip_network(cidr, strict=True)
    except ValueError:
        return False
    return net.version == 4 and net.is_private and 16 <= net.prefixlen <= 28


def validate_spec(spec, catalog, limits=None):
    """Return a list of (field, message) problems of spec against the cloud catalog and the limits
    (Limits); empty: valid. The work is bounded: a spec over the limits is not
    expanded."""
    limits = limits or catalog.get("limits") or Limits()
    max_count, max_gb = limits.count, limits.volume_gb
    problems = []
    flavors = {f["name"]: f for f in catalog.get("flavors", [])}
    images = {i["name"] for i in catalog.get("images", [])}
    if not spec["servers"] and not spec["volumes"]:
        problems.append(("servers", _l("Request at least one server or volume.")))
    total = sum(max(0, s["count"]) for s in spec["servers"])
    expandable = total <= limits.servers  # else not expanded: the names would cost as much as the number
    if not expandable:
        problems.append(("servers", _l("A request has at most %(max)d servers.", max=limits.servers)))
    seen = set()
    for n, s in enumerate(spec["servers"], start=1):
        where = f"servers-{n}"
        if not NAME_RE.match(s["name"]):
            problems.append((where, _l("Server %(n)d: the name must start with a letter and use a-z, 0-9 and - (at most 20).", n=n)))
        elif s["name"] in seen:
            problems.append((where, _l("Server %(n)d: the name is used twice.", n=n)))
        seen.add(s["name"])
        flavor = flavors.get(s["flavor"])
        if flavor is None:
            problems.append((where, _l("Server %(n)d: choose a flavor of the cloud.", n=n)))
        elif (flavor.get("vcpus") or 0) > limits.server_vcpus or (flavor.get("ram") or 0) > limits.server_ram_mb:
            problems.append((where, _l("Server %(n)d: a server has at most %(cpus)d vCPUs and %(gb)d GB of memory.",
                                       n=n, cpus=limits.server_vcpus, gb=limits.server_ram_mb // 1024)))
        if s["image"] not in images:
            problems.append((where, _l("Server %(n)d: choose an image of the cloud.", n=n)))
        if any(line.get("flavor") and line["flavor"] not in flavors for line in s.get("instances", {}).values()):
            problems.append((where, _l("Server %(n)d: choose a flavor of the cloud.", n=n)))
        if not 1 <= s["count"] <= max_count:
            problems.append((where, _l("Server %(n)d: the count must be between 1 and %(max)d.", n=n, max=max_count)))
        if any(not 1 <= size <= max_gb for size in s["data_volumes"]):
            problems.append((where, _l("Server %(n)d: data volume sizes are whole GB between 1 and %(max)d.",
                                       n=n, max=max_gb)))
    names = set(instance_names(spec)) if expandable else set()
    volume_names = set()
    for n, v in enumerate(spec["volumes"], start=1):
        where = f"volumes-{n}"
        if not NAME_RE.match(v["name"]):
            problems.append((where, _l("Volume %(n)d: the name must start with a letter and use a-z, 0-9 and - (at most 20).", n=n)))
        elif v["name"] in volume_names or v["name"] in names:
            problems.append((where, _l("Volume %(n)d: the name is used twice.", n=n)))
        volume_names.add(v["name"])
        if not 1 <= v["size_gb"] <= max_gb:
            problems.append((where, _l("Volume %(n)d: the size is whole GB between 1 and %(max)d.", n=n, max=max_gb)))
        if v["attach_to"] and v["attach_to"] not in names:
            problems.append((where, _l("Volume %(n)d: attach it to one of the requested servers (e.g. web-1).", n=n)))
    cidr = spec["network"]["cidr"]
    if cidr:
        if not cidr_ok(cidr):
            problems.append(("network", _l("Enter a private IPv4 network such as 192.168.10.0/24 (prefix /16 to /28), or leave it empty for an automatic one.")))
    for n, r in enumerate(spec["rules"], start=1):
        where = f"rules-{n}"
        if r["protocol"] not in PROTOCOLS:
            problems.append((where, _l("Rule %(n)d: the protocol must be tcp, udp or icmp.", n=n)))
        if r["protocol"] != "icmp" and parse_ports(r["port"]) is None:
            problems.append((where, _l("Rule %(n)d: enter a port (1-65535) or a range such as 8000-8080.", n=n)))
        try:
            source = ipaddress.ip_network(r["source"], strict=False)
        except ValueError:
            source = None
        if source is None or source.version != 4:
            problems.append((where, _l("Rule %(n)d: enter who may connect as an IPv4 network, e.g. 10.0.0.0/8 or 0.0.0.0/0.", n=n)))
    if not 0 <= spec["floating_ips"] <= len(names):
        problems.append(("floating_ips", _l("At most one floating IP per server.")))
    if not 0 <= spec["bandwidth_mbps"] <= MAX_BANDWIDTH_MBPS:
        problems.append(("bandwidth_mbps", _l("The bandwidth is whole Mbps between 0 and %(max)d.",
                                              max=MAX_BANDWIDTH_MBPS)))
    gigabytes = (sum(v["size_gb"] for v in spec["volumes"])
                 + sum(max(0, s["count"]) * sum(s["data_volumes"]) for s in spec["servers"]))
    if gigabytes > limits.total_gb:
        problems.append(("volumes", _l("The volumes of a request have at most %(max)d GB together.",
                                       max=limits.total_gb)))
    key = spec["ssh_public_key"]
    if key and not SSH_KEY_RE.match(key):
        problems.append(("ssh_public_key", _l("The SSH public key must be one line starting with ssh-rsa, ssh-ed25519 or ecdsa-sha2-.")))
    return problems


def allocation(spec, flavors):
    """Return the quota a spec needs: instances, cores, ram (MB), volumes, gigabytes, floating_ips."""
    by_name = {f["name"]: f for f in flavors}
    instances, volumes = expand(spec)
    cores = sum(by_name.get(i["flavor"], {}).get("vcpus", 0) for i in instances)
    ram = sum(by_name.get(i["flavor"], {}).get("ram", 0) for i in instances)
    return {"instances": len(instances), "cores": cores, "ram": ram, "volumes": len(volumes),
            "gigabytes": sum(v["size_gb"] for v in volumes), "floating_ips": spec["floating_ips"]}


def root_disk_gb(spec, flavors):
    """Return the GB of the servers' root disks a spec needs (their flavors' disk; 0 for a flavor of none)."""
    by_name = {f["name"]: f for f in flavors}
    instances, _volumes = expand(spec)
    return sum(by_name.get(i["flavor"], {}).get("disk", 0) or 0 for i in instances)


def add_allocations(*allocs):
    keys = ("instances", "cores", "ram", "volumes", "gigabytes", "floating_ips")
    return {k: sum(a.get(k, 0) for a in allocs) for k in keys}


def max_allocations(a, b):
    return {k: max(a.get(k, 0), b.get(k, 0)) for k in set(a) | set(b)}


def apply_adjustment(spec, counts=None, volume_sizes=None, floating_ips=None):
    """Return a copy of spec with the reviewer's quantities (server counts, volume sizes, FIPs)."""
    new = normalize_spec(spec)
    for s in new["servers"]:
        if counts and s["name"] in counts:
            s["count"] = _int(counts[s["name"]], s["count"])
    for v in new["volumes"]:
        if volume_sizes and v["name"] in volume_sizes:
            v["size_gb"] = _int(volume_sizes[v["name"]], v["size_gb"])
    if floating_ips is not None:
        new["floating_ips"] = _int(floating_ips, new["floating_ips"])
    return new


def diff_specs(old, new):
    """Return [{"item", "field", "from", "to"}] for every difference between two specs."""
    changes = []
    old = normalize_spec(old)
    new = normalize_spec(new)

    def compare(kind, key, old_rows, new_rows, fields):
        a = {r[key]: r for r in old_rows}
        b = {r[key]: r for r in new_rows}
        for name in list(a) + [n for n in b if n not in a]:
            if name not in b:
                changes.append({"item": f"{kind} {name}", "field": "", "from": "present", "to": "removed"})
            elif name not in a:
                changes.append({"item": f"{kind} {name}", "field": "", "from": "", "to": "added"})
            else:
                for f in fields:
                    if a[name][f] != b[name][f]:
                        changes.append({"item": f"{kind} {name}", "field": f, "from": a[name][f], "to": b[name][f]})

    compare("server", "name", old["servers"], new["servers"], ("flavor", "image", "count", "data_volumes"))
    # one server of a group changed or cancelled alone (its group's flavor and count unchanged)
    whole = {c["item"].partition(" ")[2] for c in changes if c["field"] in ("", "flavor", "count")}
    old_inst = {i["name"]: i for i in expand(old)[0]}
    new_inst = {i["name"]: i for i in expand(new)[0]}
    for name, inst in old_inst.items():
        if name.rsplit("-", 1)[0] in whole:
            continue
        if name not in new_inst:
            changes.append({"item": f"server {name}", "field": "", "from": "present", "to": "removed"})
        elif new_inst[name]["flavor"] != inst["flavor"]:
            changes.append({"item": f"server {name}", "field": "flavor", "from": inst["flavor"],
                            "to": new_inst[name]["flavor"]})
    for name in new_inst:
        if name not in old_inst and name.rsplit("-", 1)[0] not in whole:
            changes.append({"item": f"server {name}", "field": "", "from": "", "to": "added"})
    compare("volume", "name", old["volumes"], new["volumes"], ("size_gb", "attach_to"))
    rule_key = lambda r: f"{r['protocol']}/{r['port']} {r['source']}"  # noqa: E731
    old_rules = {rule_key(r) for r in old["rules"]}
    new_rules = {rule_key(r) for r in new["rules"]}
    for r in sorted(old_rules - new_rules):
        changes.append({"item": f"rule {r}", "field": "", "from": "present", "to": "removed"})
    for r in sorted(new_rules - old_rules):
        changes.append({"item": f"rule {r}", "field": "", "from": "", "to": "added"})
    for f in ("floating_ips", "bandwidth_mbps", "ssh_public_key"):
        if old[f] != new[f]:
            changes.append({"item": f, "field": "", "from": old[f], "to": new[f]})
    if old["network"]["cidr"] != new["network"]["cidr"]:
        changes.append({"item": "network", "field": "cidr", "from": old["network"]["cidr"], "to": new["network"]["cidr"]})
    return changes


def removals(current, desired):
    """Return the names of the servers and volumes that desired no longer has (a destructive change)."""
    cur_inst, cur_vols = expand(normalize_spec(current))
    new_inst, new_vols = expand(normalize_spec(desired))
    kept = {i["name"] for i in new_inst} | {v["name"] for v in new_vols}
    return [x["name"] for x in cur_inst + cur_vols if x["name"] not in kept]


def change_problems(current, desired):
    """Return problems of a change that the cloud cannot do: shrinking volumes, changing image or network."""
    problems = []
    cur_inst, cur_vols = expand(normalize_spec(current))
    new_inst, new_vols = expand(normalize_spec(desired))
    cur_images = {i["name"]: i["image"] for i in cur_inst}
    for i in new_inst:
        if i["name"] in cur_images and cur_images[i["name"]] != i["image"]:
            problems.append(("servers", _l("The image of an existing server cannot be changed; add a new server instead.")))
            break
    cur_sizes = {v["name"]: v["size_gb"] for v in cur_vols}
    for v in new_vols:
        if v["name"] in cur_sizes and v["size_gb"] < cur_sizes[v["name"]]:
            problems.append(("volumes", _l("A volume cannot be made smaller.")))
            break
    if normalize_spec(current)["network"]["cidr"] != normalize_spec(desired)["network"]["cidr"]:
        problems.append(("network", _l("The network of an existing system cannot be changed.")))
    return problems

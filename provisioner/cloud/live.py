"""The live inventory's listings (issue 18): every object of the cloud as plain dicts, in full or
only what changed since a time, plus one object at a time (the pages' refresh) and the server
actions a department may take on its own servers.

What "changed" means per service: Nova's `changes-since` (deleted servers come back with status
DELETED); Cinder's `updated_at=gte:` (microversion 3.60); Neutron has no time filter on this cloud
(no timestamp extension), so each kind is listed with its ids and revision numbers only, and only
new or changed ones are read in full. A volume, snapshot or backup deleted behind the portal's back
is noticed by the nightly full resync (Cinder lists no deleted objects) or by a refresh.
"""
from datetime import timezone

from .. import errors
from .connection import translate_errors
from .inventory import _CallCounter

NEUTRON_KINDS = {"network": "networks", "subnet": "subnets", "router": "routers",
                 "security_group": "security_groups", "floating_ip": "floatingips"}
CINDER_KINDS = {"volume": "volumes", "snapshot": "snapshots", "backup": "backups"}
POWER_STATES = {0: "NOSTATE", 1: "RUNNING", 3: "PAUSED", 4: "SHUTDOWN", 6: "CRASHED", 7: "SUSPENDED"}
SERVER_ACTIONS = ("start", "stop", "reboot_soft", "reboot_hard")
ID_BATCH = 80  # ids per detail request (keeps the URL short)


def _stamp(value):
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")


def server_item(s):
    """A Nova server (API dict) as an inventory item."""
    flavor = s.get("flavor") or {}
    fixed, floating = [], []
    for network, entries in (s.get("addresses") or {}).items():
        for entry in entries:
            (floating if entry.get("OS-EXT-IPS:type") == "floating" else fixed).append(
                {"network": network, "addr": entry.get("addr")})
    image = s.get("image") or {}
    return {"kind": "server", "id": s["id"], "project_id": s.get("tenant_id") or "", "name": s.get("name") or "",
            "status": s.get("status") or "",
            "flavor": flavor.get("original_name") or flavor.get("name") or flavor.get("id") or "",
            "image": (image.get("id") or "") if isinstance(image, dict) else "",
            "host": s.get("OS-EXT-SRV-ATTR:hypervisor_hostname") or "",
            "created_at": s.get("created"), "updated_at": s.get("updated"),
            "attributes": {"power_state": POWER_STATES.get(s.get("OS-EXT-STS:power_state"), ""),
                           "task_state": s.get("OS-EXT-STS:task_state") or "",
                           "vcpus": int(flavor.get("vcpus") or 0), "ram_mib": int(flavor.get("ram") or 0),
                           "disk_gb": int(flavor.get("disk") or 0), "fixed_ips": fixed, "floating_ips": floating,
                           "volumes": [v.get("id") for v in s.get("os-extended-volumes:volumes_attached") or []],
                           "request": (s.get("metadata") or {}).get("govcloud_request", ""),
                           "fault": (s.get("fault") or {}).get("message", "")}}


def cinder_item(kind, v):
    attrs = {"size_gib": int(v.get("size") or 0)}
    if kind == "volume":
        attrs.update(attached_to=[a.get("server_id") for a in v.get("attachments") or []],
                     volume_type=v.get("volume_type") or "", bootable=v.get("bootable") == "true",
                     request=(v.get("metadata") or {}).get("govcloud_request", ""))
    else:
        attrs["volume_id"] = v.get("volume_id") or ""
    project = v.get("os-vol-tenant-attr:tenant_id") or v.get("os-extended-snapshot-attributes:project_id") \
        or v.get("project_id") or ""
    return {"kind": kind, "id": v["id"], "project_id": project, "name": v.get("name") or "",
            "status": v.get("status") or "", "flavor": "", "image": "", "host": "",
            "created_at": v.get("created_at"), "updated_at": v.get("updated_at"), "attributes": attrs}


def neutron_item(kind, n):
    attrs = {"revision": n.get("revision_number")}
    if kind == "subnet":
        attrs.update(cidr=n.get("cidr"), network_id=n.get("network_id"), gateway_ip=n.get("gateway_ip"))
    elif kind == "network":
        attrs.update(subnets=n.get("subnets") or [], external=bool(n.get("router:external")))
    elif kind == "router":
        gateway = n.get("external_gateway_info") or {}
        attrs.update(external_network=gateway.get("network_id") or "",
                     external_ips=[ip.get("ip_address") for ip in gateway.get("external_fixed_ips") or []])
    elif kind == "security_group":
        attrs["rules"] = [{"direction": r.get("direction"), "protocol": r.get("protocol") or "",
                           "ports": _ports(r), "remote": r.get("remote_ip_prefix") or r.get("remote_group_id") or "",
                           "ethertype": r.get("ethertype")}
                          for r in n.get("security_group_rules") or []]
    elif kind == "floating_ip":
        attrs.update(address=n.get("floating_ip_address"), fixed_ip=n.get("fixed_ip_address"),
                     port_id=n.get("port_id"))
    name = n.get("name") or (n.get("floating_ip_address") if kind == "floating_ip" else "") or ""
    return {"kind": kind, "id": n["id"], "project_id": n.get("project_id") or n.get("tenant_id") or "",
            "name": name, "status": n.get("status") or "", "flavor": "", "image": "", "host": "",
            "created_at": n.get("created_at"), "updated_at": n.get("updated_at"), "attributes": attrs}


def _ports(rule):
    low, high = rule.get("port_range_min"), rule.get("port_range_max")
    if low is None:
        return ""
    return str(low) if low == high else f"{low}-{high}"


class LiveInventory:
    """Cloud methods of the live inventory (all as admin, all projects)."""

    def _pages(self, proxy, path, key, params, microversion=None, page_size=1000):
        """GET a paginated listing (marker paging), following the `*_links` next until done."""
        params = dict(params, limit=page_size)
        while True:
            response = proxy.get(path, params=params, microversion=microversion, raise_exc=True)
            body = response.json()
            items = body.get(key) or []
            yield from items
            if len(items) < page_size:
                return
            params["marker"] = items[-1]["id"]

    def live_listing(self, since=None, known_revisions=None, page_size=1000):
        """List the cloud's objects: all of them (since None) or those changed since `since`.

        known_revisions: {(kind, id): revision} of the Neutron objects the portal has (incremental
        mode only). Returns {"items": [...], "gone": [(kind, id)], "complete": [kinds listed in
        full], "api_calls": n}; a complete kind's objects that are not in items are gone.
        """
        conn = self.admin
        counter = _CallCounter(conn)
        items, gone, complete = [], [], []
        try:
            with translate_errors("list servers for the inventory"):
                params = {"all_tenants": 1}
                if since is not None:
                    params["changes-since"] = _stamp(since)
                for s in self._pages(conn.compute, "/servers/detail", "servers", params, "2.47", page_size):
                    if s.get("status") == "DELETED":
                        gone.append(("server", s["id"]))
                    else:
                        items.append(server_item(s))
            if since is None:
                complete.append("server")
            for kind, path in CINDER_KINDS.items():
                with translate_errors(f"list {path} for the inventory"):
                    params = {"all_tenants": 1}
                    if since is not None:
                        params["updated_at"] = "gte:" + _stamp(since)
                    for v in self._pages(conn.block_storage, f"/{path}/detail", path, params, "3.60", page_size):
                        if v.get("status") == "deleted":
                            gone.append((kind, v["id"]))
                        else:
                            items.append(cinder_item(kind, v))
                if since is None:
                    complete.append(kind)
            for kind, path in NEUTRON_KINDS.items():
                with translate_errors(f"list {path} for the inventory"):
                    if since is None or known_revisions is None:
                        items.extend(neutron_item(kind, n) for n in self._pages(conn.network, f"/{path}", path,
                                                                                  {}, None, page_size))
                    else:
                        revisions = {n["id"]: n.get("revision_number") for n in self._pages(
                            conn.network, f"/{path}", path, {"fields": ["id", "revision_number"]}, None, page_size)}
                        known = {i: r for (k, i), r in known_revisions.items() if k == kind}
                        gone.extend((kind, i) for i in known if i not in revisions)
                        changed = [i for i, r in revisions.items() if known.get(i, object()) != r]
                        for start in range(0, len(changed), ID_BATCH):
                            batch = changed[start:start + ID_BATCH]
                            response = conn.network.get(f"/{path}", params={"id": batch}, raise_exc=True)
                            items.extend(neutron_item(kind, n) for n in response.json().get(path) or [])
                if since is None:
                    complete.append(kind)
        finally:
            counter.close()
        return {"items": items, "gone": gone, "complete": complete, "api_calls": counter.calls}

    def live_object(self, kind, openstack_id):
        """Read one object afresh (the pages' refresh); None when the cloud no longer has it."""
        conn = self.admin
        if kind == "server":
            body = _get(conn.compute, f"/servers/{openstack_id}", "2.47", kind)
            return body and server_item(body["server"])
        if kind in CINDER_KINDS:
            path = CINDER_KINDS[kind]
            body = _get(conn.block_storage, f"/{path}/{openstack_id}", "3.60", kind)
            return body and cinder_item(kind, body[path[:-1]])
        if kind in NEUTRON_KINDS:
            path = NEUTRON_KINDS[kind]
            body = _get(conn.network, f"/{path}/{openstack_id}", None, kind)
            return body and neutron_item(kind, body[path[:-1]])
        raise errors.PermanentCloudError(errors.REJECTED_BY_CLOUD, f"unknown kind {kind}")

    def server_action(self, server_id, action):
        """Start, stop or reboot (soft/hard) a server as admin; returns Nova's status afterwards."""
        if action not in SERVER_ACTIONS:
            raise errors.PermanentCloudError(errors.REJECTED_BY_CLOUD, f"unknown action {action}")
        compute = self.admin.compute
        with translate_errors(f"{action} server"):
            if action == "start":
                compute.start_server(server_id)
            elif action == "stop":
                compute.stop_server(server_id)
            else:
                compute.reboot_server(server_id, "SOFT" if action == "reboot_soft" else "HARD")
            return compute.get_server(server_id).status


def _get(proxy, path, microversion, kind):
    """GET one object: its body, or None when the cloud answers 404."""
    with translate_errors(f"get {kind}"):
        response = proxy.get(path, microversion=microversion, raise_exc=False)
    if response.status_code == 404:
        return None
    if response.ok:
        return response.json()
    status, text = response.status_code, f"get {kind}: HTTP {response.status_code} {response.text[:200]}"
    if status >= 500 or status in (409, 429):
        raise errors.TransientCloudError(errors.CLOUD_UNAVAILABLE, text)
    raise errors.PermanentCloudError(errors.REJECTED_BY_CLOUD, text)

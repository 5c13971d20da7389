"""Read-only listings as plain data: what is billed (metering), the collector's inventory, the
reconciler's view of govcloud's names, a server's console log, the catalog's public endpoints."""
from .. import errors
from .connection import _server_view, translate_errors


class _CallCounter:
    """Count the HTTP requests of a connection (token requests included)."""

    def __init__(self, conn):
        self.calls = 0
        self._hooks = conn.session.session.hooks.setdefault("response", [])
        self._hooks.append(self)

    def __call__(self, response, *args, **kwargs):
        self.calls += 1
        return response

    def close(self):
        if self in self._hooks:
            self._hooks.remove(self)


def _epoch(text):
    """Return the Unix time of an OpenStack timestamp ("2026-11-26T20:00:00.000000"), or None."""
    if not text:
        return None
    from datetime import datetime, timezone
    value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()


class Inventory:
    """Cloud methods that list, across all projects or in one."""

    def metering_inventory(self):
        """List, across all projects, what is billed: servers, volumes, snapshots, backups, floating IPs.

        Returns {"servers": [{id, project_id, status, vcpus, ram_mib}], "volumes": [{id, project_id,
        size_gib, volume_type}], "snapshots": [{id, project_id, size_gib, volume_id}], "backups": [same],
        "floating_ips": [{id, project_id, port_id}]}.
        """
        conn = self.admin
        with translate_errors("list servers for metering"):
            servers = [{"id": s.id, "project_id": s.project_id, "status": s.status,
                        "vcpus": int((s.flavor or {}).get("vcpus") or 0),
                        "ram_mib": int((s.flavor or {}).get("ram") or 0)}
                       for s in conn.compute.servers(details=True, all_projects=True)]
        with translate_errors("list volumes for metering"):
            volumes = [{"id": v.id, "project_id": v.project_id, "size_gib": int(v.size or 0),
                        "volume_type": v.volume_type or ""}
                       for v in conn.block_storage.volumes(details=True, all_projects=True)]
        with translate_errors("list snapshots for metering"):
            snapshots = [{"id": s.id, "project_id": s.project_id, "size_gib": int(s.size or 0),
                          "volume_id": s.volume_id}
                         for s in conn.block_storage.snapshots(details=True, all_projects=True)]
        with translate_errors("list backups for metering"):
            backups = [{"id": b.id, "project_id": b.project_id, "size_gib": int(b.size or 0),
                        "volume_id": b.volume_id}
                       for b in conn.block_storage.backups(details=True, all_projects=True)]
        with translate_errors("list floating ips for metering"):
            floating_ips = [{"id": ip.id, "project_id": ip.project_id, "port_id": ip.port_id}
                            for ip in conn.network.ips()]
        return {"servers": servers, "volumes": volumes, "snapshots": snapshots, "backups": backups,
                "floating_ips": floating_ips}

    def simple_tenant_usage(self, project_id, start, end):
        """Return Nova's os-simple-tenant-usage of a project for [start, end) as plain numbers."""
        from datetime import timezone

        def naive_utc(value):  # os-simple-tenant-usage takes UTC without an offset
            return value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value

        with translate_errors("get tenant usage"):
            usage = self.admin.compute.get_usage(project_id, start=naive_utc(start), end=naive_utc(end))
        return {"vcpu_hours": usage.total_vcpus_usage or 0.0, "ram_mib_hours": usage.total_memory_mb_usage or 0.0,
                "servers": len(usage.server_usages or [])}

    def monitoring_inventory(self, page_size=1000):
        """List everything across all projects with paginated all-projects listings, plus the state of
        the services and the capacity; the number of API calls does not grow with the projects.

        Returns {"servers": [{id, project_id, status, vcpus, ram_mib}], "volumes": [{project_id,
        status, size_gib}], "snapshots": [{project_id, status, created_at}], "backups": [same],
        "networks": [{project_id}], "floating_ips": [{project_id, status}], "services": {type: 0/1},
        "capacity": {resource: {"used", "total"}}, "api_calls": n}.
        """
        conn = self.admin
        counter = _CallCounter(conn)
        services = {}
        out = {}

        def listing(service, key, fetch):
            try:
                with translate_errors(f"list {key}"):
                    out[key] = fetch()
                services[service] = services.get(service, 1)
            except errors.TransientCloudError:
                out[key] = []
                services[service] = 0

        try:
            listing("compute", "servers", lambda: [
                {"id": s.id, "project_id": s.project_id, "status": s.status,
                 "vcpus": int((s.flavor or {}).get("vcpus") or 0), "ram_mib": int((s.flavor or {}).get("ram") or 0)}
                for s in conn.compute.servers(details=True, all_projects=True, limit=page_size)])
            listing("volumev3", "volumes", lambda: [
                {"project_id": v.project_id, "status": v.status, "size_gib": int(v.size or 0)}
                for v in conn.block_storage.volumes(details=True, all_projects=True, limit=page_size)])
            listing("volumev3", "snapshots", lambda: [
                {"project_id": s.project_id, "status": s.status, "created_at": _epoch(s.created_at)}
                for s in conn.block_storage.snapshots(details=True, all_projects=True, limit=page_size)])
            listing("volumev3", "backups", lambda: [
                {"project_id": b.project_id, "status": b.status, "created_at": _epoch(b.created_at)}
                for b in conn.block_storage.backups(details=True, all_projects=True, limit=page_size)])
            listing("network", "networks", lambda: [
                {"project_id": n.project_id} for n in conn.network.networks(limit=page_size)])
            listing("network", "floating_ips", lambda: [
                {"project_id": ip.project_id, "status": ip.status} for ip in conn.network.ips(limit=page_size)])
            listing("image", "images", lambda: [{"id": i.id} for i in conn.image.images(limit=page_size)])
            try:
                services["placement"] = 1
                capacity = self.capacity()
            except errors.TransientCloudError:
                services["placement"] = 0
                capacity = {}
            out["capacity"] = {
                "vcpus": {k: capacity.get("VCPU", {}).get(k, 0) for k in ("used", "total")},
                "memory_bytes": {k: capacity.get("MEMORY_MB", {}).get(k, 0) * 1024 * 1024 for k in ("used", "total")},
                "disk_bytes": {k: capacity.get("DISK_GB", {}).get(k, 0) * 1024 ** 3 for k in ("used", "total")},
            }
            try:
                with translate_errors("list compute services"):
                    down = [s for s in conn.compute.services() if s.state != "up" and s.status == "enabled"]
                if down:
                    services["compute"] = 0
            except errors.TransientCloudError:
                services["compute"] = 0
            services["identity"] = 1  # the token of this cycle came from Keystone
        finally:
            counter.close()
        out.pop("images", None)
        out["services"] = services
        out["api_calls"] = counter.calls
        return out

    def server_console_output(self, server_id, length=100):
        """Return the last `length` lines of a server's console log (Nova os-getConsoleOutput)."""
        with translate_errors("get console output"):
            server = self.admin.compute.get_server(server_id)
            output = self.admin.compute.get_server_console_output(server, length=length)
        return output.get("output", "") if isinstance(output, dict) else str(output or "")

    def public_endpoints(self):
        """Return {root URL: [service types]} of the catalog's public endpoints (read from the token,
        no extra API call); the root (scheme://host:port/) answers without a project id or token."""
        from urllib.parse import urlsplit
        conn = self.admin
        with translate_errors("read the service catalog"):
            access = conn.session.auth.get_access(conn.session)
        roots = {}
        for service in access.service_catalog.catalog:
            for endpoint in service.get("endpoints", []):
                if endpoint.get("interface") == "public":
                    parts = urlsplit(endpoint["url"])
                    roots.setdefault(f"{parts.scheme}://{parts.netloc}/", []).append(service["type"])
        return {root: sorted(types) for root, types in sorted(roots.items())}

    def govcloud_inventory(self, prefix, project_id=None, projects=()):
        """List the resources whose name (floating IPs: description) starts with `prefix-`, as admin.

        With project_id only that project is listed, else all projects. Servers and volumes whose
        metadata carries `govcloud_request` are listed whatever their name when they sit in our
        projects (project_id, `prefix-*` projects, `projects`): another deployment's are not ours.
        Returns a list of {kind, id, name, project_id, status, request, flavor, size, attached_to};
        kinds are server, volume, floating_ip, keypair, security_group, router, network, subnet.
        """
        conn = self.admin
        start = prefix + "-"
        scope = {"project_id": project_id} if project_id else {}
        if project_id:
            ours = {project_id}
        else:
            with translate_errors("list projects for the reconciler"):
                ours = {p.id for p in conn.identity.projects() if (p.name or "").startswith(start)} | set(projects)
        out = []

        def add(kind, obj_id, name, project, status="", request="", **extra):
            out.append({"kind": kind, "id": obj_id, "name": name or "", "project_id": project or "",
                        "status": status or "", "request": request or "", "flavor": extra.get("flavor", ""),
                        "size": extra.get("size"), "attached_to": extra.get("attached_to", [])})

        with translate_errors("list servers for the reconciler"):
            for s in conn.compute.servers(details=True, all_projects=True, **scope):
                meta = s.metadata or {}
                if (s.name or "").startswith(start) or (meta.get("govcloud_request") and s.project_id in ours):
                    view = _server_view(s)
                    add("server", s.id, s.name, s.project_id, s.status, meta.get("govcloud_request"),
                        flavor=view["flavor"])
        with translate_errors("list volumes for the reconciler"):
            for v in conn.block_storage.volumes(details=True, all_projects=True, **scope):
                meta = v.metadata or {}
                if (v.name or "").startswith(start) or (meta.get("govcloud_request") and v.project_id in ours):
                    add("volume", v.id, v.name, v.project_id, v.status, meta.get("govcloud_request"), size=v.size,
                        attached_to=[a.get("server_id") for a in (v.attachments or [])])
        with translate_errors("list network resources for the reconciler"):
            for ip in conn.network.ips(**scope):
                if (ip.description or "").startswith(start):
                    add("floating_ip", ip.id, ip.description, ip.project_id, ip.status)
            for kind, listing in (("router", conn.network.routers), ("network", conn.network.networks),
                                  ("subnet", conn.network.subnets), ("security_group", conn.network.security_groups)):
                for item in listing(**scope):
                    if (item.name or "").startswith(start):
                        add(kind, item.id, item.name, item.project_id, getattr(item, "status", "") or "")
        with translate_errors("list keypairs for the reconciler"):
            for kp in conn.compute.keypairs():  # the account's keypairs: no project
                if (kp.name or "").startswith(start):
                    add("keypair", kp.name, kp.name, "")
        return out

    def project_quotas(self, project_ids):
        """Return {project_id: quotas} (the keys of Cloud.get_quotas) of the projects that still exist."""
        out = {}
        for project_id in project_ids:
            if self.project_exists(project_id):
                out[project_id] = self.get_quotas(project_id)
        return out

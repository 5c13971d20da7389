"""The one module that talks to OpenStack (openstacksdk); everything else gets plain data back.

Connections come from a clouds.yaml file and a cloud name (GOVCLOUD_CLOUDS_YAML / GOVCLOUD_CLOUD),
never from credentials in the portal's settings. Resources are created inside the department's
project through a project-scoped connection of the same (admin) account.
"""
import logging
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import openstack
from keystoneauth1 import exceptions as ks_exceptions
from openstack import exceptions as os_exceptions

from . import errors

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[1]
DEFAULT_CLOUDS_YAML = str(REPO / ".devcloud" / "clouds.yaml")
DEFAULT_CLOUD = "devcloud"
WAIT_SECONDS = 300
POLL_SECONDS = 1.0
CATALOG_TTL = 300


def settings_from(config=None):
    """Return (clouds_yaml, cloud) from a config mapping, the environment, or the dev cloud."""
    config = config or {}
    path = config.get("CLOUDS_YAML") or os.environ.get("GOVCLOUD_CLOUDS_YAML") or DEFAULT_CLOUDS_YAML
    name = config.get("CLOUD") or os.environ.get("GOVCLOUD_CLOUD") or DEFAULT_CLOUD
    return path, name


@contextmanager
def translate_errors(what):
    """Turn openstacksdk/keystoneauth exceptions into transient or permanent provisioning errors."""
    try:
        yield
    except errors.ProvisioningError:
        raise
    except os_exceptions.ResourceTimeout as exc:
        raise errors.TransientCloudError(errors.TIMEOUT, f"{what}: {exc}") from exc
    except os_exceptions.HttpException as exc:
        status = exc.status_code or 0
        text = f"{what}: HTTP {status} {exc.details or exc}"
        # the cloud's own words decide, not `what` or the URL ("set quotas", os-quota-sets)
        lowered = str(exc.details or "").lower()
        if ("quota" in lowered and status < 500) or status == 413:
            raise errors.PermanentCloudError(errors.QUOTA_EXCEEDED, text) from exc
        if status >= 500 or status in (409, 429, 0):
            raise errors.TransientCloudError(errors.CLOUD_UNAVAILABLE, text) from exc
        raise errors.PermanentCloudError(errors.REJECTED_BY_CLOUD, text) from exc
    except (ks_exceptions.ConnectFailure, ks_exceptions.ConnectTimeout, ks_exceptions.RetriableConnectionFailure,
            ks_exceptions.DiscoveryFailure, ConnectionError, TimeoutError) as exc:
        raise errors.TransientCloudError(errors.CLOUD_UNAVAILABLE, f"{what}: {exc!r}") from exc
    except ks_exceptions.HttpError as exc:  # keystoneauth's own calls: the token, version discovery
        status = exc.http_status or 0
        text = f"{what}: HTTP {status} {exc}"
        if status >= 500 or status in (409, 429, 0):
            raise errors.TransientCloudError(errors.CLOUD_UNAVAILABLE, text) from exc
        raise errors.PermanentCloudError(errors.REJECTED_BY_CLOUD, text) from exc
    except os_exceptions.SDKException as exc:
        raise errors.TransientCloudError(errors.CLOUD_UNAVAILABLE, f"{what}: {exc!r}") from exc


# ---------------------------------------------------------------------------------------------
# retries of safe calls (issue 5): reads and deletes are retried inside the call; creates (POST)
# and actions (PUT) never blindly: the provisioner looks by name and resumes its steps instead
# ---------------------------------------------------------------------------------------------
HTTP_RETRIES = 5
API_TIMEOUT = 300  # seconds without an answer, unless clouds.yaml sets api_timeout
HTTP_RETRY_STATUSES = (500, 502, 503, 504)


def http_retry():
    """Return the urllib3 retry policy of the connections: GET/HEAD/DELETE/OPTIONS, bounded, with
    exponential backoff and jitter; a request that never reached the cloud (connect error) too."""
    from urllib3.util.retry import Retry
    return Retry(total=HTTP_RETRIES, connect=HTTP_RETRIES, read=HTTP_RETRIES, status=HTTP_RETRIES, other=0,
                 allowed_methods=frozenset({"GET", "HEAD", "DELETE", "OPTIONS"}),
                 status_forcelist=HTTP_RETRY_STATUSES, backoff_factor=0.2, backoff_max=5.0, backoff_jitter=0.3,
                 raise_on_status=False, respect_retry_after_header=True)


def retry_transient(fn, *args, attempts=4, base=0.5):
    """Call fn (an idempotent Cloud operation, such as a PUT of quotas) again on a transient error,
    a bounded number of times with exponential backoff and jitter."""
    import random
    for attempt in range(attempts):
        try:
            return fn(*args)
        except errors.TransientCloudError:
            if attempt + 1 >= attempts:
                raise
            time.sleep(base * 2 ** attempt * random.uniform(0.5, 1.5))
    return None


def retry_idempotent_requests(conn):
    """Mount the retrying HTTP adapter (keystoneauth's keep-alive one) on an openstacksdk connection."""
    from keystoneauth1.session import TCPKeepAliveAdapter
    adapter = TCPKeepAliveAdapter(max_retries=http_retry())
    for scheme in ("http://", "https://"):
        conn.session.session.mount(scheme, adapter)
    return conn


def _server_view(server, flavors_by_id=None):
    flavor = server.flavor or {}
    addresses = []
    for network, entries in (server.addresses or {}).items():
        for entry in entries:
            addresses.append({"network": network, "addr": entry.get("addr"),
                              "type": entry.get("OS-EXT-IPS:type", "fixed")})
    return {"id": server.id, "name": server.name, "status": server.status,
            "flavor": flavor.get("original_name") or flavor.get("name") or flavor.get("id"),
            "vcpus": flavor.get("vcpus"), "ram": flavor.get("ram"), "addresses": addresses,
            "fault": (server.fault or {}).get("message", "") if server.fault else ""}


def _volume_view(volume):
    return {"id": volume.id, "name": volume.name, "size": volume.size, "status": volume.status,
            "attached_to": [a.get("server_id") for a in (volume.attachments or [])]}


class Cloud:
    """A handle on one OpenStack cloud: admin connection, project connections, catalog cache."""

    def __init__(self, clouds_yaml=None, cloud=None, wait_seconds=WAIT_SECONDS):
        default_path, default_name = settings_from()
        self.clouds_yaml = clouds_yaml or default_path
        self.cloud_name = cloud or default_name
        self.wait_seconds = wait_seconds
        self._admin = None
        self._projects = {}
        self._lock = threading.Lock()
        self._catalog = None
        self._catalog_at = 0.0
        self._external = {}  # external network name -> id
        self._member_role = None

    @classmethod
    def from_config(cls, config=None):
        path, name = settings_from(config)
        return cls(path, name)

    # -- connections
    @property
    def admin(self):
        with self._lock:
            if self._admin is None:
                with translate_errors("connect"):
                    config = openstack.config.OpenStackConfig(config_files=[self.clouds_yaml],
                                                              load_envvars=False)
                    region = config.get_one(cloud=self.cloud_name)
                    if region.config.get("api_timeout") is None:  # a hung call ends (transient), never blocks a job
                        region.config["api_timeout"] = API_TIMEOUT
                    self._admin = openstack.connection.Connection(config=region)
                    retry_idempotent_requests(self._admin)
            return self._admin

    def project(self, project_id):
        """Return a connection scoped to project_id (the admin account holds `member` there)."""
        with self._lock:
            conn = self._projects.get(project_id)
        if conn is None:
            with translate_errors("connect to project"):
                conn = self.admin.connect_as_project({"id": project_id, "name": None, "domain_id": "default"})
                retry_idempotent_requests(conn)
            with self._lock:
                self._projects[project_id] = conn
        return conn

    def close(self):
        for conn in list(self._projects.values()):
            conn.close()
        self._projects.clear()
        if self._admin is not None:
            self._admin.close()
            self._admin = None

    # -- catalog and capacity
    def catalog(self, refresh=False):
        """Return {"flavors": [...], "images": [...]} from the live cloud, cached for a few minutes."""
        if not refresh and self._catalog is not None and time.monotonic() - self._catalog_at < CATALOG_TTL:
            return self._catalog
        with translate_errors("list catalog"):
            flavors = sorted(({"id": f.id, "name": f.name, "vcpus": f.vcpus, "ram": f.ram, "disk": f.disk}
                              for f in self.admin.compute.flavors() if f.is_public is not False),
                             key=lambda f: (f["vcpus"], f["ram"], f["name"]))
            images = sorted(({"id": i.id, "name": i.name, "min_disk": i.min_disk or 0}
                             for i in self.admin.image.images() if i.status == "active"
                             and i.visibility in ("public", "community")), key=lambda i: i["name"])
        self._catalog = {"flavors": flavors, "images": images}
        self._catalog_at = time.monotonic()
        return self._catalog

    def capacity(self):
        """Return total, used and free VCPU / MEMORY_MB / DISK_GB over all Placement resource providers."""
        totals = {}
        with translate_errors("placement capacity"):
            for rp in self.admin.placement.resource_providers():
                inv = self.admin.placement.get(f"/resource_providers/{rp.id}/inventories").json()
                use = self.admin.placement.get(f"/resource_providers/{rp.id}/usages").json()
                for rc, data in inv.get("inventories", {}).items():
                    entry = totals.setdefault(rc, {"total": 0, "used": 0})
                    entry["total"] += int((data["total"] - data.get("reserved", 0)) * data.get("allocation_ratio", 1.0))
                    entry["used"] += use.get("usages", {}).get(rc, 0)
        for entry in totals.values():
            entry["free"] = entry["total"] - entry["used"]
        return totals

    # -- identity and quotas
    def find_project(self, name):
        with translate_errors("find project"):
            project = self.admin.identity.find_project(name, domain_id="default")
        return project.id if project else None

    def project_exists(self, project_id):
        with translate_errors("get project"):
            try:
                self.admin.identity.get_project(project_id)
            except os_exceptions.NotFoundException:
                return False
        return True

    def create_project(self, name, description):
        with translate_errors("create project"):
            project = self.admin.identity.create_project(name=name, domain_id="default", description=description)
        return project.id

    def grant_member(self, project_id):
        """Give the admin account the member role in project_id (idempotent)."""
        return retry_transient(self._grant_member, project_id)

    def _grant_member(self, project_id):
        with translate_errors("assign role"):
            conn = self.admin
            user_id = conn.current_user_id
            if self._member_role is None:  # looked up once per process
                self._member_role = conn.identity.find_role("member").id
            conn.identity.assign_project_role_to_user(project_id, user_id, self._member_role)

    def set_quotas(self, project_id, quotas):
        """Set compute, block-storage and network quotas of project_id from a plain dict."""
        return retry_transient(self._set_quotas, project_id, quotas)

    def _set_quotas(self, project_id, quotas):
        with translate_errors("set quotas"):
            self.admin.set_compute_quotas(project_id, instances=quotas["instances"], cores=quotas["cores"],
                                          ram=quotas["ram"])
            self.admin.set_volume_quotas(project_id, volumes=quotas["volumes"], gigabytes=quotas["gigabytes"])
            self.admin.set_network_quotas(project_id, floatingip=quotas["floating_ips"])

    def get_quotas(self, project_id):
        with translate_errors("get quotas"):
            c = self.admin.get_compute_quotas(project_id)
            v = self.admin.get_volume_quotas(project_id)
            n = self.admin.get_network_quotas(project_id)
        return {"instances": c.instances, "cores": c.cores, "ram": c.ram, "volumes": v.volumes,
                "gigabytes": v.gigabytes, "floating_ips": n.floating_ips}

    # -- network
    def find_network(self, project_id, name_or_id):
        with translate_errors("find network"):
            net = self.project(project_id).network.find_network(name_or_id, project_id=project_id)
        return net.id if net else None

    def create_network(self, project_id, name):
        with translate_errors("create network"):
            return self.project(project_id).network.create_network(name=name).id

    def find_subnet(self, project_id, name_or_id):
        with translate_errors("find subnet"):
            subnet = self.project(project_id).network.find_subnet(name_or_id, project_id=project_id)
        return subnet.id if subnet else None

    def create_subnet(self, project_id, name, network_id, cidr):
        with translate_errors("create subnet"):
            return self.project(project_id).network.create_subnet(
                name=name, network_id=network_id, ip_version=4, cidr=cidr,
                dns_nameservers=[]).id

    def subnet_cidr(self, project_id, subnet_id):
        with translate_errors("get subnet"):
            return self.project(project_id).network.get_subnet(subnet_id).cidr

    def find_router(self, project_id, name_or_id):
        with translate_errors("find router"):
            router = self.project(project_id).network.find_router(name_or_id, project_id=project_id)
        return router.id if router else None

    def create_router(self, project_id, name, external_network="public"):
        with translate_errors("create router"):
            conn = self.project(project_id)
            public_id = self.external_network_id(conn, external_network)
            return conn.network.create_router(name=name, external_gateway_info={"network_id": public_id}).id

    def external_network_id(self, conn, name):
        """Return the id of the external network name (looked up once per process)."""
        if name not in self._external:
            public = conn.network.find_network(name)
            if public is None:
                raise errors.PermanentCloudError(errors.REJECTED_BY_CLOUD, f"external network {name} not found")
            self._external[name] = public.id
        return self._external[name]

    def ensure_router_interface(self, project_id, router_id, subnet_id):
        """Attach subnet_id to router_id unless a port of the router already sits on it."""
        with translate_errors("router interface"):
            conn = self.project(project_id)
            for port in conn.network.ports(device_id=router_id):
                if any(ip.get("subnet_id") == subnet_id for ip in port.fixed_ips or []):
                    return False
            conn.network.add_interface_to_router(router_id, subnet=subnet_id)
            return True

    def remove_router_interface(self, project_id, router_id, subnet_id):
        with translate_errors("remove router interface"):
            try:
                self.project(project_id).network.remove_interface_from_router(router_id, subnet=subnet_id)
            except os_exceptions.NotFoundException:
                pass

    # -- security groups
    def find_security_group(self, project_id, name_or_id):
        with translate_errors("find security group"):
            sg = self.project(project_id).network.find_security_group(name_or_id, project_id=project_id)
        return sg.id if sg else None

    def create_security_group(self, project_id, name, description=""):
        with translate_errors("create security group"):
            return self.project(project_id).network.create_security_group(name=name, description=description).id

    def security_group_rules(self, project_id, sg_id):
        """Return the ingress IPv4 rules of sg_id as plain dicts."""
        with translate_errors("list rules"):
            rules = self.project(project_id).network.security_group_rules(security_group_id=sg_id)
            return [{"id": r.id, "protocol": r.protocol, "port_min": r.port_range_min,
                     "port_max": r.port_range_max, "source": r.remote_ip_prefix}
                    for r in rules if r.direction == "ingress" and r.ether_type == "IPv4"]

    def create_security_group_rule(self, project_id, sg_id, protocol, port_min, port_max, source):
        with translate_errors("create rule"):
            return self.project(project_id).network.create_security_group_rule(
                security_group_id=sg_id, direction="ingress", ethertype="IPv4", protocol=protocol,
                port_range_min=port_min, port_range_max=port_max, remote_ip_prefix=source).id

    def delete_security_group_rule(self, project_id, rule_id):
        with translate_errors("delete rule"):
            self.project(project_id).network.delete_security_group_rule(rule_id, ignore_missing=True)

    # -- keypairs (owned by the account, so the name carries the department and request)
    def find_keypair(self, project_id, name):
        with translate_errors("find keypair"):
            kp = self.project(project_id).compute.find_keypair(name)
        return kp.name if kp else None

    def create_keypair(self, project_id, name, public_key):
        with translate_errors("create keypair"):
            return self.project(project_id).compute.create_keypair(name=name, public_key=public_key).name

    # -- servers
    def find_server(self, project_id, name_or_id):
        with translate_errors("find server"):
            server = self.project(project_id).compute.find_server(name_or_id)
        return server.id if server else None

    def get_server(self, project_id, server_id):
        with translate_errors("get server"):
            return _server_view(self.project(project_id).compute.get_server(server_id))

    def create_server(self, project_id, name, flavor, image, network_id, security_group_id, key_name,
                      metadata):
        with translate_errors("create server"):
            conn = self.project(project_id)
            cached = self._catalog_ids(flavor, image)
            flavor_id, image_id = cached or self._find_flavor_image(conn, flavor, image)
            kwargs = {"name": name, "flavor_id": flavor_id, "image_id": image_id,
                      "networks": [{"uuid": network_id}], "security_groups": [{"name": security_group_id}],
                      "metadata": metadata}
            if key_name:
                kwargs["key_name"] = key_name
            try:
                return conn.compute.create_server(**kwargs).id
            except os_exceptions.BadRequestException:
                if not cached:
                    raise
                # the flavor or image may have been replaced since the catalog was read: look both up
                # afresh and send again (Nova refused the first POST, so it created nothing)
                self._catalog = None
                kwargs["flavor_id"], kwargs["image_id"] = self._find_flavor_image(conn, flavor, image)
                return conn.compute.create_server(**kwargs).id

    def _catalog_ids(self, flavor, image):
        """Return (flavor id, image id) by name from the cached catalog, or None when it lacks either."""
        catalog = self._catalog
        if catalog is None:
            return None
        flavors = {f["name"]: f["id"] for f in catalog["flavors"]}
        images = {i["name"]: i["id"] for i in catalog["images"]}
        if flavor in flavors and image in images:
            return flavors[flavor], images[image]
        return None

    @staticmethod
    def _find_flavor_image(conn, flavor, image):
        flavor_obj = conn.compute.find_flavor(flavor)
        if flavor_obj is None:
            raise errors.PermanentCloudError(errors.FLAVOR_MISSING, flavor)
        image_obj = conn.image.find_image(image)
        if image_obj is None:
            raise errors.PermanentCloudError(errors.IMAGE_MISSING, image)
        return flavor_obj.id, image_obj.id

    def wait_for_server(self, project_id, server_id, status="ACTIVE"):
        """Wait until server_id reaches status; ERROR raises with Nova's fault message."""
        deadline = time.monotonic() + self.wait_seconds
        conn = self.project(project_id)
        while True:
            with translate_errors("wait for server"):
                server = conn.compute.get_server(server_id)
            if server.status == status:
                return _server_view(server)
            if server.status == "ERROR":
                fault = (server.fault or {}).get("message", "") if server.fault else ""
                message = errors.NO_VALID_HOST if "valid host" in fault.lower() else errors.SERVER_ERROR
                raise errors.PermanentCloudError(message, f"server {server_id}: {fault}")
            if time.monotonic() > deadline:
                raise errors.TransientCloudError(errors.TIMEOUT, f"server {server_id} still {server.status}")
            time.sleep(POLL_SECONDS)

    def resize_server(self, project_id, server_id, flavor):
        """Resize server_id to flavor and confirm; returns False when it already has that flavor."""
        conn = self.project(project_id)
        view = self.get_server(project_id, server_id)
        if view["status"] == "VERIFY_RESIZE":
            with translate_errors("confirm resize"):
                conn.compute.confirm_server_resize(server_id)
            self.wait_for_server(project_id, server_id)
            return True
        if view["flavor"] == flavor:
            return False
        with translate_errors("resize server"):
            flavor_obj = conn.compute.find_flavor(flavor)
            if flavor_obj is None:
                raise errors.PermanentCloudError(errors.FLAVOR_MISSING, flavor)
            conn.compute.resize_server(server_id, flavor_obj.id)
        self.wait_for_server(project_id, server_id, status="VERIFY_RESIZE")
        with translate_errors("confirm resize"):
            conn.compute.confirm_server_resize(server_id)
        self.wait_for_server(project_id, server_id)
        return True

    def delete_server(self, project_id, server_id):
        with translate_errors("delete server"):
            conn = self.project(project_id)
            conn.compute.delete_server(server_id, ignore_missing=True)
            deadline = time.monotonic() + self.wait_seconds
            while conn.compute.find_server(server_id) is not None:
                if time.monotonic() > deadline:
                    raise errors.TransientCloudError(errors.TIMEOUT, f"server {server_id} not deleted")
                time.sleep(POLL_SECONDS)

    # -- volumes
    def find_volume(self, project_id, name_or_id):
        with translate_errors("find volume"):
            vol = self.project(project_id).block_storage.find_volume(name_or_id)
        return vol.id if vol else None

    def get_volume(self, project_id, volume_id):
        with translate_errors("get volume"):
            return _volume_view(self.project(project_id).block_storage.get_volume(volume_id))

    def create_volume(self, project_id, name, size, metadata):
        with translate_errors("create volume"):
            return self.project(project_id).block_storage.create_volume(name=name, size=size, metadata=metadata).id

    def wait_for_volume(self, project_id, volume_id, status="available", size=None):
        deadline = time.monotonic() + self.wait_seconds
        while True:
            view = self.get_volume(project_id, volume_id)
            if view["status"] in ((status,) if isinstance(status, str) else status) \
                    and (size is None or view["size"] == size):
                return view
            if view["status"].startswith("error"):
                raise errors.PermanentCloudError(errors.REJECTED_BY_CLOUD, f"volume {volume_id} {view['status']}")
            if time.monotonic() > deadline:
                raise errors.TransientCloudError(errors.TIMEOUT, f"volume {volume_id} still {view['status']}")
            time.sleep(POLL_SECONDS)

    def attach_volume(self, project_id, server_id, volume_id):
        """Attach volume_id to server_id unless it already is; wait until in-use."""
        view = self.get_volume(project_id, volume_id)
        if view["status"] in ("attaching", "reserved"):  # an attach cut short (crash, lost answer) ends first
            view = self.wait_for_volume(project_id, volume_id, status=("in-use", "available"))
        if server_id in view["attached_to"]:
            return False
        if view["status"] != "available":
            self.wait_for_volume(project_id, volume_id)
        with translate_errors("attach volume"):
            self.project(project_id).compute.create_volume_attachment(server_id, volume_id=volume_id)
        self.wait_for_volume(project_id, volume_id, status="in-use")
        return True

    def extend_volume(self, project_id, volume_id, size):
        """Grow volume_id to size GiB (never shrinks); returns False when it is that big already."""
        view = self.get_volume(project_id, volume_id)
        if view["status"] == "extending":  # an extend cut short ends first
            view = self.wait_for_volume(project_id, volume_id, status=("in-use", "available"))
        if view["size"] >= size:
            return False
        with translate_errors("extend volume"):
            self.project(project_id).block_storage.extend_volume(volume_id, size)
        self.wait_for_volume(project_id, volume_id, status=view["status"], size=size)
        return True

    def delete_volume(self, project_id, volume_id):
        """Detach volume_id from every server, then delete it and wait until it is gone."""
        conn = self.project(project_id)
        try:
            view = self.get_volume(project_id, volume_id)
        except errors.PermanentCloudError:
            return
        for server_id in view["attached_to"]:
            with translate_errors("detach volume"):
                conn.compute.delete_volume_attachment(server_id, volume_id, ignore_missing=True)
        if view["attached_to"]:
            self.wait_for_volume(project_id, volume_id)
        with translate_errors("delete volume"):
            conn.block_storage.delete_volume(volume_id, ignore_missing=True)
            deadline = time.monotonic() + self.wait_seconds
            while conn.block_storage.find_volume(volume_id) is not None:
                if time.monotonic() > deadline:
                    raise errors.TransientCloudError(errors.TIMEOUT, f"volume {volume_id} not deleted")
                time.sleep(POLL_SECONDS)

    # -- floating IPs (no name in Neutron: the description carries the key)
    def find_floating_ip(self, project_id, description):
        with translate_errors("find floating ip"):
            for ip in self.project(project_id).network.ips(project_id=project_id):
                if ip.description == description:
                    return ip.id
        return None

    def create_floating_ip(self, project_id, description, server_id, external_network="public"):
        with translate_errors("create floating ip"):
            conn = self.project(project_id)
            public_id = self.external_network_id(conn, external_network)
            ports = list(conn.network.ports(device_id=server_id))
            if not ports:
                raise errors.TransientCloudError(errors.CLOUD_UNAVAILABLE, f"server {server_id} has no port yet")
            return conn.network.create_ip(floating_network_id=public_id, port_id=ports[0].id,
                                          description=description).id

    def get_floating_ip(self, project_id, ip_id):
        with translate_errors("get floating ip"):
            ip = self.project(project_id).network.get_ip(ip_id)
        return {"id": ip.id, "address": ip.floating_ip_address, "fixed": ip.fixed_ip_address, "port": ip.port_id}

    # -- deletion of the network parts
    def delete(self, project_id, kind, openstack_id):
        """Delete one resource of kind by id; absent counts as deleted."""
        if kind == "server":
            return self.delete_server(project_id, openstack_id)
        if kind == "volume":
            return self.delete_volume(project_id, openstack_id)
        with translate_errors(f"delete {kind}"):
            conn = self.project(project_id)
            if kind == "floating_ip":
                conn.network.delete_ip(openstack_id, ignore_missing=True)
            elif kind == "security_group":
                conn.network.delete_security_group(openstack_id, ignore_missing=True)
            elif kind == "keypair":
                conn.compute.delete_keypair(openstack_id, ignore_missing=True)
            elif kind == "subnet":
                conn.network.delete_subnet(openstack_id, ignore_missing=True)
            elif kind == "network":
                conn.network.delete_network(openstack_id, ignore_missing=True)
            elif kind == "router":
                conn.network.delete_router(openstack_id, ignore_missing=True)
            else:
                raise ValueError(f"unknown resource kind {kind}")
        return None


# ---------------------------------------------------------------------------------------------
# metering (issue 9): read-only listing of what each project holds, as plain data
# ---------------------------------------------------------------------------------------------
def metering_inventory(cloud):
    """List, across all projects, what is billed: servers, volumes, snapshots, backups, floating IPs.

    Returns {"servers": [{id, project_id, status, vcpus, ram_mib}], "volumes": [{id, project_id,
    size_gib, volume_type}], "snapshots": [{id, project_id, size_gib, volume_id}], "backups": [same],
    "floating_ips": [{id, project_id, port_id}]}.
    """
    conn = cloud.admin
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


def simple_tenant_usage(cloud, project_id, start, end):
    """Return Nova's os-simple-tenant-usage of a project for [start, end) as plain numbers."""
    from datetime import timezone

    def naive_utc(value):  # os-simple-tenant-usage takes UTC without an offset
        return value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value

    with translate_errors("get tenant usage"):
        usage = cloud.admin.compute.get_usage(project_id, start=naive_utc(start), end=naive_utc(end))
    return {"vcpu_hours": usage.total_vcpus_usage or 0.0, "ram_mib_hours": usage.total_memory_mb_usage or 0.0,
            "servers": len(usage.server_usages or [])}


# ---------------------------------------------------------------------------------------------
# monitoring (issue 6): read-only inventory for the collector, as plain data
# ---------------------------------------------------------------------------------------------
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


def monitoring_inventory(cloud, page_size=1000):
    """List everything across all projects with paginated all-projects listings, plus the state of
    the services and the capacity; the number of API calls does not grow with the projects.

    Returns {"servers": [{id, project_id, status, vcpus, ram_mib}], "volumes": [{project_id,
    status, size_gib}], "snapshots": [{project_id, status, created_at}], "backups": [same],
    "networks": [{project_id}], "floating_ips": [{project_id, status}], "services": {type: 0/1},
    "capacity": {resource: {"used", "total"}}, "api_calls": n}.
    """
    conn = cloud.admin
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
            capacity = cloud.capacity()
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


# ---------------------------------------------------------------------------------------------
# vendor access (issue 8): what an operator may read of a server during a department's grant
# ---------------------------------------------------------------------------------------------
def server_console_output(cloud, server_id, length=100):
    """Return the last `length` lines of a server's console log (Nova os-getConsoleOutput)."""
    with translate_errors("get console output"):
        server = cloud.admin.compute.get_server(server_id)
        output = cloud.admin.compute.get_server_console_output(server, length=length)
    return output.get("output", "") if isinstance(output, dict) else str(output or "")


def public_endpoints(cloud):
    """Return {root URL: [service types]} of the catalog's public endpoints (read from the token,
    no extra API call); the root (scheme://host:port/) answers without a project id or token."""
    from urllib.parse import urlsplit
    conn = cloud.admin
    with translate_errors("read the service catalog"):
        access = conn.session.auth.get_access(conn.session)
    roots = {}
    for service in access.service_catalog.catalog:
        for endpoint in service.get("endpoints", []):
            if endpoint.get("interface") == "public":
                parts = urlsplit(endpoint["url"])
                roots.setdefault(f"{parts.scheme}://{parts.netloc}/", []).append(service["type"])
    return {root: sorted(types) for root, types in sorted(roots.items())}


# ---------------------------------------------------------------------------------------------
# -- reconciler (issue 5): what carries govcloud's names, across all projects or in one, as plain data
# ---------------------------------------------------------------------------------------------
def govcloud_inventory(cloud, prefix, project_id=None, projects=()):
    """List the resources whose name (floating IPs: description) starts with `prefix-`, as admin.

    With project_id only that project is listed, else all projects. Servers and volumes whose
    metadata carries `govcloud_request` are listed whatever their name when they sit in our
    projects (project_id, `prefix-*` projects, `projects`): another deployment's are not ours.
    Returns a list of {kind, id, name, project_id, status, request, flavor, size, attached_to};
    kinds are server, volume, floating_ip, keypair, security_group, router, network, subnet.
    """
    conn = cloud.admin
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


def project_quotas(cloud, project_ids):
    """Return {project_id: quotas} (the keys of Cloud.get_quotas) of the projects that still exist."""
    out = {}
    for project_id in project_ids:
        if cloud.project_exists(project_id):
            out[project_id] = cloud.get_quotas(project_id)
    return out


# ---------------------------------------------------------------------------------------------
# -- backups (issue 7): server snapshots to Glance, Cinder volume backups, restores, exports
# ---------------------------------------------------------------------------------------------
def _image_view(image):
    return {"id": image.id, "name": image.name, "status": image.status, "size": image.size,
            "checksum": image.checksum, "tags": list(image.tags or []),
            "properties": dict(image.properties or {}), "created_at": image.created_at,
            "min_disk": image.min_disk or 0}


def _backup_view(backup):
    return {"id": backup.id, "name": backup.name, "status": backup.status, "size": backup.size,
            "volume_id": backup.volume_id, "description": backup.description or "",
            "metadata": dict(backup.metadata or {}), "fail_reason": backup.fail_reason or "",
            "object_count": backup.object_count, "created_at": backup.created_at}


def server_backup_source(cloud, project_id, server_id):
    """Return what a new server built from a snapshot of server_id needs: flavor, networks,
    security groups, key name, status and task state (None when the server is gone)."""
    with translate_errors("get server for backup"):
        server = cloud.project(project_id).compute.find_server(server_id)
        if server is None:
            return None
        server = cloud.project(project_id).compute.get_server(server.id)
    flavor = server.flavor or {}
    networks = sorted({network for network in (server.addresses or {})})
    with translate_errors("list server ports"):
        conn = cloud.project(project_id)
        network_ids = sorted({p.network_id for p in conn.network.ports(device_id=server.id)})
    return {"flavor": flavor.get("original_name") or flavor.get("name") or flavor.get("id"),
            "network_ids": network_ids, "networks": networks,
            "security_groups": sorted({sg.get("name") for sg in server.security_groups or []}),
            "key_name": server.key_name or "", "status": server.status, "task_state": server.task_state}


def create_server_snapshot(cloud, project_id, server_id, name, properties):
    """Start a snapshot of server_id to a Glance image (Nova createImage) with properties; return
    the image id (the image becomes active asynchronously; tag it once it is: a tag written while
    Nova uploads can race Nova's own update of the image)."""
    with translate_errors("create server snapshot"):
        conn = cloud.project(project_id)
        return conn.compute.get_server(server_id).create_image(conn.compute, name, properties)


def tag_image(cloud, project_id, image_id, tags):
    """Add tags to an image (idempotent)."""
    with translate_errors("tag image"):
        conn = cloud.project(project_id)
        for tag in tags:
            conn.image.add_tag(image_id, tag)


def get_image(cloud, project_id, image_id):
    """Return a Glance image as plain data, or None when it does not exist."""
    with translate_errors("get image"):
        try:
            return _image_view(cloud.project(project_id).image.get_image(image_id))
        except os_exceptions.NotFoundException:
            return None


def delete_image(cloud, project_id, image_id):
    """Delete a Glance image; absent counts as deleted."""
    with translate_errors("delete image"):
        cloud.project(project_id).image.delete_image(image_id, ignore_missing=True)


def server_task_state(cloud, project_id, server_id):
    """Return (status, task_state) of a server; task_state None means no snapshot is in progress."""
    with translate_errors("get server"):
        server = cloud.project(project_id).compute.get_server(server_id)
    return server.status, server.task_state


def create_volume_backup(cloud, project_id, volume_id, name, description, metadata):
    """Start a full Cinder backup of volume_id (force: attached volumes too) with metadata;
    return the backup id."""
    with translate_errors("create volume backup"):
        return cloud.project(project_id).block_storage.create_backup(
            volume_id=volume_id, name=name, description=description, metadata=metadata, force=True,
            is_incremental=False).id


def get_volume_backup(cloud, project_id, backup_id):
    """Return a Cinder backup as plain data, or None when it does not exist."""
    with translate_errors("get volume backup"):
        try:
            return _backup_view(cloud.project(project_id).block_storage.get_backup(backup_id))
        except os_exceptions.NotFoundException:
            return None


def delete_volume_backup(cloud, project_id, backup_id):
    """Delete a Cinder backup (an errored one with force); absent counts as deleted."""
    view = get_volume_backup(cloud, project_id, backup_id)
    if view is None or view["status"] == "deleting":
        return
    with translate_errors("delete volume backup"):
        if view["status"] == "error":
            cloud.admin.block_storage.delete_backup(backup_id, ignore_missing=True, force=True)
        else:
            cloud.project(project_id).block_storage.delete_backup(backup_id, ignore_missing=True)


def wait_for_deleted(cloud, project_id, kind, openstack_id, wait_seconds=None):
    """Wait until a volume backup, image or volume is gone."""
    getter = {"backup": get_volume_backup, "image": get_image}.get(kind)
    deadline = time.monotonic() + (wait_seconds or cloud.wait_seconds)
    while True:
        if kind == "volume":
            with translate_errors("find volume"):
                gone = cloud.project(project_id).block_storage.find_volume(openstack_id) is None
        else:
            view = getter(cloud, project_id, openstack_id)
            gone = view is None or view["status"] == "deleted"
        if gone:
            return
        if time.monotonic() > deadline:
            raise errors.TransientCloudError(errors.TIMEOUT, f"{kind} {openstack_id} not deleted")
        time.sleep(POLL_SECONDS)


def restore_volume_backup(cloud, project_id, backup_id, *, volume_id=None, name=None):
    """Start restoring a Cinder backup into volume_id (it must be available), or into a new volume
    called name; return the volume id (it is `restoring-backup` until done)."""
    with translate_errors("restore volume backup"):
        result = cloud.project(project_id).block_storage.restore_backup(backup_id, volume=volume_id, name=name)
    return result.volume_id


def detach_volume(cloud, project_id, server_id, volume_id):
    """Start detaching volume_id from server_id (absent attachment counts as detached)."""
    with translate_errors("detach volume"):
        cloud.project(project_id).compute.delete_volume_attachment(server_id, volume_id, ignore_missing=True)


def start_volume_attach(cloud, project_id, server_id, volume_id):
    """Start attaching volume_id to server_id (it must be available)."""
    with translate_errors("attach volume"):
        cloud.project(project_id).compute.create_volume_attachment(server_id, volume_id=volume_id)


def rebuild_server_from_image(cloud, project_id, server_id, image_id):
    """Start rebuilding server_id from image_id (its disk replaced by the snapshot)."""
    with translate_errors("rebuild server"):
        cloud.project(project_id).compute.rebuild_server(server_id, image=image_id)


def create_server_from_snapshot(cloud, project_id, name, image_id, source, metadata):
    """Start a new server from a snapshot image with the flavor, networks, security groups and
    key of the original (`source` as returned by server_backup_source); return its id."""
    with translate_errors("create server from snapshot"):
        conn = cloud.project(project_id)
        flavor = conn.compute.find_flavor(source["flavor"])
        if flavor is None:
            raise errors.PermanentCloudError(errors.FLAVOR_MISSING, source["flavor"])
        kwargs = {"name": name, "flavor_id": flavor.id, "image_id": image_id, "metadata": metadata,
                  "networks": [{"uuid": n} for n in source.get("network_ids") or []] or "none"}
        if source.get("security_groups"):
            kwargs["security_groups"] = [{"name": sg} for sg in source["security_groups"]]
        if source.get("key_name"):
            kwargs["key_name"] = source["key_name"]
        return conn.compute.create_server(**kwargs).id


def upload_volume_to_image(cloud, project_id, volume_id, image_name):
    """Start uploading a volume's data to a new private raw image; return the image id."""
    with translate_errors("upload volume to image"):
        result = cloud.project(project_id).block_storage.upload_volume_to_image(
            volume_id, image_name, force=True, disk_format="raw", container_format="bare")
    return result["image_id"]


def image_data(cloud, project_id, image_id, chunk_size=1024 * 1024):
    """Return (size in bytes or None, an iterator over the image's data) streamed from Glance."""
    with translate_errors("download image"):
        response = cloud.project(project_id).image.download_image(image_id, stream=True)
    size = response.headers.get("Content-Length")

    def chunks():
        try:
            with translate_errors("read image data"):
                yield from response.iter_content(chunk_size=chunk_size)
        finally:
            response.close()
    return (int(size) if size else None), chunks()


def list_backups_tagged(cloud, project_id):
    """Return the project's govcloud backups as [{kind, id, name, status}] (images tagged
    `govcloud-backup`, Cinder backups whose metadata names a govcloud policy)."""
    out = []
    with translate_errors("list backup images"):
        for image in cloud.project(project_id).image.images(tag=["govcloud-backup"], owner=project_id):
            out.append({"kind": "snapshot", "id": image.id, "name": image.name, "status": image.status})
    with translate_errors("list volume backups"):
        for backup in cloud.project(project_id).block_storage.backups(details=True):
            if (backup.metadata or {}).get("govcloud_backup_policy") is not None:
                out.append({"kind": "volume", "id": backup.id, "name": backup.name, "status": backup.status})
    return out


def list_run_backups(cloud, project_id, run_id):
    """Return the images and Cinder backups of a project made by backup run `run_id` (property or
    metadata govcloud_run), as [{kind, id, name, status}]: finds what a run created but had not
    recorded when its process died."""
    out = []
    with translate_errors("list images of a backup run"):
        for image in cloud.project(project_id).image.images(owner=project_id):
            if str((image.properties or {}).get("govcloud_run", "")) == str(run_id):
                out.append({"kind": "snapshot", "id": image.id, "name": image.name, "status": image.status})
    with translate_errors("list volume backups of a backup run"):
        for backup in cloud.project(project_id).block_storage.backups(details=True):
            if str((backup.metadata or {}).get("govcloud_run", "")) == str(run_id):
                out.append({"kind": "volume", "id": backup.id, "name": backup.name, "status": backup.status})
    return out

"""What the provisioner creates, finds, changes and deletes in a department's project: projects,
quotas, networks, routers, security groups, key pairs, servers, volumes, floating IPs."""
import time

from .. import errors
from .connection import POLL_SECONDS, _server_view, _volume_view, os_exceptions, retry_transient, translate_errors


class Resources:
    """Cloud methods of the provisioner's steps (each finds before it creates)."""

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
            # the PUT itself: openstacksdk's assign_project_role_to_user drops Keystone's answer, so a
            # refused grant (503) would pass unseen and show only as a 401 at the next scoped login
            response = conn.identity.put(f"/projects/{project_id}/users/{user_id}/roles/{self._member_role}")
            os_exceptions.raise_from_response(response)

    def set_quotas(self, project_id, quotas):
        """Set compute, block-storage and network quotas of project_id from a plain dict."""
        return retry_transient(self._set_quotas, project_id, quotas)

    def _set_quotas(self, project_id, quotas):
        # the services' own quota calls take the project id as it is: the cloud layer's setters
        # (set_compute_quotas, ...) would look the project up in Keystone again before each PUT
        conn = self.admin
        with translate_errors("set quotas"):
            conn.compute.update_quota_set(project_id, force=True, instances=quotas["instances"],
                                          cores=quotas["cores"], ram=quotas["ram"])
            conn.block_storage.update_quota_set(project_id, volumes=quotas["volumes"],
                                                gigabytes=quotas["gigabytes"])
            conn.network.update_quota(project_id, floating_ips=quotas["floating_ips"])

    def get_quotas(self, project_id):
        conn = self.admin
        with translate_errors("get quotas"):
            c = conn.compute.get_quota_set(project_id)
            v = conn.block_storage.get_quota_set(project_id)
            n = conn.network.get_quota(project_id)
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

    def attach_volume(self, project_id, server_id, volume_id, view=None):
        """Attach volume_id to server_id unless it already is; wait until in-use. view: the volume as
        the caller has just read it (not read again)."""
        view = view or self.get_volume(project_id, volume_id)
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

    def extend_volume(self, project_id, volume_id, size, view=None):
        """Grow volume_id to size GiB (never shrinks); returns False when it is that big already.
        view: the volume as the caller has just read it (not read again)."""
        view = view or self.get_volume(project_id, volume_id)
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

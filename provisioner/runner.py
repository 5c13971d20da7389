"""Run one provisioning job: make the department's OpenStack project match an approved request.

Every step is `ensure_<thing>`: the stored id is looked up first, then the deterministic name (which
carries the department and the request), and only then is the thing created; its id is stored and
committed before the next step, so a re-run (after a crash or a retry) never duplicates anything.
"""
import logging
import time
from datetime import timedelta

from sqlalchemy import select

from portal.database import utcnow
from portal.models.accounts import Department
from portal.models.requests import CloudResource, ResourceRequest
from portal.services import receipts
from portal.services.audit import RequestInfo, record_event
from portal.services.resource_requests import current_spec, live_systems, system_requests
from portal.services.system_retirement import retire_system
from portal.specs import EMPTY_SPEC, add_allocations, allocation, expand, max_allocations, normalize_spec, parse_ports
from portal.steps import DELETE_ORDER
from portal.services.transitions import transition
from portal.workflow import REQUESTS, JobState, RequestKind, RequestState

from . import errors, naming, timings
from .jobs import LEASE_SECONDS, backoff, close, default_worker_id
from .naming import resource_name

log = logging.getLogger(__name__)
CREATE_ATTEMPTS = 4
RESUME_ATTEMPTS = 4
RESUME_BACKOFF_SECONDS = 1.0
CREATE_BACKOFF_SECONDS = 0.5
OPEN_STATES = (RequestState.APPROVED, RequestState.PROVISIONING, RequestState.FAILED)


class JobRunner:
    """Carry out one claimed job step by step."""

    def __init__(self, session, cloud, job, *, worker_id="", name_prefix=naming.DEFAULT_PREFIX,
                 lease_seconds=LEASE_SECONDS):
        self.session = session
        self.cloud = cloud
        self.job = job
        self.worker_id = worker_id or default_worker_id()
        self.prefix = name_prefix
        self.lease_seconds = lease_seconds
        self.request = session.get(ResourceRequest, job.request_id)
        self.department = session.get(Department, job.department_id)
        self.system_id = self.request.system_root_id
        self.ctx = RequestInfo(correlation_id=f"job-{job.id}")
        self.project_id = None
        self.new_project = False  # created by this pass: nothing in it can predate the job
        self.flavors = []

    # -- bookkeeping
    def step(self, name):
        """Record the current step and renew the lease (committed)."""
        timings.step_started(self.session, self.job, name)  # the previous step's duration (issue 5 metrics)
        self.job.current_step = name
        self.job.lease_expires_at = utcnow() + timedelta(seconds=self.lease_seconds)
        self.session.commit()
        log.info("job=%s request=%s step=%s", self.job.id, self.request.number, name)

    def audit(self, action, kind, openstack_id, *, after=None, outcome="success", detail=""):
        record_event(self.session, self.ctx, action, object_type=kind, object_id=openstack_id,
                     department_id=self.department.id, after={"request": self.request.number, **(after or {})},
                     outcome=outcome, detail=detail)

    def row(self, key):
        return self.session.scalar(select(CloudResource).where(CloudResource.department_id == self.department.id,
                                                               CloudResource.key == key))

    def store(self, key, kind, name, openstack_id, system_id, attributes=None, *, commit=True):
        res = self.row(key)
        if res is None:
            res = CloudResource(department_id=self.department.id, key=key, kind=kind, name=name,
                                system_id=system_id, created_by_request_id=self.request.id)
            self.session.add(res)
        res.openstack_id = openstack_id
        res.name = name
        res.deleted = False
        if attributes is not None:
            res.attributes = attributes
        if commit:
            self.session.commit()
        return res

    def ensure(self, key, kind, find, create, *, system_id=None, attributes=None):
        """Return the OpenStack id of key: stored id, else found by name, else created; stored and committed.

        The id and its audit event are committed together. A create that failed transiently (the
        cloud may have done it without the answer arriving) is retried only after another look by
        name, a few times with backoff and jitter; then the job's own retry takes over.
        """
        name = resource_name(self.prefix, self.department, key)
        res = self.row(key)
        if res is not None and res.openstack_id and not res.deleted and find(res.openstack_id):
            return res.openstack_id
        for attempt in range(CREATE_ATTEMPTS):
            # in a project this very pass created there is nothing to look for (key pairs belong to
            # the account, not the project); a resumed or retried pass always looks
            skip_lookup = attempt == 0 and self.new_project and kind != "keypair"
            found = None if skip_lookup else find(name)
            if found:
                self.store(key, kind, name, found, system_id, attributes, commit=False)
                self.audit("cloud.adopt", kind, found, after={"name": name})
                self.session.commit()
                return found
            try:
                created = create(name)
            except errors.TransientCloudError as exc:
                if attempt + 1 >= CREATE_ATTEMPTS:
                    raise
                log.warning("job=%s step=%s create failed (%s), looking again", self.job.id, key, exc)
                time.sleep(backoff(attempt, CREATE_BACKOFF_SECONDS))
                continue
            self.store(key, kind, name, created, system_id, attributes, commit=False)
            self.audit("cloud.create", kind, created, after={"name": name})
            self.session.commit()
            return created
        raise AssertionError("unreachable")

    # -- department level
    def ensure_project(self):
        dept = self.department
        name = f"{self.prefix}-{dept.code.lower()}"
        self.new_project = False
        if dept.openstack_project_id and self.cloud.project_exists(dept.openstack_project_id):
            project_id = dept.openstack_project_id
        else:
            project_id = self.cloud.find_project(name)
            action = "cloud.adopt"
            if project_id is None:
                project_id = self.cloud.create_project(name, f"政务云 {dept.name} ({dept.code})")
                action = "cloud.create"
                self.new_project = True
            # the role before the id is stored: after a crash in between, the project is found by name
            # and the role given again (idempotent); once stored, neither is repeated
            self.cloud.grant_member(project_id)
            dept.openstack_project_id = project_id
            self.store("project", "project", name, project_id, None, commit=False)
            self.audit(action, "project", project_id, after={"name": name})
            self.audit("cloud.grant_role", "project", project_id, after={"role": "member"})
        self.session.commit()
        return project_id

    def quotas(self):
        return department_quotas(self.session, self.department.id, self.flavors)

    def set_quotas(self, quotas, label):
        self.step(f"quotas:{label}")
        self.cloud.set_quotas(self.project_id, quotas)
        self.audit("cloud.set_quotas", "project", self.project_id, after=quotas)
        self.session.commit()

    def ensure_router(self):
        self.step("router")
        return self.ensure("router", "router", lambda n: self.cloud.find_router(self.project_id, n),
                           lambda n: self.cloud.create_router(self.project_id, n))

    def ensure_network(self, spec, router_id):
        """Return the network id of the system: the department's default one, or its own CIDR."""
        cidr = spec["network"]["cidr"]
        suffix = f"R{self.system_id}" if cidr else "default"
        system_id = self.system_id if cidr else None
        cidr = cidr or f"10.{self.department.id % 250}.0.0/24"
        self.step(f"network:{suffix}")
        net = self.ensure(f"network:{suffix}", "network", lambda n: self.cloud.find_network(self.project_id, n),
                          lambda n: self.cloud.create_network(self.project_id, n), system_id=system_id,
                          attributes={"cidr": cidr})
        self.step(f"subnet:{suffix}")
        subnet = self.ensure(f"subnet:{suffix}", "subnet", lambda n: self.cloud.find_subnet(self.project_id, n),
                             lambda n: self.cloud.create_subnet(self.project_id, n, net, cidr), system_id=system_id,
                             attributes={"cidr": cidr, "network_id": net})
        self.step(f"router_interface:{suffix}")
        if self.cloud.ensure_router_interface(self.project_id, router_id, subnet):
            self.audit("cloud.add_router_interface", "router", router_id, after={"subnet": subnet})
            self.session.commit()
        return net

    # -- system level
    def ensure_security_group(self, spec):
        key = naming.key("sg", self.system_id)
        self.step(key)
        sg = self.ensure(key, "security_group", lambda n: self.cloud.find_security_group(self.project_id, n),
                         lambda n: self.cloud.create_security_group(self.project_id, n, self.request.system_name),
                         system_id=self.system_id)
        self.step(f"{key}:rules")
        wanted = {}
        for rule in spec["rules"]:
            low, high = parse_ports(rule["port"]) or (None, None)
            if rule["protocol"] == "icmp":
                low = high = None
            wanted[(rule["protocol"], low, high, _cidr(rule["source"]))] = rule
        existing = {(r["protocol"], r["port_min"], r["port_max"], r["source"]): r["id"]
                    for r in self.cloud.security_group_rules(self.project_id, sg)}
        for key_, rule_id in existing.items():
            if key_ not in wanted:
                self.cloud.delete_security_group_rule(self.project_id, rule_id)
                self.audit("cloud.delete", "security_group_rule", rule_id)
        for key_ in wanted:
            if key_ not in existing:
                rule_id = self.cloud.create_security_group_rule(self.project_id, sg, *key_)
                self.audit("cloud.create", "security_group_rule", rule_id, after={"rule": list(key_)})
                self.session.commit()
        self.session.commit()
        return sg

    def ensure_keypair(self, spec):
        if not spec["ssh_public_key"]:
            return None
        key = naming.key("keypair", self.system_id)
        self.step(key)
        return self.ensure(key, "keypair", lambda n: self.cloud.find_keypair(self.project_id, n),
                           lambda n: self.cloud.create_keypair(self.project_id, n, spec["ssh_public_key"]),
                           system_id=self.system_id)

    def ensure_server(self, instance, network_id, sg_id, key_name):
        """Start building a server (not waiting: the servers of a request build in parallel)."""
        key = naming.key("server", self.system_id, instance["name"])
        self.step(key)
        metadata = {"govcloud_request": self.request.number, "govcloud_system": str(self.system_id),
                    "govcloud_department": self.department.code}
        return self.ensure(
            key, "server", lambda n: self.cloud.find_server(self.project_id, n),
            lambda n: self.cloud.create_server(self.project_id, n, instance["flavor"], instance["image"],
                                               network_id, sg_id, key_name, metadata),
            system_id=self.system_id)

    def complete_server(self, instance, server_id):
        """Wait until the server is ACTIVE with its flavor (resize + confirm when it differs)."""
        key = naming.key("server", self.system_id, instance["name"])
        self.step(f"{key}:wait")
        view = self.cloud.get_server(self.project_id, server_id)
        if view["status"] in ("BUILD", "REBUILD"):
            view = self.cloud.wait_for_server(self.project_id, server_id)
        if view["status"] == "VERIFY_RESIZE" or view["flavor"] != instance["flavor"]:
            self.step(f"{key}:resize")
            if self.cloud.resize_server(self.project_id, server_id, instance["flavor"]):
                self.audit("cloud.resize", "server", server_id, after={"flavor": instance["flavor"]})
        view = self.cloud.wait_for_server(self.project_id, server_id)
        self.row(key).attributes = {"flavor": view["flavor"], "image": instance["image"],
                                    "addresses": view["addresses"], "vcpus": view["vcpus"], "ram": view["ram"]}
        self.session.commit()
        return server_id

    def ensure_volume(self, volume):
        """Start creating a volume (not waiting)."""
        key = naming.key("volume", self.system_id, volume["name"])
        self.step(key)
        metadata = {"govcloud_request": self.request.number, "govcloud_system": str(self.system_id)}
        return self.ensure(key, "volume", lambda n: self.cloud.find_volume(self.project_id, n),
                           lambda n: self.cloud.create_volume(self.project_id, n, volume["size_gb"], metadata),
                           system_id=self.system_id)

    def complete_volume(self, volume, volume_id, servers):
        """Wait for the volume, extend it to its size, attach it to its server."""
        key = naming.key("volume", self.system_id, volume["name"])
        self.step(f"{key}:extend")
        view = self.cloud.get_volume(self.project_id, volume_id)
        if view["status"] == "creating":
            view = self.cloud.wait_for_volume(self.project_id, volume_id)
        if self.cloud.extend_volume(self.project_id, volume_id, volume["size_gb"]):
            self.audit("cloud.extend", "volume", volume_id, after={"size_gb": volume["size_gb"]})
            self.session.commit()
        server_id = servers.get(volume["attach_to"])
        if server_id:
            self.step(f"{key}:attach")
            if self.cloud.attach_volume(self.project_id, server_id, volume_id):
                self.audit("cloud.attach", "volume", volume_id, after={"server": server_id})
                self.session.commit()
        self.row(key).attributes = {"size_gb": volume["size_gb"], "attached_to": server_id or ""}
        self.session.commit()
        return volume_id

    def ensure_floating_ip(self, n, server_id):
        key = naming.key("fip", self.system_id, n)
        self.step(key)
        ip_id = self.ensure(key, "floating_ip", lambda d: self.cloud.find_floating_ip(self.project_id, d)
                            if not _is_uuid(d) else _exists_fip(self.cloud, self.project_id, d),
                            lambda d: self.cloud.create_floating_ip(self.project_id, d, server_id),
                            system_id=self.system_id)
        ip = self.cloud.get_floating_ip(self.project_id, ip_id)
        self.row(key).attributes = {"address": ip["address"], "fixed": ip["fixed"], "server": server_id}
        self.session.commit()
        return ip_id

    def remove_unwanted(self, keep):
        """Delete the system's resources that the desired spec no longer has (FIPs, volumes, servers, ...)."""
        rows = list(self.session.scalars(select(CloudResource).where(
            CloudResource.system_id == self.system_id, CloudResource.deleted.is_(False))))
        for kind in DELETE_ORDER:
            for res in [r for r in rows if r.kind == kind and r.key not in keep]:
                self.step(f"delete:{res.key}")
                if kind == "subnet":
                    router = self.row("router")
                    if router is not None:
                        self.cloud.remove_router_interface(self.project_id, router.openstack_id, res.openstack_id)
                self.cloud.delete(self.project_id, kind, res.openstack_id)
                res.deleted = True
                self.audit("cloud.delete", kind, res.openstack_id, after={"name": res.name})
                self.session.commit()

    # -- the whole job
    def run(self):
        """Carry out the job; return the final job state.

        A transient cloud error resumes the steps in this process a few times (backoff with
        jitter; every step finds what is done by its stored id) before the job is handed back to
        the queue by run_job.
        """
        for attempt in range(RESUME_ATTEMPTS):
            try:
                return self._run_steps()
            except errors.TransientCloudError as exc:
                if attempt + 1 >= RESUME_ATTEMPTS:
                    raise
                self.session.rollback()
                log.warning("job=%s request=%s step=%s transient error, resuming: %s", self.job.id,
                            self.request.number, self.job.current_step, exc)
                self.audit("provisioning.resume", "provisioning_job", self.job.id, outcome="failure",
                           detail=str(exc)[:2000])
                self.session.commit()
                time.sleep(backoff(attempt, RESUME_BACKOFF_SECONDS))
        raise AssertionError("unreachable")

    def _run_steps(self):
        request = self.request
        if request.state == RequestState.APPROVED:
            transition(self.session, self.ctx, REQUESTS, request, "start_provisioning")
            self.session.commit()
        desired = normalize_spec(EMPTY_SPEC) if request.kind == RequestKind.DECOMMISSION \
            else normalize_spec(request.approved_spec)
        self.flavors = self.cloud.catalog()["flavors"]  # cached a few minutes; fresh when a flavor is new
        if not {s["flavor"] for s in desired["servers"]} <= {f["name"] for f in self.flavors}:
            self.flavors = self.cloud.catalog(refresh=True)["flavors"]
        self.step("project")
        self.project_id = self.ensure_project()
        target, transitional = self.quotas()
        self.set_quotas(transitional, "raise")
        keep = set()
        instances, volumes = expand(desired)
        if instances or volumes:
            router = self.ensure_router()
            network = self.ensure_network(desired, router)
            if desired["network"]["cidr"]:
                keep |= {naming.key("network", self.system_id), naming.key("subnet", self.system_id)}
            sg = self.ensure_security_group(desired)
            keep.add(naming.key("sg", self.system_id))
            key_name = self.ensure_keypair(desired)
            if key_name:
                keep.add(naming.key("keypair", self.system_id))
            keep |= {naming.key("server", self.system_id, i["name"]) for i in instances}
            keep |= {naming.key("volume", self.system_id, v["name"]) for v in volumes}
            # what the spec no longer has goes first (volumes before their servers): the quota
            # holds the approved total, not the old and the new side by side
            self.remove_unwanted(keep | {naming.key("fip", self.system_id, n) for n in range(1, desired["floating_ips"] + 1)}
                                 | {k for k in self._keys("network") | self._keys("subnet")})
            servers = {i["name"]: self.ensure_server(i, network, sg, key_name) for i in instances}
            volume_ids = {v["name"]: self.ensure_volume(v) for v in volumes}
            for instance in instances:
                self.complete_server(instance, servers[instance["name"]])
            for volume in volumes:
                self.complete_volume(volume, volume_ids[volume["name"]], servers)
            for n in range(1, desired["floating_ips"] + 1):
                self.ensure_floating_ip(n, servers[instances[n - 1]["name"]])
                keep.add(naming.key("fip", self.system_id, n))
        self.remove_unwanted(keep)
        if request.kind == RequestKind.DECOMMISSION and not self.other_live_systems():
            self.remove_department_network()
        if request.kind == RequestKind.DECOMMISSION:  # no backups, probes or metering of a system that is gone
            self.step("retire")
            retire_system(self.session, self.ctx, request)
        if target != transitional:
            self.set_quotas(target, "final")
        self.step("receipt")
        receipt = receipts.issue_receipt(self.session, self.request, self.worker_id)
        transition(self.session, self.ctx, REQUESTS, request, "finish", after={"receipt": receipt.number})
        return self.succeed()

    def succeed(self):
        """Settle the job as succeeded: lease released, error cleared (committed)."""
        close(self.job, JobState.SUCCEEDED)
        self.session.commit()
        return self.job.state

    def fail(self, job_state, message, detail):
        """The job failed or errored (jobs.settle): the request is `failed`, with the reason and what
        was created, for the vendor to retry, roll back or resolve (committed)."""
        job, request = self.job, self.request
        created = created_resources(self.session, request)
        close(job, job_state, message, f"step {job.current_step}: {detail}\ncreated: {created}")
        request.failure_message = message
        if request.state == RequestState.APPROVED:
            transition(self.session, self.ctx, REQUESTS, request, "start_provisioning")
        if request.state == RequestState.PROVISIONING:
            transition(self.session, self.ctx, REQUESTS, request, "fail", detail=job.error_detail[:2000],
                       after={"message": message, "created": created})
        self.session.commit()

    def other_live_systems(self):
        return [s for s in live_systems(self.session, self.department.id) if s.id != self.system_id]

    def remove_department_network(self):
        """Delete the department's router and default network once its last system is gone."""
        router = self.row("router")
        subnet = self.row("subnet:default")
        if router is not None and not router.deleted and subnet is not None and not subnet.deleted:
            self.step("delete:router_interface")
            self.cloud.remove_router_interface(self.project_id, router.openstack_id, subnet.openstack_id)
        for key in ("subnet:default", "network:default", "router"):
            res = self.row(key)
            if res is None or res.deleted:
                continue
            self.step(f"delete:{key}")
            self.cloud.delete(self.project_id, res.kind, res.openstack_id)
            res.deleted = True
            self.audit("cloud.delete", res.kind, res.openstack_id, after={"name": res.name})
            self.session.commit()

    def _keys(self, kind):
        return {r.key for r in self.session.scalars(select(CloudResource).where(
            CloudResource.system_id == self.system_id, CloudResource.kind == kind, CloudResource.deleted.is_(False)))}


def department_quotas(session, department_id, flavors):
    """Return (target, transitional) quotas of a department: its approved total, and the max of that
    with what it holds now (raised first, so old and new fit side by side while a change runs)."""
    target, now = [], []
    for system in live_systems(session, department_id):
        requests = system_requests(session, system.id)
        current = current_spec(session, system.id)
        pending = [r for r in requests if r.state in OPEN_STATES and r.approved_spec is not None]
        if pending:
            desired = normalize_spec(EMPTY_SPEC) if pending[-1].kind == RequestKind.DECOMMISSION \
                else normalize_spec(pending[-1].approved_spec)
        else:
            desired = current
        target.append(allocation(desired, flavors))
        now.append(allocation(current, flavors))
    target = add_allocations(*target)
    return target, max_allocations(target, add_allocations(*now))


def _cidr(source):
    import ipaddress
    return str(ipaddress.ip_network(source, strict=False))


def _is_uuid(value):
    import uuid
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _exists_fip(cloud, project_id, ip_id):
    try:
        return cloud.get_floating_ip(project_id, ip_id)["id"]
    except errors.PermanentCloudError:
        return None


def created_resources(session, request):
    """Return "kind name (id)" of the resources this request's system holds, for failure reports."""
    rows = session.scalars(select(CloudResource).where(CloudResource.created_by_request_id == request.id,
                                                       CloudResource.deleted.is_(False)))
    return [f"{r.kind} {r.name} ({r.openstack_id})" for r in rows]

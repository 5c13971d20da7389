"""Roll back a failed request: delete, idempotently, every resource it created.

What the request created is found twice: by the ids stored in cloud_resource, and in OpenStack by
the deterministic names (`<prefix>-<department code>-<key>`) and the `govcloud_request` metadata of
servers and volumes — so a resource created just before a crash, whose id was never stored, is
deleted too. A new request loses its whole system; a change loses only what it added, and the
system keeps its previous resources. The department's router and default network stay while
another live system uses them. The job runs in the worker (`provisioning_job.action = rollback`).
"""
import logging
import time

from sqlalchemy import or_, select

from portal.models.requests import CloudResource
from portal.services.resource_requests import current_spec
from portal.specs import EMPTY_SPEC
from portal.services.transitions import transition
from portal.workflow import REQUESTS, RequestKind, RequestState

from . import errors
from .jobs import backoff, close
from .naming import DEPARTMENT_KEYS, department_start, names_system, resource_name, spec_keys
from .runner import JobRunner

log = logging.getLogger(__name__)
# deletion order: what holds a thing goes before it
ORDER = ("floating_ip", "volume", "server", "keypair", "security_group", "subnet", "network", "router")
BUSY_VOLUME = ("creating", "attaching", "detaching", "extending", "reserved", "downloading", "maintenance")
VOLUME_SETTLE_SECONDS = 120
DELETE_ATTEMPTS = 5
DELETE_BACKOFF_SECONDS = 1.0


class RollbackRunner(JobRunner):
    """Carry out a rollback job (the bookkeeping — steps, lease, audit — is the runner's)."""

    def run(self):
        """Delete what the request created, set the quotas to the approved total, close the request."""
        request = self.request
        deleted = []
        if request.state == RequestState.ROLLING_BACK:
            project_id = self.department.openstack_project_id or self.cloud.find_project(
                f"{self.prefix}-{self.department.code.lower()}")
            if project_id and self.cloud.project_exists(project_id):
                self.project_id = project_id
                self.step("rollback:plan")
                targets = self.targets()
                for kind in ORDER:
                    for openstack_id, (name, row, found_by) in sorted(targets.get(kind, {}).items()):
                        self.delete(kind, openstack_id, name, row, found_by)
                        deleted.append(f"{kind} {name} ({openstack_id})")
                self.step("rollback:quotas")
                self.flavors = self.cloud.catalog(refresh=True)["flavors"]
                target, _transitional = self.quotas()
                self.cloud.set_quotas(project_id, target)
                self.audit("cloud.set_quotas", "project", project_id, after=target)
            self.step("rollback:finish")
            request.failure_message = ""
            transition(self.session, self.ctx, REQUESTS, request, "finish_rollback", after={"deleted": deleted})
        return self.succeed()

    # -- what to delete
    def targets(self):
        """Return {kind: {openstack_id: (name, row or None, "id"/"name"/"metadata")}}."""
        request, dept, sid = self.request, self.department, self.system_id
        rows = {}
        stored = select(CloudResource).where(CloudResource.department_id == dept.id,
                                             CloudResource.deleted.is_(False), CloudResource.kind != "project")
        if request.kind == RequestKind.NEW:
            own = or_(CloudResource.system_id == sid, CloudResource.created_by_request_id == request.id)
            keys = None  # every deterministic name of the system
        else:
            desired = EMPTY_SPEC if request.kind == RequestKind.DECOMMISSION else request.approved_spec or EMPTY_SPEC
            before = spec_keys(current_spec(self.session, sid), sid)
            keys = {k: kind for k, kind in spec_keys(desired, sid).items() if k not in before}
            own = CloudResource.created_by_request_id == request.id
        for row in self.session.scalars(stored.where(own)):
            if row.system_id is None or (keys is not None and row.key not in keys):
                continue  # department level (below), or a change's row of a resource it did not add
            rows[row.id] = row
        names = {resource_name(self.prefix, dept, k) for k in keys or ()}
        if request.kind == RequestKind.NEW and not self.other_live_systems():
            # the department's router and default network go with its last system
            for key in DEPARTMENT_KEYS:
                row = self.row(key)
                if row is not None and not row.deleted:
                    rows[row.id] = row
                names.add(resource_name(self.prefix, dept, key))

        targets = {}
        for row in rows.values():
            if not row.openstack_id:  # never got an id: only its name can find it (below)
                row.deleted = True
                continue
            targets.setdefault(row.kind, {})[row.openstack_id] = (row.name, row, "id")
        inventory = self.cloud.govcloud_inventory(self.prefix, self.project_id)
        for item in inventory:
            if item["project_id"] and item["project_id"] != self.project_id:
                continue
            if item["kind"] == "keypair" and not item["name"].startswith(department_start(self.prefix, dept)):
                continue
            if item["request"] == request.number:
                found_by = "metadata"
            elif item["name"] in names or (keys is None and names_system(item["name"], self.prefix, dept, sid)):
                found_by = "name"
            else:
                continue
            if item["id"] not in targets.get(item["kind"], {}):
                targets.setdefault(item["kind"], {})[item["id"]] = (item["name"], None, found_by)
        return targets

    # -- deleting one thing
    def delete(self, kind, openstack_id, name, row, found_by):
        """Delete one resource (absent counts as deleted); mark its row and audit, committed."""
        self.step(f"rollback:{kind}")
        if kind == "subnet":
            router = self.row("router")
            router_id = router.openstack_id if router is not None and not router.deleted else \
                self.cloud.find_router(self.project_id, resource_name(self.prefix, self.department, "router"))
            if router_id:
                self.cloud.remove_router_interface(self.project_id, router_id, openstack_id)
        if kind == "volume":
            self.settle_volume(openstack_id)
        for attempt in range(DELETE_ATTEMPTS):
            try:
                self.cloud.delete(self.project_id, kind, openstack_id)
                break
            except errors.TransientCloudError:  # 409: a port of a server just deleted still holds it
                if attempt + 1 >= DELETE_ATTEMPTS:
                    raise
                time.sleep(backoff(attempt, DELETE_BACKOFF_SECONDS))
        if row is not None:
            row.deleted = True
        for other in self.session.scalars(select(CloudResource).where(
                CloudResource.department_id == self.department.id, CloudResource.openstack_id == openstack_id,
                CloudResource.deleted.is_(False))):
            other.deleted = True
        self.audit("cloud.delete", kind, openstack_id, after={"name": name, "found_by": found_by, "rollback": True})
        self.session.commit()

    def fail(self, job_state, message, detail):
        """The rollback failed or errored (jobs.settle): the request is `failed` again, with the reason."""
        job, request = self.job, self.request
        close(job, job_state, message, f"step {job.current_step}: {detail}")
        if request.state == RequestState.ROLLING_BACK:
            request.failure_message = message
            transition(self.session, self.ctx, REQUESTS, request, "rollback_failed", detail=job.error_detail[:2000],
                       after={"message": message})
        self.session.commit()

    def settle_volume(self, volume_id):
        """Wait while a volume is busy (creating, attaching...): Cinder refuses to delete it then."""
        deadline = time.monotonic() + VOLUME_SETTLE_SECONDS
        while True:
            try:
                status = self.cloud.get_volume(self.project_id, volume_id)["status"]
            except errors.PermanentCloudError:
                return  # gone
            if status not in BUSY_VOLUME:
                return
            if time.monotonic() > deadline:
                raise errors.TransientCloudError(errors.TIMEOUT, f"volume {volume_id} still {status}")
            time.sleep(1.0)

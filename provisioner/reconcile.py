"""The reconciler: the cloud (admin, all projects) compared with what the database says should be there.

Three kinds of findings, each with a suggested action:
- orphan: a resource with govcloud's name or metadata that no live request owns (delete it), or that
  a failed request created without recording it (roll the request back);
- drift: a resource a live, settled system expects that is gone, in ERROR, or of another flavor or
  size (run the provisioning again, or repair by hand);
- quota: a department project whose quota differs from the approved allocation (set it).
Departments with a provisioning job queued or running are skipped (their state is in motion).
The findings of the latest run replace the previous ones; the page reads them from the database.
"""
import time

from sqlalchemy import delete, select

from portal.database import utcnow
from portal.models.accounts import Department
from portal.models.reconcile import ReconcileFinding, ReconcileRun
from portal.models.requests import CloudResource, ProvisioningJob, ResourceRequest
from portal.services.resource_requests import current_spec, live_systems, system_requests, system_status
from portal.specs import expand
from portal.workflow import JobState, RequestState

from . import errors, naming
from .naming import DEPARTMENT_KEYS, department_start, spec_keys, system_named
from .runner import department_quotas

QUOTA_KEYS = ("instances", "cores", "ram", "volumes", "gigabytes", "floating_ips")


def department_of(item, by_project, departments, prefix):
    """Return the department an inventory item belongs to (by project, keypairs by name), or None."""
    if item["project_id"]:
        return by_project.get(item["project_id"])
    best = None
    for dept in departments:
        if item["name"].startswith(department_start(prefix, dept)) and (best is None or len(dept.code) > len(best.code)):
            best = dept
    return best


def system_of(item, department, prefix, requests_by_number):
    """Return the system id an item names (`-R<id>`) or whose request its metadata carries, or None."""
    if item["request"] and item["request"] in requests_by_number:
        return requests_by_number[item["request"]].system_root_id
    if department is None:
        return None
    return system_named(item["name"], prefix, department)


def find_differences(session, cloud, prefix):
    """Compare; return (findings as dicts, codes of the departments skipped)."""
    departments = list(session.scalars(select(Department)))
    inventory = cloud.govcloud_inventory(prefix, projects={d.openstack_project_id for d in departments
                                                                 if d.openstack_project_id})
    by_project = {d.openstack_project_id: d for d in departments if d.openstack_project_id}
    busy = set(session.scalars(select(ProvisioningJob.department_id).where(
        ProvisioningJob.state.in_([JobState.QUEUED, JobState.RUNNING]))))
    requests_by_number = {r.number: r for r in session.scalars(select(ResourceRequest).where(
        ResourceRequest.number.in_({i["request"] for i in inventory if i["request"]})))}
    rows = list(session.scalars(select(CloudResource).where(CloudResource.deleted.is_(False),
                                                            CloudResource.kind != "project")))
    live = {d.id: {s.id for s in live_systems(session, d.id)} for d in departments}
    findings = []

    def finding(kind, dept, problem, suggestion, *, item=None, row=None, request_id=None, detail=None):
        findings.append({"kind": kind, "department_id": dept.id if dept else None, "request_id": request_id,
                         "resource_kind": (item or {}).get("kind") or (row.kind if row is not None else ""),
                         "name": (item or {}).get("name") or (row.name if row is not None else ""),
                         "openstack_id": (item or {}).get("id") or (row.openstack_id if row is not None else ""),
                         "project_id": (item or {}).get("project_id") or (dept.openstack_project_id or "" if dept else ""),
                         "problem": problem, "detail": detail or {}, "suggestion": suggestion})

    # -- orphans: govcloud's resources that no live request owns
    owned = {(r.department_id, r.openstack_id) for r in rows
             if (r.system_id in live[r.department_id]) or (r.system_id is None and live[r.department_id])}
    for item in inventory:
        dept = department_of(item, by_project, departments, prefix)
        if dept is not None and (dept.id in busy or (dept.id, item["id"]) in owned):
            continue
        system_id = system_of(item, dept, prefix, requests_by_number)
        failed = None
        if dept is not None and system_id in live[dept.id]:
            last = system_requests(session, system_id)[-1]
            failed = last if last.state == RequestState.FAILED else None
        if failed is not None:
            finding("orphan", dept, "unrecorded", "rollback", item=item, request_id=failed.id)
        else:
            owner = requests_by_number.get(item["request"])
            finding("orphan", dept, "no_owner", "delete_orphan", item=item, request_id=owner.id if owner else None)

    # -- drift: what settled live systems expect
    index = {(i["kind"], i["id"]): i for i in inventory}
    by_key = {(r.department_id, r.key): r for r in rows}
    for dept in departments:
        if dept.id in busy or not live[dept.id]:
            continue
        expected = {}
        for system_id in sorted(live[dept.id]):
            if system_status(session, system_id) != "live":
                continue  # a request of it is open (failed, approved): no settled target to compare
            spec = current_spec(session, system_id)
            instances, volumes = expand(spec)
            specs = {naming.key("server", system_id, i["name"]): ("flavor", i["flavor"]) for i in instances}
            specs.update({naming.key("volume", system_id, v["name"]): ("size", v["size_gb"]) for v in volumes})
            for key, kind in spec_keys(spec, system_id).items():
                expected[key] = (kind, system_id, specs.get(key))
            if instances or volumes:
                expected.setdefault("router", ("router", None, None))
                if not spec["network"]["cidr"]:
                    expected.setdefault("network:default", ("network", None, None))
                    expected.setdefault("subnet:default", ("subnet", None, None))
        for key in DEPARTMENT_KEYS:  # recorded department-level resources must exist while systems are live
            if (dept.id, key) in by_key and key not in expected:
                expected[key] = (DEPARTMENT_KEYS[key], None, None)
        for key, (kind, system_id, want) in sorted(expected.items()):
            row = by_key.get((dept.id, key))
            item = index.get((kind, row.openstack_id)) if row is not None else None
            detail = {"key": key}
            if item is None:
                finding("drift", dept, "missing", "reprovision", row=row, request_id=system_id,
                        detail={**detail, "recorded": row is not None})
                continue
            status = (item["status"] or "").lower()
            if (kind == "server" and status == "error") or (kind == "volume" and status.startswith("error")):
                finding("drift", dept, "error", "repair", item=item, request_id=system_id,
                        detail={**detail, "status": item["status"]})
            elif want and want[0] == "flavor" and item["flavor"] != want[1]:
                finding("drift", dept, "flavor", "reprovision", item=item, request_id=system_id,
                        detail={**detail, "expected": want[1], "actual": item["flavor"]})
            elif want and want[0] == "size" and item["size"] != want[1]:
                finding("drift", dept, "size", "reprovision", item=item, request_id=system_id,
                        detail={**detail, "expected": want[1], "actual": item["size"]})

    # -- quotas: each department project against its approved allocation
    flavors = None
    for dept in departments:
        if dept.id in busy or not dept.openstack_project_id or not cloud.project_exists(dept.openstack_project_id):
            continue
        if flavors is None:
            flavors = cloud.catalog(refresh=True)["flavors"]
        target, transitional = department_quotas(session, dept.id, flavors)
        actual = cloud.get_quotas(dept.openstack_project_id)
        actual = {k: actual[k] for k in QUOTA_KEYS}
        target = {k: target[k] for k in QUOTA_KEYS}
        failed = any(r.state == RequestState.FAILED for s in live[dept.id] for r in system_requests(session, s))
        if actual != target and not (failed and actual == {k: transitional[k] for k in QUOTA_KEYS}):
            finding("quota", dept, "quota", "fix_quota", detail={
                "expected": target, "actual": actual,
                "differs": sorted(k for k in QUOTA_KEYS if actual[k] != target[k])})
    return findings, sorted(d.code for d in departments if d.id in busy)


def reconcile(session, cloud, prefix):
    """Run the reconciler once: store the run and replace the findings; return the run.

    A cloud that cannot be listed is recorded as the run's error; the previous findings stay.
    """
    started = time.monotonic()
    run = ReconcileRun(started_at=utcnow(), findings=0, skipped=[], error="")
    try:
        findings, skipped = find_differences(session, cloud, prefix)
    except errors.ProvisioningError as exc:
        session.rollback()
        run.error = str(exc)[:2000]
        run.duration_seconds = time.monotonic() - started
        session.add(run)
        session.commit()
        return run
    session.execute(delete(ReconcileFinding))
    run.findings = len(findings)
    run.skipped = skipped
    run.duration_seconds = time.monotonic() - started
    session.add(run)
    session.flush()
    session.add_all(ReconcileFinding(run_id=run.id, **f) for f in findings)
    session.commit()
    return run

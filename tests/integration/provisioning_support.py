"""Shared pieces of the provisioning robustness tests (crash, faults, several workers): departments and
approved requests made through the service layer, worker processes, and the count of what exists in
OpenStack (admin, all projects) against what the database says govcloud owns."""
import os
import subprocess
import sys
import time
from collections import Counter

from sqlalchemy import select

from tests.documents import attach_required
from tests.integration.conftest import clouds_yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONTACTS = dict(security_officer_name="王安全", security_officer_phone="0571-1", it_lead_name="李信息",
                it_lead_phone="138", emergency_contact_name="赵应急", emergency_contact_phone="139")
# the CloudResource kinds counted in OpenStack
KINDS = ("project", "router", "network", "subnet", "security_group", "keypair", "server", "volume", "floating_ip")


def make_department(app, code, name):
    """Add a department with one department user (username u-<code>); return (department id, user id)."""
    from portal.extensions import db
    from portal.models.accounts import Department, User
    with app.app_context():
        dept = Department(name=name, code=code, level="city", **CONTACTS)
        db.session.add(dept)
        db.session.flush()
        from tests.conftest import PASSWORD
        user = User(username=f"u-{code.lower()}", role="department", department_id=dept.id,
                    password_hash=app.extensions["govcloud_passwords"].hash(PASSWORD))
        db.session.add(user)
        db.session.commit()
        return dept.id, user.id


def approve_new(app, user_id, reviewer_id, spec, system_name="容错演练系统"):
    """Create, submit and approve a new request of user's department; return its id (the system id)."""
    from portal.extensions import db
    from portal.models.accounts import User
    from portal.services import resource_requests, reviews
    from portal.services.audit import RequestInfo
    from portal.services.cloud_catalog import catalog
    with app.app_context():
        session = db.session
        user, bureau = session.get(User, user_id), session.get(User, reviewer_id)
        cat = catalog(app.config)
        req = resource_requests.create_request(session, RequestInfo(actor=user), {
            "system_name": system_name, "purpose": "演练", "security_level": 2}, spec)
        attach_required(session, RequestInfo(actor=user), req.id, app.instance_path)
        resource_requests.submit_request(session, RequestInfo(actor=user), req.id, cat,
                                         gate=app.config["PROJECT_GATE"])
        reviews.approve_request(session, RequestInfo(actor=bureau), req.id, cat)
        return req.id


def approve_change(app, user_id, reviewer_id, system_id, spec=None):
    """Open, submit and approve a change (spec given) or a decommission (spec None) of a live system."""
    from portal.extensions import db
    from portal.models.accounts import User
    from portal.services import resource_requests, reviews
    from portal.services.audit import RequestInfo
    from portal.services.cloud_catalog import catalog
    from portal.workflow import RequestKind
    with app.app_context():
        session = db.session
        user, bureau = session.get(User, user_id), session.get(User, reviewer_id)
        ctx = RequestInfo(actor=user)
        cat = catalog(app.config)
        kind = RequestKind.DECOMMISSION if spec is None else RequestKind.CHANGE
        # the guard of 第十条(二) (a decommission, or a change that removes servers or volumes): the
        # data was migrated (a note) or backed up
        data = {"reason": "演练", "backup_confirmed": True, "migration_note": "演练数据无需保留，已确认"}
        req = resource_requests.start_change(session, ctx, system_id, kind, data)
        if spec is not None:
            resource_requests.update_request(session, ctx, req.id, {"system_name": req.system_name,
                                                                    "purpose": req.purpose, **data}, spec)
        resource_requests.submit_request(session, ctx, req.id, cat, gate=app.config["PROJECT_GATE"])
        reviews.approve_request(session, RequestInfo(actor=bureau), req.id, cat)
        return req.id


def worker_env(app, prefix, **extra):
    """The environment of a worker process (production settings) on the test's database and cloud."""
    extra.setdefault("GOVCLOUD_CLOUDS_YAML", str(clouds_yaml()))
    return dict(os.environ, GOVCLOUD_DATABASE_URL=app.config["DATABASE_URL"], GOVCLOUD_SECRET_KEY="worker-test",
                GOVCLOUD_CLOUD_NAME_PREFIX=prefix, GOVCLOUD_INSTANCE_PATH=app.instance_path, **extra)


def run_workers_until_settled(app, prefix, request_ids, timeout=300, env=None):
    """Run `provisioner.worker --once` again and again until none of request_ids has a queued or
    running job (a transient failure requeues a job for later); return the workers' stderr."""
    from portal.extensions import db
    from portal.models.requests import ProvisioningJob
    deadline = time.monotonic() + timeout
    logs = []
    while True:
        proc = subprocess.run([sys.executable, "-m", "provisioner.worker", "--once"], cwd=REPO,
                              env=env or worker_env(app, prefix), capture_output=True, text=True, timeout=timeout)
        logs.append(proc.stderr)
        assert proc.returncode == 0, proc.stderr[-4000:]
        with app.app_context():
            db.session.expire_all()
            open_jobs = db.session.scalars(select(ProvisioningJob).where(
                ProvisioningJob.request_id.in_(request_ids),
                ProvisioningJob.state.in_(["queued", "running"]))).all()
        if not open_jobs:
            return "".join(logs)
        assert time.monotonic() < deadline, f"jobs still open: {[(j.id, j.state, j.error_message) for j in open_jobs]}"
        time.sleep(1)


def request_states(app, request_ids):
    from portal.extensions import db
    from portal.models.requests import ResourceRequest
    with app.app_context():
        db.session.expire_all()
        return {rid: (db.session.get(ResourceRequest, rid).state, db.session.get(ResourceRequest, rid).failure_message)
                for rid in request_ids}


def owned_resources(app, department_ids):
    """Return {kind: sorted [(name, openstack id)]} of the live resources govcloud's database holds."""
    from portal.extensions import db
    from portal.models.requests import CloudResource
    with app.app_context():
        rows = db.session.scalars(select(CloudResource).where(CloudResource.department_id.in_(department_ids),
                                                              CloudResource.deleted.is_(False))).all()
        out = {kind: [] for kind in KINDS}
        for row in rows:
            out[row.kind].append((row.name, row.openstack_id))
    return {kind: sorted(items) for kind, items in out.items()}


def cloud_inventory(cloud, prefix):
    """Return {kind: sorted [(name, id)]} of everything in OpenStack (admin, all projects) that is named
    prefix-* or lives in a prefix-* project, whatever its name (the projects' "default" security
    groups aside)."""
    projects = sorted((p.name, p.id) for p in cloud.identity.projects() if p.name.startswith(prefix + "-"))
    project_ids = {pid for _, pid in projects}

    def ours(items, attr="name"):
        return sorted((getattr(i, attr) or "", i.id) for i in items
                      if (getattr(i, attr) or "").startswith(prefix + "-")
                      or (i.project_id in project_ids and getattr(i, attr) != "default"))
    return {
        "project": projects,
        "router": ours(cloud.network.routers()),
        "network": ours(cloud.network.networks()),
        "subnet": ours(cloud.network.subnets()),
        "security_group": ours(cloud.network.security_groups()),
        "keypair": sorted((k.name, k.name) for k in cloud.compute.keypairs() if k.name.startswith(prefix + "-")),
        "server": ours(cloud.compute.servers(all_projects=True)),
        "volume": ours(cloud.block_storage.volumes(all_projects=True)),
        "floating_ip": ours(cloud.network.ips(), "description"),
    }


def stray_servers(cloud, prefix, request_numbers):
    """Servers in prefix-* projects whose govcloud metadata names no request of this test."""
    project_ids = {p.id for p in cloud.identity.projects() if p.name.startswith(prefix + "-")}
    return [(s.name, s.metadata) for s in cloud.compute.servers(all_projects=True)
            if s.project_id in project_ids and (s.metadata or {}).get("govcloud_request") not in request_numbers]


def assert_cloud_matches(app, cloud, prefix, department_ids):
    """Each resource the database holds exists once in OpenStack with the stored id; nothing else does."""
    owned = owned_resources(app, department_ids)
    found = cloud_inventory(cloud, prefix)
    for kind in KINDS:
        names = Counter(name for name, _ in found[kind])
        duplicated = {n: c for n, c in names.items() if c > 1}
        assert not duplicated, f"{kind} created more than once: {duplicated}"
        assert found[kind] == owned[kind], f"{kind}: OpenStack {found[kind]} != database {owned[kind]}"
    return owned


def audit_creations(app, department_ids):
    """Return Counter(openstack id -> number of cloud.create/cloud.adopt events) of the departments."""
    from portal.extensions import db
    from portal.models.audit import AuditEvent
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.department_id.in_(department_ids),
            AuditEvent.action.in_(["cloud.create", "cloud.adopt"]),
            AuditEvent.object_type.in_(KINDS))).all()
        return Counter(e.object_id for e in events)


def assert_audited_once(app, department_ids):
    """Every resource the departments ever held (deleted ones too) has one create-or-adopt event."""
    from portal.extensions import db
    from portal.models.requests import CloudResource
    counts = audit_creations(app, department_ids)
    with app.app_context():
        ids = {r.openstack_id for r in db.session.scalars(select(CloudResource).where(
            CloudResource.department_id.in_(department_ids)))}
    assert set(counts) == ids, f"audited {sorted(set(counts) - ids)} not stored; stored {sorted(ids - set(counts))} " \
                               "not audited"
    assert all(c == 1 for c in counts.values()), {k: c for k, c in counts.items() if c != 1}


def purge_fast(cloud, prefix):
    """Delete what the prefix-* projects hold, servers and volumes all at once rather than one by one
    (cleanup of the many-request tests); test_requests_cloud_flow.purge_prefix then removes the rest."""
    from tests.integration.test_requests_cloud_flow import purge_prefix
    project_ids = [p.id for p in cloud.identity.projects() if p.name.startswith(prefix + "-")]
    for pid in project_ids:
        for ip in cloud.network.ips(project_id=pid):
            cloud.network.delete_ip(ip)
    servers = [s for pid in project_ids for s in cloud.compute.servers(all_projects=True, project_id=pid)]
    for server in servers:
        cloud.compute.delete_server(server, ignore_missing=True)
    for server in servers:
        cloud.compute.wait_for_delete(server, wait=180)
    volumes = [v for pid in project_ids for v in cloud.block_storage.volumes(all_projects=True, project_id=pid)]
    for volume in volumes:
        cloud.block_storage.wait_for_status(volume, status="available", failures=["error"], wait=180)
        cloud.block_storage.delete_volume(volume, ignore_missing=True)
    for volume in volumes:
        cloud.block_storage.wait_for_delete(volume, wait=180)
    purge_prefix(cloud, prefix)


def run_workers_until_done(app, tmp_path, cleanup, env, timeout, *, args=(), count=2, alive=False):
    """Start count `provisioner.worker` processes (logs in tmp_path/worker<n>.log), wait until no job is
    queued or running (alive: every worker must still run meanwhile), stop them with SIGTERM; return
    their exit codes."""
    import signal
    from portal.extensions import db
    from portal.models.requests import ProvisioningJob
    workers = []
    for n in range(count):
        with open(tmp_path / f"worker{n}.log", "w") as log:
            proc = subprocess.Popen([sys.executable, "-m", "provisioner.worker", "--poll", "0.2", *args], cwd=REPO,
                                    env=env, stdout=subprocess.DEVNULL, stderr=log)
        cleanup(lambda p=proc: p.poll() is None and p.kill())
        workers.append(proc)
    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            db.session.expire_all()
            open_jobs = db.session.scalars(select(ProvisioningJob.id).where(
                ProvisioningJob.state.in_(["queued", "running"]))).all()
        if not open_jobs:
            break
        assert time.monotonic() < deadline, f"jobs still open: {open_jobs}"
        assert not alive or all(w.poll() is None for w in workers), "a worker exited"
        time.sleep(1)
    for w in workers:
        os.kill(w.pid, signal.SIGTERM)
    return [w.wait(timeout=60) for w in workers]


"""Backup runs: what a policy covers, the hooks, the snapshots and volume backups, the waiting,
retries and the incident, retention.

A run is durable work in backup_run: the due-runner queues runs of due policies and executes
queued runs one attempt at a time. An attempt that fails removes what it created and goes back to
the queue (bounded by BACKUP_MAX_ATTEMPTS); the last failure opens an incident for the vendor.
Every cloud call goes through provisioner.cloud; every step is audited.
"""
import logging
import math
import time
import traceback
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from portal.models.backups import (ArtifactKind, ArtifactStatus, BackupArtifact, BackupExtraction, BackupKinds,
                                   BackupPolicy, BackupRun, BackupTrigger, DepartmentSshKey, ExtractionState, RUNS,
                                   RestoreJob, RestoreState, RunState)
from portal.database import utcnow
from portal.errors import ValidationFailed
from portal.models.accounts import Department
from portal.models.operations import Incident
from portal.models.requests import CloudResource, ResourceRequest
from portal.services.audit import RequestInfo, record_event
from portal.services.incidents import ACTIVE as INCIDENT_ACTIVE
from portal.services.incidents import IncidentSource, open_incident
from portal.settings import DEFAULTS
from portal.text import _l
from provisioner.errors import ProvisioningError
from provisioner.ssh import SSHError, run_command

from . import errors
from .policies import policy_for_system
from .schedule import next_fire

log = logging.getLogger(__name__)
SYSTEM_CTX = RequestInfo(correlation_id="scheduler:run_due_backups")
GiB = 1024 ** 3
POLL_SECONDS = 1.0
BACKUP_TAG = "govcloud-backup"
def setting(settings, key):
    """Return a setting from settings (the process's, or a partial mapping in tests), else its default."""
    value = (settings or {}).get(key)
    return DEFAULTS.get(key) if value in (None, "") else value


def _kinds(kinds):
    return {ArtifactKind.SNAPSHOT, ArtifactKind.VOLUME} if kinds == BackupKinds.BOTH else {ArtifactKind(kinds)}


# -- queueing ---------------------------------------------------------------------------------
def queue_run(session, ctx, policy, trigger=BackupTrigger.MANUAL, requested_by=None, now=None):
    """Queue a run of policy (executed by the next pass of the due-runner); audited, committed."""
    now = now or utcnow()
    run = BackupRun(policy_id=policy.id, department_id=policy.department_id, system_id=policy.system_id,
                    trigger=trigger, kinds=policy.kinds, available_at=now, created_at=now,
                    requested_by_id=getattr(requested_by, "id", None))
    session.add(run)
    session.flush()
    record_event(session, ctx, "backup.run.queue", object_type="backup_run", object_id=run.id,
                 department_id=run.department_id, after={"policy": policy.id, "trigger": trigger})
    session.commit()
    return run


def request_final_backup(session, ctx, system_id, requested_by=None, now=None):
    """Queue the final backup of a system before its decommission (第十条(二)): servers and volumes,
    with the hooks of the policy covering the system, if any. Final backups are never pruned."""
    now = now or utcnow()
    system = session.get(ResourceRequest, system_id)
    if system is None:
        raise ValidationFailed(_l("Choose a system of the department."))
    root = system.system_root_id
    policy = policy_for_system(session, root)
    run = BackupRun(policy_id=policy.id if policy else None, department_id=system.department_id, system_id=root,
                    trigger=BackupTrigger.FINAL, kinds=BackupKinds.BOTH, available_at=now, created_at=now,
                    requested_by_id=getattr(requested_by, "id", None))
    session.add(run)
    session.flush()
    record_event(session, ctx, "backup.run.queue", object_type="backup_run", object_id=run.id,
                 department_id=run.department_id, after={"system": root, "trigger": BackupTrigger.FINAL})
    session.commit()
    return run


def final_backup_succeeded(session, system_id, since=None):
    """Return the newest succeeded final backup run of the system (after `since`), or None."""
    stmt = select(BackupRun).where(BackupRun.system_id == system_id, BackupRun.trigger == BackupTrigger.FINAL,
                                   BackupRun.state == RunState.SUCCEEDED)
    if since is not None:
        stmt = stmt.where(BackupRun.finished_at >= since)
    return session.scalars(stmt.order_by(BackupRun.finished_at.desc(), BackupRun.id.desc())).first()


# -- what a run covers --------------------------------------------------------------------------
def covered_systems(session, run):
    """Return the system ids a run covers: its system, or (department default policy) every
    system of the department with resources and without a policy of its own."""
    if run.system_id is not None:
        return [run.system_id]
    own = set(session.scalars(select(BackupPolicy.system_id).where(
        BackupPolicy.department_id == run.department_id, BackupPolicy.system_id.is_not(None))))
    systems = set(session.scalars(select(CloudResource.system_id).where(
        CloudResource.department_id == run.department_id, CloudResource.system_id.is_not(None),
        CloudResource.kind.in_(("server", "volume")), CloudResource.deleted.is_(False))))
    return sorted(systems - own)


def _resources(session, run, kind):
    systems = covered_systems(session, run)
    if not systems:
        return []
    return list(session.scalars(select(CloudResource).where(
        CloudResource.department_id == run.department_id, CloudResource.system_id.in_(systems),
        CloudResource.kind == kind, CloudResource.deleted.is_(False), CloudResource.openstack_id != "")
        .order_by(CloudResource.key)))


def server_address(server_row):
    """Return the address to reach a server over SSH: its floating IP, else its first fixed one."""
    attrs = server_row.attributes or {}
    addresses = attrs.get("addresses") or []
    floating = [a["addr"] for a in addresses if a.get("type") == "floating" and a.get("addr")]
    fixed = [a["addr"] for a in addresses if a.get("addr")]
    return (floating or fixed or [""])[0]


def image_tags(labels):
    """Return the Glance tags of a snapshot: govcloud-backup and key=value of policy, system, department."""
    return [BACKUP_TAG] + [f"{k}={v}" for k, v in labels.items() if k != "govcloud_run"]


# -- hooks --------------------------------------------------------------------------------------
@dataclass
class HookTarget:
    host: str
    port: int
    username: str
    host_key: str
    key_pem: str
    key_id: int | None = None
    key_fingerprint: str = ""


def hook_target(session, policy, server_row):
    """Return where and how to run the policy's commands for a server (HookFailed when unusable).

    The key is loaded from its department_ssh_key row and must be a live key of the department
    that owns the policy, the server and the system (HookRefused otherwise: a row forged past the
    portal's checks still runs nothing on another department's hosts)."""
    if not policy.ssh_key_id:
        raise errors.HookFailed(errors.SSH_NOT_CONFIGURED, f"server {server_row.key}: no key")
    key = session.get(DepartmentSshKey, policy.ssh_key_id)
    system = session.get(ResourceRequest, policy.system_id) if policy.system_id else None
    departments = {policy.department_id, server_row.department_id} | ({system.department_id} if system else set())
    if key is None or departments != {key.department_id}:
        raise errors.HookRefused(errors.KEY_NOT_OF_DEPARTMENT,
                                 f"key {policy.ssh_key_id} of department {getattr(key, 'department_id', None)}, "
                                 f"policy/server/system of {sorted(departments)}")
    if key.revoked_at is not None:
        raise errors.HookRefused(errors.KEY_REVOKED, f"key {key.id} ({key.fingerprint}) revoked "
                                                     f"{key.revoked_at.isoformat()}")
    host = policy.ssh_host or server_address(server_row)
    if not (host and policy.ssh_username and policy.ssh_host_key):
        raise errors.HookFailed(errors.SSH_NOT_CONFIGURED, f"server {server_row.key}: host={host!r}")
    return HookTarget(host, policy.ssh_port or 22, policy.ssh_username, policy.ssh_host_key,
                      key.private_key_sealed, key.id, key.fingerprint)


def run_hook(target, command, phase, timeout, on_done=None):
    """Run one hook command; return a log line; raise HookFailed on SSH error or exit status != 0.
    on_done(exit_status or None, detail) is called once the command ran or could not (the audit)."""
    message = errors.PRE_HOOK_FAILED if phase == "pre" else errors.POST_HOOK_FAILED
    on_done = on_done or (lambda status, detail: None)
    try:
        result = run_command(target.host, target.port, target.username, target.key_pem, target.host_key,
                             command, timeout=timeout)
    except SSHError as exc:
        on_done(None, str(exc))
        raise errors.HookFailed(message, f"{phase}-hook on {target.host}: {exc}") from None
    on_done(result.exit_status, "")
    line = (f"{utcnow().isoformat()} {phase}-hook {target.username}@{target.host}:{target.port} "
            f"exit {result.exit_status} in {result.seconds:.2f}s")
    if result.exit_status != 0:
        raise errors.HookFailed(message, f"{line}: {result.stderr.strip()[-500:] or result.stdout.strip()[-500:]}")
    return line


# -- one attempt --------------------------------------------------------------------------------
class Attempt:
    """One attempt of a run: creates artifacts (each stored and committed right after its create
    call), waits for them, and on failure removes what it made."""

    def __init__(self, session, cloud, settings, run, now):
        self.session = session
        self.cloud = cloud
        self.settings = settings
        self.run = run
        self.policy = session.get(BackupPolicy, run.policy_id) if run.policy_id else None
        self.department = session.get(Department, run.department_id)
        self.project_id = self.department.openstack_project_id
        self.started = now
        timeout = self.policy.timeout_seconds if self.policy else 3600
        self.deadline = time.monotonic() + timeout
        self.prefix = setting(settings, "CLOUD_NAME_PREFIX")
        self.created = []  # artifacts of this attempt
        self.log = []

    # naming and tagging
    def labels(self, system_id):
        return {"govcloud_backup_policy": str(self.run.policy_id or "final"),
                "govcloud_system": str(system_id or ""), "govcloud_department": self.department.code,
                "govcloud_run": str(self.run.id)}

    def name(self, source_row):
        stamp = self.started.strftime("%Y%m%d%H%M%S")
        short = source_row.key.split(":", 2)[-1].replace(":", "-")
        return f"{self.prefix}-bk-{self.department.code.lower()}-r{self.run.id}-{short}-{stamp}"[:250]

    def record(self, kind, source_row, openstack_id, name, size_gb=0, source_info=None):
        artifact = BackupArtifact(run_id=self.run.id, policy_id=self.run.policy_id,
                                  department_id=self.run.department_id, system_id=source_row.system_id,
                                  kind=kind, openstack_id=openstack_id, name=name,
                                  source_openstack_id=source_row.openstack_id, source_key=source_row.key,
                                  source_info=source_info or {}, size_gb=size_gb, created_at=utcnow())
        self.session.add(artifact)
        self.session.commit()
        self.created.append(artifact)
        return artifact

    # cloud steps
    def snapshot(self, server_row):
        source = self.cloud.server_backup_source(self.project_id, server_row.openstack_id)
        if source is None:
            raise errors.BackupError(errors.BACKUP_ERROR, f"server {server_row.openstack_id} not found")
        name = self.name(server_row)
        labels = self.labels(server_row.system_id)
        image_id = self.cloud.create_server_snapshot(self.project_id, server_row.openstack_id, name,
                                                     labels)
        source.pop("status", None)
        source.pop("task_state", None)
        return self.record(ArtifactKind.SNAPSHOT, server_row, image_id, name, source_info=source)

    def volume_backup(self, volume_row):
        view = self.cloud.get_volume(self.project_id, volume_row.openstack_id)
        name = self.name(volume_row)
        labels = self.labels(volume_row.system_id)
        description = (f"govcloud backup: policy {labels['govcloud_backup_policy']}, system "
                       f"{labels['govcloud_system']}, department {labels['govcloud_department']}")
        backup_id = self.cloud.create_volume_backup(self.project_id, volume_row.openstack_id, name,
                                                    description, labels)
        return self.record(ArtifactKind.VOLUME, volume_row, backup_id, name, size_gb=view["size"],
                           source_info={"size_gb": view["size"], "attached_to": view["attached_to"]})

    def wait(self, artifacts):
        """Poll until every artifact is available; raise BackupError on error or on the deadline."""
        pending = [a for a in artifacts if a.status == ArtifactStatus.CREATING]
        while pending:
            for artifact in list(pending):
                if artifact.kind == ArtifactKind.SNAPSHOT:
                    view = self.cloud.get_image(self.project_id, artifact.openstack_id)
                    status = (view or {}).get("status", "deleted")
                    done, failed = status == "active", status in ("killed", "deleted", "deactivated")
                    size_bytes = (view or {}).get("size")
                else:
                    view = self.cloud.get_volume_backup(self.project_id, artifact.openstack_id)
                    status = (view or {}).get("status", "deleted")
                    done, failed = status == "available", status in ("error", "deleted")
                    size_bytes = None
                if failed:
                    artifact.status = ArtifactStatus.ERROR
                    self.session.commit()
                    reason = (view or {}).get("fail_reason", "")
                    raise errors.BackupError(errors.BACKUP_ERROR,
                                             f"{artifact.kind} {artifact.openstack_id} {status} {reason}".strip())
                if done:
                    if artifact.kind == ArtifactKind.SNAPSHOT:
                        self.cloud.tag_image(self.project_id, artifact.openstack_id,
                                             image_tags(self.labels(artifact.system_id)))
                    artifact.status = ArtifactStatus.AVAILABLE
                    artifact.completed_at = utcnow()
                    if size_bytes is not None:
                        artifact.size_bytes = size_bytes
                        artifact.size_gb = max(artifact.size_gb, math.ceil(size_bytes / GiB))
                    self.session.commit()
                    pending.remove(artifact)
            if pending:
                if time.monotonic() > self.deadline:
                    raise errors.BackupError(errors.BACKUP_TIMEOUT,
                                             ", ".join(f"{a.kind} {a.openstack_id}" for a in pending))
                time.sleep(POLL_SECONDS)

    def _audit(self, action, server_row, outcome="success", detail="", **after):
        record_event(self.session, SYSTEM_CTX, action, object_type="backup_run", object_id=self.run.id,
                     department_id=self.run.department_id, outcome=outcome, detail=detail[:2000],
                     after={"policy": self.policy.id, "server": server_row.key, **after})

    def approval(self):
        """What the hooks run under (the audit): who approved which configuration, when."""
        policy = self.policy
        return {"approved_by": policy.hooks_approved_by_id, "approved_hash": policy.hooks_approved_hash,
                "approved_at": policy.hooks_approved_at.isoformat() if policy.hooks_approved_at else None}

    def hooked(self, server_row, body):
        """Run body between the policy's pre- and post-hook on server_row; the post-hook runs
        whatever happened after the pre-hook was tried (a failed freeze may be half done).

        第十八条: the hooks run only while their configuration is the one the department's
        administrator approved; otherwise the backup runs without them (logged and audited)."""
        policy = self.policy
        if policy is None or not policy.has_hooks:
            return body()
        if not policy.hooks_approved:
            self.log.append(f"{utcnow().isoformat()} hooks not approved by the department's administrator: "
                            f"the backup of {server_row.key} ran without them")
            self._audit("backup.hooks.not_approved", server_row, outcome="denied",
                        detail="the hook configuration is not the one the department's administrator approved",
                        hash=policy.hook_config_hash(), **self.approval())
            return body()
        try:
            target = hook_target(self.session, policy, server_row)
        except errors.HookRefused as exc:
            self.log.append(f"{utcnow().isoformat()} hooks refused: {exc.detail}")
            self._audit("backup.hook.refused", server_row, outcome="denied", detail=exc.detail, **self.approval())
            raise
        timeout = float(setting(self.settings, "BACKUP_HOOK_TIMEOUT_SECONDS"))

        def audited(phase):
            def done(status, detail):
                self._audit("backup.hook.run", server_row, outcome="success" if status == 0 else "failure",
                            detail=detail, phase=phase, exit_status=status,
                            endpoint=f"{target.username}@{target.host}:{target.port}",
                            key=target.key_id, key_fingerprint=target.key_fingerprint, **self.approval())
            return done

        failure = None
        try:
            if policy.hook_pre.strip():
                self.log.append(run_hook(target, policy.hook_pre, "pre", timeout, audited("pre")))
            body()
        except Exception as exc:  # noqa: BLE001  (the post-hook must run; the error is raised below)
            failure = exc
        try:
            if policy.hook_post.strip():
                self.log.append(run_hook(target, policy.hook_post, "post", timeout, audited("post")))
        except errors.HookFailed as exc:
            if failure is None:
                failure = exc
            else:
                self.log.append(f"{utcnow().isoformat()} post-hook failed too: {exc.detail}")
        if failure is not None:
            if isinstance(failure, errors.HookFailed):
                self.log.append(f"{utcnow().isoformat()} {failure.detail}")
            raise failure
        return None

    def execute(self):
        """Back up every server and volume the run covers; return the artifacts."""
        if not self.project_id:
            raise errors.NothingToBackUp(errors.NOTHING_TO_BACK_UP, "the department has no project")
        kinds = _kinds(self.run.kinds)
        servers = _resources(self.session, self.run, "server")
        volumes = _resources(self.session, self.run, "volume") if ArtifactKind.VOLUME in kinds else []
        by_server = {}
        loose = []
        for volume in volumes:
            attached = self.cloud.get_volume(self.project_id, volume.openstack_id)["attached_to"]
            server = next((s for s in servers if s.openstack_id in attached), None)
            if server is None:
                loose.append(volume)
            else:
                by_server.setdefault(server.key, []).append(volume)
        work = [s for s in servers if ArtifactKind.SNAPSHOT in kinds or by_server.get(s.key)]
        if not work and not loose:
            raise errors.NothingToBackUp(errors.NOTHING_TO_BACK_UP, f"systems {covered_systems(self.session, self.run)}")
        for server in work:
            def body(server=server):
                made = []
                if ArtifactKind.SNAPSHOT in kinds:
                    made.append(self.snapshot(server))
                for volume in by_server.get(server.key, []):
                    made.append(self.volume_backup(volume))
                self.wait(made)
            self.hooked(server, body)
        made = [self.volume_backup(volume) for volume in loose]
        self.wait(made)
        return self.created

    def discard(self):
        """Remove what this attempt created (failed attempts leave nothing behind)."""
        for artifact in self.created:
            try:
                delete_artifact(self.cloud, self.project_id, artifact)
            except ProvisioningError as exc:
                log.warning("run=%s could not remove %s %s: %s", self.run.id, artifact.kind,
                            artifact.openstack_id, exc)
                continue
            artifact.status = ArtifactStatus.DELETED
            artifact.deleted_at = utcnow()
        self.session.commit()


def delete_artifact(cloud, project_id, artifact):
    """Delete an artifact's image or Cinder backup in the cloud (absent counts as deleted)."""
    delete_backup(cloud, project_id, artifact.kind, artifact.openstack_id)


def delete_backup(cloud, project_id, kind, openstack_id):
    """Delete a snapshot image or a Cinder backup; a backup still being made is waited for first."""
    if not openstack_id:
        return
    if kind == ArtifactKind.SNAPSHOT:
        cloud.delete_image(project_id, openstack_id)
        return
    view = cloud.get_volume_backup(project_id, openstack_id)
    if view is not None and view["status"] == "creating":
        # a backup still being made cannot be deleted: wait for it briefly
        deadline = time.monotonic() + cloud.wait_seconds
        while view is not None and view["status"] == "creating" and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            view = cloud.get_volume_backup(project_id, openstack_id)
    cloud.delete_volume_backup(project_id, openstack_id)


# -- running, retrying, failing -------------------------------------------------------------------
def _claim(session, run, now):
    """Move a queued run to running (compare-and-set: two runners never take the same run)."""
    claimed = session.execute(update(BackupRun).where(BackupRun.id == run.id, BackupRun.state == RunState.QUEUED)
                              .values(state=RunState.RUNNING, attempts=BackupRun.attempts + 1,
                                      started_at=now)).rowcount
    session.commit()
    if claimed:
        session.refresh(run)
    return bool(claimed)


def system_label(session, system_id):
    """Return the name of a system for incident titles (a default policy covers all systems)."""
    if system_id is None:
        return str(_l("All systems of the department"))
    system = session.get(ResourceRequest, system_id)
    return system.system_name if system else str(system_id)


def _open_incident(session, settings, run, policy, detail, now):
    """Open an incident for the vendor about a failed run, or add to the one still open for the policy."""
    previous = session.scalar(select(Incident).join(BackupRun, BackupRun.incident_id == Incident.id).where(
        BackupRun.policy_id == run.policy_id, BackupRun.department_id == run.department_id,
        Incident.state.in_(INCIDENT_ACTIVE)).limit(1)) if run.policy_id else None
    if previous is not None:
        from portal.models.operations import IncidentEvent
        previous.events.append(IncidentEvent(kind="detected", at=now, note=detail[:2000]))
        return previous
    name = f"备份 {policy.name}" if policy else "最终备份"
    source = IncidentSource(department_id=run.department_id, system_name=system_label(session, run.system_id), name=name,
                            kind="backup")
    return open_incident(session, SYSTEM_CTX, settings or {}, source, started_at=run.started_at or now,
                         detected_at=now, detail=detail[:2000])


def execute_run(session, cloud, settings, run, now=None):
    """Execute one attempt of a queued run; return the run (succeeded, queued again, or failed)."""
    now = now or utcnow()
    if not _claim(session, run, now):
        return run
    policy = session.get(BackupPolicy, run.policy_id) if run.policy_id else None
    record_event(session, SYSTEM_CTX, "backup.run.start", object_type="backup_run", object_id=run.id,
                 department_id=run.department_id, after={"attempt": run.attempts, "trigger": run.trigger,
                                                         "policy": run.policy_id, "system": run.system_id})
    session.commit()
    log.info("backup run=%s policy=%s attempt=%s start", run.id, run.policy_id, run.attempts)
    attempt = Attempt(session, cloud, settings, run, now)
    started = time.monotonic()
    failure = None
    try:
        artifacts = attempt.execute()
    except errors.BackupError as exc:
        failure = exc
    except ProvisioningError as exc:
        failure = errors.from_cloud(exc, "backup")
    except Exception:  # a bug: recorded for the vendor, the run does not hang in "running"
        session.rollback()
        failure = errors.BackupError(errors.RUN_CRASHED, traceback.format_exc())
        failure.transient = False
    finished = utcnow()
    run.hook_log = "\n".join(filter(None, [run.hook_log] + attempt.log))[-20000:]
    if failure is None:
        RUNS.apply(run, "succeed", finished)
        run.finished_at = finished
        run.duration_seconds = time.monotonic() - started
        run.size_gb = sum(a.size_gb for a in artifacts)
        run.error_message = ""
        if policy is not None:
            policy.last_success_at = finished
            policy.last_run_at = finished
        record_event(session, SYSTEM_CTX, "backup.run.succeeded", object_type="backup_run", object_id=run.id,
                     department_id=run.department_id,
                     after={"artifacts": [a.snapshot() for a in artifacts], "size_gb": run.size_gb,
                            "seconds": round(run.duration_seconds, 1)})
        session.commit()
        log.info("backup run=%s succeeded: %s artifacts, %s GB, %.1fs", run.id, len(artifacts), run.size_gb,
                 run.duration_seconds)
        if policy is not None:
            prune_policy(session, SYSTEM_CTX, cloud, policy, finished)
        return run
    attempt.discard()
    run.error_message = failure.message
    run.error_detail = failure.detail[-20000:]
    run.duration_seconds = time.monotonic() - started
    max_attempts = int(setting(settings, "BACKUP_MAX_ATTEMPTS"))
    if failure.transient and run.attempts < max_attempts:
        RUNS.apply(run, "retry", finished)
        run.available_at = finished + timedelta(seconds=int(setting(settings, "BACKUP_RETRY_SECONDS")) * run.attempts)
        record_event(session, SYSTEM_CTX, "backup.run.retry", object_type="backup_run", object_id=run.id,
                     department_id=run.department_id, outcome="failure", detail=failure.detail[:2000],
                     after={"attempt": run.attempts, "retry_at": run.available_at.isoformat()})
        session.commit()
        log.warning("backup run=%s attempt %s failed, retry at %s: %s", run.id, run.attempts, run.available_at,
                    failure)
        return run
    return _give_up(session, settings, run, failure.message, failure.detail, finished)


def _give_up(session, settings, run, message, detail, now):
    """Fail a run for good: audit it and open (or add to) the incident for the vendor."""
    policy = session.get(BackupPolicy, run.policy_id) if run.policy_id else None
    RUNS.apply(run, "fail", now)
    run.finished_at = now
    if policy is not None:
        policy.last_run_at = now
    record_event(session, SYSTEM_CTX, "backup.run.failed", object_type="backup_run", object_id=run.id,
                 department_id=run.department_id, outcome="failure", detail=detail[:2000],
                 after={"attempts": run.attempts, "message": message})
    session.flush()
    incident = _open_incident(session, settings, run, policy, f"{message} {detail}", now)
    session.flush()
    run.incident_id = incident.id
    session.commit()
    log.error("backup run=%s failed after %s attempts: %s %s", run.id, run.attempts, message, detail[-500:])
    return run


def run_policy(session, cloud, policy, trigger=BackupTrigger.MANUAL, settings=None, ctx=None):
    """Queue a run of policy and execute its first attempt now; return the run."""
    run = queue_run(session, ctx or SYSTEM_CTX, policy, trigger)
    return execute_run(session, cloud, settings or {}, run)


def schedule_due(session, ctx, now):
    """Queue a run for each enabled policy whose next run time has come; move next_run_at on."""
    due = list(session.scalars(select(BackupPolicy).where(BackupPolicy.enabled.is_(True),
                                                          BackupPolicy.next_run_at <= now)
                               .order_by(BackupPolicy.next_run_at, BackupPolicy.id)))
    queued = []
    for policy in due:
        # one run per due time; missed times while the scheduler was down collapse into this one
        policy.next_run_at = next_fire(policy.cron, now)
        waiting = session.scalar(select(BackupRun.id).where(BackupRun.policy_id == policy.id,
                                                            BackupRun.state.in_((RunState.QUEUED, RunState.RUNNING))))
        if waiting is not None:
            session.commit()
            continue
        queued.append(queue_run(session, ctx, policy, BackupTrigger.SCHEDULE, now=now))
    return queued


def recover_interrupted(session, cloud, settings, now):
    """Put back runs left "running" by a scheduler that died (longer than their time limit plus
    the hooks' and a margin): what they created is removed, and the attempt counts as failed."""
    hook = int(setting(settings, "BACKUP_HOOK_TIMEOUT_SECONDS"))
    recovered = []
    for run in list(session.scalars(select(BackupRun).where(BackupRun.state == RunState.RUNNING))):
        policy = session.get(BackupPolicy, run.policy_id) if run.policy_id else None
        limit = timedelta(seconds=(policy.timeout_seconds if policy else 3600) + 2 * hook + 600)
        if run.started_at is None or run.started_at > now - limit:
            continue
        project_id = session.get(Department, run.department_id).openstack_project_id
        for artifact in run.artifacts:
            if artifact.status in (ArtifactStatus.CREATING, ArtifactStatus.ERROR):
                try:
                    delete_artifact(cloud, project_id, artifact)
                except ProvisioningError as exc:
                    log.warning("run=%s: %s %s not removed: %s", run.id, artifact.kind, artifact.openstack_id, exc)
                    continue
                artifact.status = ArtifactStatus.DELETED
                artifact.deleted_at = now
        recorded = {a.openstack_id for a in run.artifacts}
        code = session.get(Department, run.department_id).code.lower()
        name_start = f"{setting(settings, 'CLOUD_NAME_PREFIX')}-bk-{code}-r{run.id}-"
        if project_id:  # made just before the crash, never recorded: found by the run's label and name
            try:
                for item in cloud.list_run_backups(project_id, run.id):
                    if item["id"] not in recorded and (item["name"] or "").startswith(name_start):
                        delete_backup(cloud, project_id, item["kind"], item["id"])
                        record_event(session, SYSTEM_CTX, "backup.prune", object_type=item["kind"],
                                     object_id=item["id"], department_id=run.department_id,
                                     detail=f"unrecorded, made by interrupted run {run.id}")
            except ProvisioningError as exc:
                log.warning("run=%s: unrecorded backups not removed: %s", run.id, exc)
        RUNS.apply(run, "retry", now)
        run.available_at = now
        run.error_message = errors.RUN_CRASHED
        run.error_detail = f"still running at {now.isoformat()}, started {run.started_at.isoformat()}"
        record_event(session, SYSTEM_CTX, "backup.run.interrupted", object_type="backup_run", object_id=run.id,
                     department_id=run.department_id, outcome="failure", detail=run.error_detail)
        session.commit()
        recovered.append(run)
    return recovered


def run_due(session, cloud, settings, now=None):
    """The scheduler's pass: recover interrupted runs, queue due policies, then execute queued
    runs that are available (an interrupted run whose attempts are used up fails for good).

    Returns {"queued", "succeeded", "retrying", "failed"} counts.
    """
    now = now or utcnow()
    max_attempts = int(setting(settings, "BACKUP_MAX_ATTEMPTS"))
    for run in recover_interrupted(session, cloud, settings, now):
        if run.attempts >= max_attempts:
            _give_up(session, settings, run, run.error_message, run.error_detail, now)
    queued = schedule_due(session, SYSTEM_CTX, now)
    counts = {"queued": len(queued), "succeeded": 0, "retrying": 0, "failed": 0}
    ready = list(session.scalars(select(BackupRun).where(BackupRun.state == RunState.QUEUED,
                                                         BackupRun.available_at <= now)
                                 .order_by(BackupRun.available_at, BackupRun.id)))
    for run in ready:
        execute_run(session, cloud, settings, run)
        counts[{"succeeded": "succeeded", "queued": "retrying", "failed": "failed"}.get(run.state, "failed")] += 1
    return counts


# -- retention ----------------------------------------------------------------------------------
def prunable(artifacts, keep_count, keep_days, now):
    """Return [(artifact, "keep_count" | "keep_days")] to delete among available artifacts (any
    order): per (kind, source), beyond the newest keep_count or older than keep_days, but never
    the newest one nor the newest verified one."""
    groups = {}
    for artifact in sorted(artifacts, key=lambda a: (a.created_at, a.id), reverse=True):
        groups.setdefault((artifact.kind, artifact.source_key), []).append(artifact)
    cutoff = now - timedelta(days=keep_days) if keep_days else None
    out = []
    for group in groups.values():
        keep = {group[0].id}
        verified = next((a for a in group if a.verify_outcome == "ok"), None)
        if verified is not None:
            keep.add(verified.id)
        for index, artifact in enumerate(group):
            if artifact.id in keep:
                continue
            if keep_count is not None and index >= keep_count:
                out.append((artifact, "keep_count"))
            elif cutoff is not None and artifact.created_at < cutoff:
                out.append((artifact, "keep_days"))
    return out


def prune_policy(session, ctx, cloud, policy, now=None):
    """Delete the policy's backups beyond keep_count / older than keep_days, per source and kind;
    never the newest available one, nor the newest verified one, nor final backups, nor one being
    restored from or extracted. Returns the number deleted."""
    now = now or utcnow()
    project_id = session.get(Department, policy.department_id).openstack_project_id
    rows = list(session.scalars(select(BackupArtifact).join(BackupRun, BackupArtifact.run_id == BackupRun.id)
                                .where(BackupArtifact.policy_id == policy.id,
                                       BackupArtifact.status == ArtifactStatus.AVAILABLE,
                                       BackupRun.trigger != BackupTrigger.FINAL)
                                .order_by(BackupArtifact.created_at.desc(), BackupArtifact.id.desc())))
    # a backup someone is restoring from or extracting stays until that is over
    busy = set(session.scalars(select(RestoreJob.artifact_id).where(RestoreJob.state == RestoreState.RUNNING)))
    busy |= set(session.scalars(select(BackupExtraction.artifact_id).where(
        BackupExtraction.state.in_((ExtractionState.APPLIED, ExtractionState.APPROVED, ExtractionState.READY)))))
    deleted = 0
    for artifact, reason in prunable(rows, policy.keep_count, policy.keep_days, now):
        if artifact.id in busy:
            continue
        try:
            delete_artifact(cloud, project_id, artifact)
        except ProvisioningError as exc:
            record_event(session, ctx, "backup.prune", object_type="backup_artifact", object_id=artifact.id,
                         department_id=artifact.department_id, outcome="failure", detail=str(exc)[:2000],
                         before=artifact.snapshot())
            session.commit()
            continue
        before = artifact.snapshot()
        artifact.status = ArtifactStatus.DELETED
        artifact.deleted_at = utcnow()
        record_event(session, ctx, "backup.prune", object_type="backup_artifact", object_id=artifact.id,
                     department_id=artifact.department_id, before=before, after={"status": artifact.status},
                     detail=reason)
        session.commit()
        deleted += 1
    return deleted

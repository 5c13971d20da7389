"""Restores (恢复, 第十九条: on a recovery need the restore starts at once).

start_restore makes the first cloud call before it returns; the restore then runs in the cloud
and track_restores (a scheduler job every few seconds) moves it through its phases and records
the outcome. Phases: new_volume: restoring; in_place: detaching -> restoring -> attaching;
server_rebuild: rebuilding; new_server: building.
"""
import logging
import time
from datetime import timedelta

from sqlalchemy import select

from portal.models.backups import (ArtifactStatus, RESTORES, RESTORE_MODES_BY_KIND, RestoreJob, RestoreMode,
                                   RestoreState)
from portal.database import utcnow
from portal.errors import ValidationFailed
from portal.models.accounts import Department
from portal.services.audit import RequestInfo, record_event
from portal.services.transitions import transition
from portal.text import _l
from provisioner.errors import ProvisioningError

from . import errors

log = logging.getLogger(__name__)
TRACKER_CTX = RequestInfo(correlation_id="scheduler:track_restores")
RESTORE_TIMEOUT = timedelta(hours=6)


def _project(session, department_id):
    return session.get(Department, department_id).openstack_project_id


def _fail(session, ctx, job, message, detail):
    RESTORES.apply(job, "fail", utcnow())
    job.duration_seconds = (job.finished_at - job.started_at).total_seconds() if job.started_at else None
    job.error_message = message
    job.error_detail = detail[-20000:]
    record_event(session, ctx, "backup.restore.failed", object_type="restore_job", object_id=job.id,
                 department_id=job.department_id, outcome="failure", after=job.snapshot(), detail=detail[:2000])
    session.commit()
    log.warning("restore=%s failed: %s", job.id, detail)
    return job


def _succeed(session, ctx, job):
    RESTORES.apply(job, "succeed", utcnow())
    job.phase = ""
    job.duration_seconds = (job.finished_at - job.started_at).total_seconds()
    record_event(session, ctx, "backup.restore.succeeded", object_type="restore_job", object_id=job.id,
                 department_id=job.department_id, after={**job.snapshot(), "seconds": round(job.duration_seconds, 1)})
    session.commit()
    log.info("restore=%s succeeded in %.1fs", job.id, job.duration_seconds)
    return job


def start_restore(session, ctx, cloud, artifact, mode, *, urgent=False, reason="", requested_by=None,
                  target_name="", settings=None, grant_id=None):
    """Record a restore of artifact in mode and make its first cloud call now; return the job
    (running, or failed with error_message when the cloud refused). Audited and committed.
    grant_id: the live grant a vendor's restore acts under (the portal checks it), recorded.

    Modes: volume backups new_volume / in_place, snapshots server_rebuild / new_server.
    """
    if mode not in RESTORE_MODES_BY_KIND.get(artifact.kind, ()):
        raise ValidationFailed(_l("This kind of backup cannot be restored that way."), field="mode")
    if artifact.status != ArtifactStatus.AVAILABLE:
        raise ValidationFailed(_l("Only an available backup can be restored."))
    now = utcnow()
    job = RestoreJob(artifact_id=artifact.id, department_id=artifact.department_id, system_id=artifact.system_id,
                     mode=mode, urgent=bool(urgent), reason=(reason or "").strip(), state=RestoreState.RUNNING,
                     requested_by_id=getattr(requested_by or ctx.actor, "id", None), requested_at=now,
                     started_at=now, grant_id=grant_id)
    session.add(job)
    session.flush()
    # not `prefix-...`: a restored volume or server is the department's, outside the approved spec,
    # and must not look like a provisioner resource to the reconciler (which would offer to delete it)
    job.target_name = (target_name or "").strip() or f"restore-{job.id}-{artifact.source_key.split(':')[-1]}"
    record_event(session, ctx, "backup.restore.start", object_type="restore_job", object_id=job.id,
                 department_id=job.department_id, after={**job.snapshot(), "source": artifact.source_key,
                                                         "reason": job.reason},
                 detail="urgent" if job.urgent else "")
    session.commit()
    return _launch(session, ctx, cloud, job, artifact)


def start_requested(session, ctx, cloud, job, settings=None):
    """Carry out a restore the department requested (state requested): the acting user (the vendor)
    starts it, the first cloud call is made now; audited with the request it carried out."""
    artifact = job.artifact
    if artifact.status != ArtifactStatus.AVAILABLE:
        raise ValidationFailed(_l("Only an available backup can be restored."))

    def started(job, now):
        job.started_by_id = getattr(ctx.actor, "id", None)
    transition(session, ctx, RESTORES, job, "start", effects=started,
               after={"request": job.id, "requested_by": job.requested_by_id, "source": artifact.source_key,
                      "reason": job.reason}, detail="urgent" if job.urgent else "")
    session.commit()
    return _launch(session, ctx, cloud, job, artifact)


def _launch(session, ctx, cloud, job, artifact):
    """Make the first cloud call of a restore now running; return the job (failed when the cloud refused)."""
    mode = job.mode
    project_id = _project(session, job.department_id)
    try:
        if mode == RestoreMode.NEW_VOLUME:
            job.target_openstack_id = cloud.restore_volume_backup(project_id, artifact.openstack_id,
                                                                  name=job.target_name)
            job.phase = "restoring"
        elif mode == RestoreMode.IN_PLACE:
            volume_id = artifact.source_openstack_id
            job.target_openstack_id = volume_id
            view = cloud.get_volume(project_id, volume_id)
            if view["attached_to"]:
                job.reattach_server_id = view["attached_to"][0]
                cloud.detach_volume(project_id, job.reattach_server_id, volume_id)
                job.phase = "detaching"
            else:
                cloud.restore_volume_backup(project_id, artifact.openstack_id, volume_id=volume_id)
                job.phase = "restoring"
        elif mode == RestoreMode.SERVER_REBUILD:
            job.target_openstack_id = artifact.source_openstack_id
            cloud.rebuild_server_from_image(project_id, artifact.source_openstack_id,
                                            artifact.openstack_id)
            job.phase = "rebuilding"
        else:
            metadata = {"govcloud_system": str(artifact.system_id or ""), "govcloud_restore": str(job.id)}
            job.target_openstack_id = cloud.create_server_from_snapshot(project_id, job.target_name, artifact.openstack_id, artifact.source_info, metadata)
            job.phase = "building"
    except ProvisioningError as exc:  # the cloud's reason (e.g. the quota) is the clearest message
        return _fail(session, ctx, job, exc.message, f"{exc.message}: {exc.detail}")
    session.commit()
    log.info("restore=%s %s of artifact %s started (%s)", job.id, mode, artifact.id, job.phase)
    return job


def _volume_restored(view, size):
    return view["status"] == "available" and view["size"] >= size


def advance(session, ctx, cloud, job, now):
    """Look at one running restore once and move it on; return the job."""
    project_id = _project(session, job.department_id)
    artifact = job.artifact
    if job.mode in (RestoreMode.NEW_VOLUME, RestoreMode.IN_PLACE):
        view = cloud.get_volume(project_id, job.target_openstack_id)
        if view["status"].startswith("error"):
            return _fail(session, ctx, job, errors.RESTORE_FAILED, f"volume {job.target_openstack_id} {view['status']}")
        if job.phase == "detaching":
            if view["status"] == "available":
                cloud.restore_volume_backup(project_id, artifact.openstack_id,
                                            volume_id=job.target_openstack_id)
                job.phase = "restoring"
                session.commit()
        elif job.phase == "restoring":
            if _volume_restored(view, artifact.size_gb):
                if job.reattach_server_id:
                    cloud.start_volume_attach(project_id, job.reattach_server_id, job.target_openstack_id)
                    job.phase = "attaching"
                    session.commit()
                else:
                    return _succeed(session, ctx, job)
        elif job.phase == "attaching":
            if view["status"] == "in-use":
                return _succeed(session, ctx, job)
    else:
        status, task_state = cloud.server_task_state(project_id, job.target_openstack_id)
        if status == "ERROR":
            return _fail(session, ctx, job, errors.RESTORE_FAILED, f"server {job.target_openstack_id} ERROR")
        if status == "ACTIVE" and task_state is None:
            return _succeed(session, ctx, job)
    if now - job.started_at > RESTORE_TIMEOUT:
        return _fail(session, ctx, job, errors.RESTORE_FAILED, f"still {job.phase} after {RESTORE_TIMEOUT}")
    return job


def track_restores(session, cloud, now=None):
    """Advance every running restore once; return (finished, failed)."""
    now = now or utcnow()
    finished = failed = 0
    for job in list(session.scalars(select(RestoreJob).where(RestoreJob.state == RestoreState.RUNNING)
                                    .order_by(RestoreJob.urgent.desc(), RestoreJob.id))):
        try:
            advance(session, TRACKER_CTX, cloud, job, now)
        except ProvisioningError as exc:
            if not exc.transient:
                _fail(session, TRACKER_CTX, job, errors.RESTORE_FAILED, f"{exc.message}: {exc.detail}")
            else:
                session.rollback()
                log.warning("restore=%s: %s (next pass)", job.id, exc)
        finished += job.state == RestoreState.SUCCEEDED
        failed += job.state == RestoreState.FAILED
    return finished, failed


def wait_for_restore(session, cloud, job, timeout=600, poll=1.0):
    """Advance one restore until it ends (for scripts and benchmarks); return the job."""
    deadline = time.monotonic() + timeout
    while job.state == RestoreState.RUNNING and time.monotonic() < deadline:
        advance(session, TRACKER_CTX, cloud, job, utcnow())
        if job.state == RestoreState.RUNNING:
            time.sleep(poll)
    return job

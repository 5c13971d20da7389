"""Verification: the newest backup of each source is restorable, recorded as "last verified".

Volume backups are restored to a scratch volume that must become available with the backup's
size, then deleted; snapshot images must be active with data (size and checksum).
"""
import logging
import time

from sqlalchemy import select

from portal.models.backups import ArtifactKind, ArtifactStatus, BackupArtifact, BackupPolicy, VerifyOutcome
from portal.database import utcnow
from portal.models.accounts import Department
from portal.services.audit import RequestInfo, record_event
from portal.services.incidents import open_incident
from provisioner.cloud.connection import POLL_SECONDS
from provisioner.errors import ProvisioningError

from . import errors
from .engine import IncidentSource, setting, system_label

log = logging.getLogger(__name__)
SYSTEM_CTX = RequestInfo(correlation_id="scheduler:verify_backups")


def newest_artifacts(session, policy):
    """Return the newest available artifact of each (kind, source) of a policy."""
    rows = session.scalars(select(BackupArtifact).where(BackupArtifact.policy_id == policy.id,
                                                        BackupArtifact.status == ArtifactStatus.AVAILABLE)
                           .order_by(BackupArtifact.created_at.desc(), BackupArtifact.id.desc()))
    newest = {}
    for artifact in rows:
        newest.setdefault((artifact.kind, artifact.source_key), artifact)
    return list(newest.values())


def check_volume_backup(cloud, project_id, artifact, scratch_name):
    """Restore a volume backup to a scratch volume, check it, delete it; return (ok, detail)."""
    view = cloud.get_volume_backup(project_id, artifact.openstack_id)
    if view is None or view["status"] != "available":
        return False, f"backup {artifact.openstack_id} is {(view or {}).get('status', 'gone')}"
    volume_id = cloud.restore_volume_backup(project_id, artifact.openstack_id, name=scratch_name)
    try:
        deadline = time.monotonic() + cloud.wait_seconds
        while True:
            vol = cloud.get_volume(project_id, volume_id)
            if vol["status"] == "available":
                break
            if vol["status"].startswith("error"):
                return False, f"scratch volume {volume_id} {vol['status']}"
            if time.monotonic() > deadline:
                return False, f"scratch volume {volume_id} still {vol['status']}"
            time.sleep(POLL_SECONDS)
        if vol["size"] != view["size"]:
            return False, f"scratch volume {volume_id} has {vol['size']} GB, the backup {view['size']} GB"
        return True, f"restored to {volume_id} ({vol['size']} GB), available"
    finally:
        cloud.delete_volume(project_id, volume_id)


def check_snapshot(cloud, project_id, artifact):
    """Check a snapshot image is active and holds data; return (ok, detail)."""
    view = cloud.get_image(project_id, artifact.openstack_id)
    if view is None:
        return False, f"image {artifact.openstack_id} is gone"
    if view["status"] != "active" or not view["size"] or not view["checksum"]:
        return False, f"image {artifact.openstack_id} {view['status']}, size {view['size']}"
    return True, f"image active, {view['size']} bytes, checksum {view['checksum']}"


def verify_policy(session, ctx, cloud, policy, now=None, settings=None):
    """Verify the newest backup of each source of a policy; record it on each artifact and, when
    all pass, policy.last_verified_at. A failure opens an incident. Returns the artifacts checked."""
    now = now or utcnow()
    project_id = session.get(Department, policy.department_id).openstack_project_id
    prefix = setting(settings, "CLOUD_NAME_PREFIX")
    checked = []
    failures = []
    for artifact in newest_artifacts(session, policy):
        try:
            if artifact.kind == ArtifactKind.VOLUME:
                ok, detail = check_volume_backup(cloud, project_id, artifact,
                                                 f"{prefix}-verify-a{artifact.id}-{now:%Y%m%d%H%M%S}")
            else:
                ok, detail = check_snapshot(cloud, project_id, artifact)
        except ProvisioningError as exc:
            ok, detail = False, f"{exc.message}: {exc.detail}"
        artifact.verified_at = utcnow()
        artifact.verify_outcome = VerifyOutcome.OK if ok else VerifyOutcome.FAILED
        artifact.verify_detail = detail[:2000]
        record_event(session, ctx, "backup.verify", object_type="backup_artifact", object_id=artifact.id,
                     department_id=artifact.department_id, outcome="success" if ok else "failure",
                     after={"kind": artifact.kind, "source": artifact.source_key, "outcome": artifact.verify_outcome},
                     detail=detail[:2000])
        session.commit()
        checked.append(artifact)
        if not ok:
            failures.append(f"{artifact.kind} {artifact.source_key}: {detail}")
    if checked and not failures:
        policy.last_verified_at = utcnow()
        session.commit()
    if failures:
        source = IncidentSource(department_id=policy.department_id,
                                system_name=system_label(session, policy.system_id),
                                name=f"备份验证 {policy.name}", kind="backup")
        open_incident(session, ctx, settings or {}, source, started_at=now, detected_at=utcnow(),
                      detail=f"{errors.VERIFY_FAILED} " + "; ".join(failures)[:2000])
        session.commit()
    return checked


def verify_all(session, cloud, settings, now=None):
    """Verify every enabled policy's newest backups; return (policies, artifacts, failed)."""
    now = now or utcnow()
    policies = list(session.scalars(select(BackupPolicy).where(BackupPolicy.enabled.is_(True))
                                    .order_by(BackupPolicy.id)))
    artifacts = failed = 0
    for policy in policies:
        checked = verify_policy(session, SYSTEM_CTX, cloud, policy, now, settings)
        artifacts += len(checked)
        failed += sum(1 for a in checked if a.verify_outcome == VerifyOutcome.FAILED)
    return len(policies), artifacts, failed

"""The cloud side of a backup extraction (备份提取, 第十九条) once the bureau approved it.

A snapshot image is streamed from Glance as it is. A volume backup is restored to a scratch
volume, the volume uploaded to a scratch raw image (Cinder upload-to-image), the scratch volume
deleted, and the image streamed. track_exports moves approved extractions to ready when the file
is there (expires_at = now + BACKUP_EXTRACTION_LINK_HOURS) and expires ready ones whose time is
over, removing the scratch image. The portal issues the link (token_hash) and audits downloads.
"""
import logging
from datetime import timedelta

from sqlalchemy import select

from portal.models.backups import EXTRACTIONS, ArtifactKind, BackupExtraction, ExtractionState
from portal.database import utcnow
from portal.models.accounts import Department
from portal.services.audit import RequestInfo, record_event
from portal.services.transitions import transition
from provisioner.errors import ProvisioningError

from . import errors
from .engine import setting

log = logging.getLogger(__name__)
TRACKER_CTX = RequestInfo(correlation_id="scheduler:track_restores")
LINK_HOURS_DEFAULT = 24


def _project(session, extraction):
    return session.get(Department, extraction.department_id).openstack_project_id


def _move(session, ctx, extraction, action, *, outcome="success", detail=""):
    transition(session, ctx, EXTRACTIONS, extraction, action, outcome=outcome, detail=detail[:2000])


def _fail(session, ctx, extraction, detail, cloud=None):
    extraction.error_message = errors.EXPORT_FAILED
    extraction.error_detail = detail[-20000:]
    _move(session, ctx, extraction, "fail", outcome="failure", detail=detail)
    try:
        _remove_scratch(session, extraction, cloud)
    except ProvisioningError as exc:  # the reconciler finds it by name; the failure is recorded
        log.warning("extraction=%s scratch not removed: %s", extraction.id, exc)
    session.commit()
    return extraction


def _remove_scratch(session, extraction, cloud=None):
    if cloud is None:
        return
    project_id = _project(session, extraction)
    if extraction.export_volume_id:
        cloud.delete_volume(project_id, extraction.export_volume_id)
        extraction.export_volume_id = ""
    if extraction.export_image_id:
        cloud.delete_image(project_id, extraction.export_image_id)
        extraction.export_image_id = ""


def start_export(session, ctx, cloud, extraction, settings=None):
    """Begin preparing the file of an approved extraction (call right after the approval)."""
    if extraction.state != ExtractionState.APPROVED:
        raise ValueError(f"extraction {extraction.id} is {extraction.state}, not approved")
    artifact = extraction.artifact
    if artifact.kind == ArtifactKind.VOLUME:
        prefix = setting(settings, "CLOUD_NAME_PREFIX")
        try:
            extraction.export_volume_id = cloud.restore_volume_backup(_project(session, extraction), artifact.openstack_id, name=f"{prefix}-export-x{extraction.id}")
        except ProvisioningError as exc:
            extraction.error_message = errors.EXPORT_FAILED
            extraction.error_detail = f"{exc.message}: {exc.detail}"
            _move(session, ctx, extraction, "fail", outcome="failure", detail=extraction.error_detail)
            session.commit()
            return extraction
        record_event(session, ctx, "backup.extraction.prepare", object_type="backup_extraction",
                     object_id=extraction.id, department_id=extraction.department_id,
                     after={"scratch_volume": extraction.export_volume_id})
    session.commit()
    return extraction


def _ready(session, ctx, extraction, size, settings, now):
    extraction.export_size_bytes = size
    hours = float(setting(settings, "BACKUP_EXTRACTION_LINK_HOURS") or LINK_HOURS_DEFAULT)
    extraction.expires_at = now + timedelta(hours=hours)
    _move(session, ctx, extraction, "ready")
    session.commit()


def advance_export(session, ctx, cloud, extraction, settings=None, now=None):
    """Look at one approved extraction once and move it on (ready or failed); return it."""
    now = now or utcnow()
    project_id = _project(session, extraction)
    artifact = extraction.artifact
    try:
        if artifact.kind == ArtifactKind.SNAPSHOT:
            view = cloud.get_image(project_id, artifact.openstack_id)
            if view is None or view["status"] != "active":
                return _fail(session, ctx, extraction, f"image {artifact.openstack_id} {(view or {}).get('status')}",
                             cloud)
            _ready(session, ctx, extraction, view["size"], settings, now)
            return extraction
        if not extraction.export_image_id:
            vol = cloud.get_volume(project_id, extraction.export_volume_id)
            if vol["status"].startswith("error"):
                return _fail(session, ctx, extraction, f"scratch volume {vol['id']} {vol['status']}", cloud)
            if vol["status"] == "available":
                extraction.export_image_id = cloud.upload_volume_to_image(project_id, extraction.export_volume_id, f"{vol['id']}-export-x{extraction.id}")
                session.commit()
            return extraction
        image = cloud.get_image(project_id, extraction.export_image_id)
        if image is None or image["status"] in ("killed", "deleted"):
            return _fail(session, ctx, extraction, f"export image {extraction.export_image_id} failed", cloud)
        if image["status"] == "active":
            vol = cloud.get_volume(project_id, extraction.export_volume_id)
            if vol["status"] == "available":  # uploading done
                cloud.delete_volume(project_id, extraction.export_volume_id)
                extraction.export_volume_id = ""
                _ready(session, ctx, extraction, image["size"], settings, now)
        return extraction
    except ProvisioningError as exc:
        if exc.transient:
            session.rollback()
            return extraction
        return _fail(session, ctx, extraction, f"{exc.message}: {exc.detail}", cloud)


def open_export(session, cloud, extraction, chunk_size=1024 * 1024):
    """Return (size in bytes or None, iterator of bytes) of a ready extraction's file."""
    if extraction.state != ExtractionState.READY:
        raise ValueError(f"extraction {extraction.id} is {extraction.state}, not ready")
    image_id = extraction.export_image_id or extraction.artifact.openstack_id
    return cloud.image_data(_project(session, extraction), image_id, chunk_size)


def expire_export(session, ctx, cloud, extraction, now=None):
    """End a ready extraction: the link stops working and the scratch image is removed."""
    _remove_scratch(session, extraction, cloud)
    _move(session, ctx, extraction, "expire")
    session.commit()
    return extraction


def track_exports(session, cloud, settings=None, now=None):
    """Advance approved extractions and expire ready ones past expires_at; return how many changed."""
    now = now or utcnow()
    changed = 0
    for extraction in list(session.scalars(select(BackupExtraction).where(
            BackupExtraction.state == ExtractionState.APPROVED).order_by(BackupExtraction.id))):
        before = extraction.state
        advance_export(session, TRACKER_CTX, cloud, extraction, settings, now)
        changed += extraction.state != before
    for extraction in list(session.scalars(select(BackupExtraction).where(
            BackupExtraction.state == ExtractionState.READY, BackupExtraction.expires_at <= now))):
        try:
            expire_export(session, TRACKER_CTX, cloud, extraction, now)
            changed += 1
        except ProvisioningError as exc:
            session.rollback()
            log.warning("extraction=%s not expired yet: %s", extraction.id, exc)
    return changed

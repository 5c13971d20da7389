"""Restores of every mode and the cloud side of an extraction, against the dev cloud.

In place (the attached volume is detached, restored and attached again), a server rebuilt from
its snapshot, a new server from a snapshot; an approved extraction's file prepared, streamed
from Glance and removed when the link expires. SQLite (the engine test covers PostgreSQL).
"""
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from backup import engine, export, policies, restore
from portal.models.backups import BackupExtraction, ExtractionState, RestoreState, RunState
from portal.database import utcnow
from portal.models.audit import AuditEvent
from portal.services.audit import RequestInfo
from tests.conftest import single_backend_app
from tests.integration.backup_fixtures import bk_project, gc_cloud, make_system  # noqa: F401  (fixtures)

pytestmark = pytest.mark.devcloud
CTX = RequestInfo(correlation_id="test-backup-restore")
MARKER = b"GOVCLOUD-BACKUP-EXPORT-MARKER " * 64


@pytest.fixture(scope="module")
def migrated_app(tmp_path_factory):
    """This module's app: SQLite."""
    yield from single_backend_app("sqlite", tmp_path_factory)


def _track(session, cloud, job, timeout=300):
    deadline = time.monotonic() + timeout
    while job.state == RestoreState.RUNNING and time.monotonic() < deadline:
        restore.track_restores(session, cloud)
        if job.state == RestoreState.RUNNING:
            time.sleep(1)
    assert job.state == RestoreState.SUCCEEDED, (job.phase, job.error_message, job.error_detail)
    return job


VOLUMES = Path(__file__).resolve().parents[2] / ".devcloud" / "data" / "cinder" / "volumes"


def write_marker(volume_id, marker):
    """Write marker at the start of a dev cloud volume (its sparse file: the stand-in disk)."""
    path = VOLUMES / f"volume-{volume_id}"
    if not path.exists():
        pytest.fail(f"{path} is missing: the dev cloud must run from this checkout (devcloud/up)")
    with open(path, "r+b") as f:
        f.write(marker)


@pytest.fixture
def backed_up(app, db_session, gc_cloud, bk_project):
    dept, system, _server, _volume = make_system(db_session, bk_project, "BKRES")
    write_marker(bk_project["volume_id"], MARKER)
    policy = policies.create_policy(db_session, CTX, dept.id, {
        "name": "恢复演练", "system_id": system.id, "kinds": "both", "cron": "0 3 * * *", "keep_count": "3"})
    settings = {"CLOUD_NAME_PREFIX": bk_project["prefix"]}
    run = engine.run_policy(db_session, gc_cloud, policy, settings=settings, ctx=CTX)
    assert run.state == RunState.SUCCEEDED, (run.error_message, run.error_detail)
    return {a.kind: a for a in run.artifacts}, settings


def test_restore_in_place_and_servers(app, db_session, gc_cloud, bk_project, backed_up):
    from portal.models.accounts import User
    from portal.models.grants import VendorGrant
    from portal.services import backups as svc
    from portal.services.vendor_access import NoLiveGrant
    artifacts, settings = backed_up
    conn = gc_cloud.project(bk_project["project_id"])
    vendor = db_session.get(User, app.seed.user_ids["vendor"])
    vendor_ctx = RequestInfo(actor=vendor, correlation_id="test-backup-restore")
    volume_artifact = artifacts["volume"]

    # in place, by the vendor: refused without a live grant of the department (第十八条) ...
    with pytest.raises(NoLiveGrant):
        svc.start_restore(db_session, vendor_ctx, gc_cloud, volume_artifact.id, "in_place", reason="甲局要求数据回滚",
                          settings=settings)
    # ... and done under one: the attached volume goes back to its backup and to its server
    grant = VendorGrant(department_id=volume_artifact.department_id, system_id=volume_artifact.system_id,
                        vendor_id=vendor.id, reason="数据回滚", state="approved", starts_at=utcnow() - timedelta(minutes=5),
                        ends_at=utcnow() + timedelta(hours=1))
    db_session.add(grant)
    db_session.commit()
    job = svc.start_restore(db_session, vendor_ctx, gc_cloud, volume_artifact.id, "in_place",
                            reason="甲局要求数据回滚", settings=settings)
    assert job.phase == "detaching" and job.reattach_server_id == bk_project["server_id"]
    assert job.grant_id == grant.id and job.requested_by_id == vendor.id
    start = db_session.scalars(select(AuditEvent).where(AuditEvent.object_type == "restore_job",
                                                        AuditEvent.object_id == str(job.id))).one()
    assert start.after["grant"] == grant.id and start.actor_username == vendor.username
    _track(db_session, gc_cloud, job)
    volume = conn.block_storage.get_volume(bk_project["volume_id"])
    assert volume.status == "in-use" and volume.attachments[0]["server_id"] == bk_project["server_id"]

    # the server rebuilt from its snapshot
    job = restore.start_restore(db_session, CTX, gc_cloud, artifacts["snapshot"], "server_rebuild",
                                urgent=True, settings=settings)
    assert job.target_openstack_id == bk_project["server_id"]
    _track(db_session, gc_cloud, job)
    server = conn.compute.get_server(bk_project["server_id"])
    assert server.status == "ACTIVE" and server.image["id"] == artifacts["snapshot"].openstack_id

    # a new server from the snapshot, like the original (flavor, network)
    job = restore.start_restore(db_session, CTX, gc_cloud, artifacts["snapshot"], "new_server",
                                target_name=f"{bk_project['prefix']}-web-1-copy", settings=settings)
    _track(db_session, gc_cloud, job)
    copy = conn.compute.get_server(job.target_openstack_id)
    assert copy.status == "ACTIVE" and copy.flavor["original_name"] == "m1.tiny"
    assert list(copy.addresses) == list(conn.compute.get_server(bk_project["server_id"]).addresses)
    gc_cloud.delete_server(bk_project["project_id"], copy.id)

    # a mode that does not fit the backup is refused before any cloud call
    from portal.errors import ValidationFailed
    with pytest.raises(ValidationFailed):
        restore.start_restore(db_session, CTX, gc_cloud, artifacts["snapshot"], "in_place")
    actions = [e.action for e in db_session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "restore_job").order_by(AuditEvent.id))]
    assert actions == ["backup.restore.start", "backup.restore.succeeded"] * 3


def _read(session, cloud, extraction, limit=None):
    size, chunks = export.open_export(session, cloud, extraction, chunk_size=64 * 1024)
    read, head = 0, b""
    for chunk in chunks:
        read += len(chunk)
        head = (head + chunk)[:len(MARKER)] if len(head) < len(MARKER) else head
        if limit is not None and read >= limit:
            chunks.close()
            break
    return size, read, head


def _extraction(session, artifact):
    extraction = BackupExtraction(artifact_id=artifact.id, department_id=artifact.department_id,
                                  reason="移交审计", state=ExtractionState.APPROVED, decided_at=utcnow())
    session.add(extraction)
    session.commit()
    return extraction


def test_export_of_an_approved_extraction(db_session, gc_cloud, bk_project, backed_up):
    artifacts, settings = backed_up
    conn = gc_cloud.project(bk_project["project_id"])

    # a snapshot: the image itself, streamed
    extraction = _extraction(db_session, artifacts["snapshot"])
    export.start_export(db_session, CTX, gc_cloud, extraction, settings)
    assert export.track_exports(db_session, gc_cloud, settings) == 1
    assert extraction.state == ExtractionState.READY and extraction.expires_at > utcnow()
    size, read, _head = _read(db_session, gc_cloud, extraction)
    assert size == read == artifacts["snapshot"].size_bytes > 0

    # a volume backup: restored to a scratch volume, uploaded to a scratch image, streamed
    vol_extraction = _extraction(db_session, artifacts["volume"])
    export.start_export(db_session, CTX, gc_cloud, vol_extraction, settings)
    assert vol_extraction.export_volume_id
    deadline = time.monotonic() + 600
    while vol_extraction.state == ExtractionState.APPROVED and time.monotonic() < deadline:
        export.track_exports(db_session, gc_cloud, settings)
        time.sleep(1)
    assert vol_extraction.state == ExtractionState.READY, (vol_extraction.error_message, vol_extraction.error_detail)
    assert vol_extraction.export_volume_id == "" and vol_extraction.export_image_id
    # the file holds the volume's data as it was backed up (the dev cloud's restore may leave a
    # shorter sparse file than 1 GB: its size is what Glance holds)
    size, read, head = _read(db_session, gc_cloud, vol_extraction, limit=4 * 1024 * 1024)
    assert head == MARKER
    assert size == vol_extraction.export_size_bytes == conn.image.get_image(vol_extraction.export_image_id).size
    assert read == min(size, 4 * 1024 * 1024) or read >= 4 * 1024 * 1024

    # the links expire: the scratch image goes, the snapshot (still a backup) stays
    scratch = vol_extraction.export_image_id
    assert export.track_exports(db_session, gc_cloud, settings, now=utcnow() + timedelta(days=2)) == 2
    assert {extraction.state, vol_extraction.state} == {ExtractionState.EXPIRED}
    assert conn.image.find_image(scratch) is None
    assert conn.image.get_image(artifacts["snapshot"].openstack_id).status == "active"
    with pytest.raises(ValueError):
        export.open_export(db_session, gc_cloud, extraction)
    actions = [e.action for e in db_session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "backup_extraction", AuditEvent.object_id == str(vol_extraction.id))
        .order_by(AuditEvent.id))]
    assert actions == ["backup.extraction.prepare", "backup.extraction.ready", "backup.extraction.expire"]


def test_what_an_interrupted_run_made_but_did_not_record_is_removed(db_session, gc_cloud, bk_project):
    """The scheduler died between the create call and storing the id: the next pass finds the
    backups by the run's label and name and removes them; the run fails (its attempts used up)."""
    from backup.engine import Attempt
    from portal.models.backups import BackupRun
    from tests.integration.backup_fixtures import make_system
    dept, system, server, volume = make_system(db_session, bk_project, "BKINT")
    policy = policies.create_policy(db_session, CTX, dept.id, {
        "name": "中断", "system_id": system.id, "kinds": "both", "cron": "0 3 * * *", "keep_count": "3"})
    settings = {"CLOUD_NAME_PREFIX": bk_project["prefix"], "BACKUP_MAX_ATTEMPTS": 1}
    run = BackupRun(policy_id=policy.id, department_id=dept.id, system_id=system.id, state=RunState.RUNNING,
                    attempts=1, kinds="both", started_at=utcnow() - timedelta(hours=3))
    db_session.add(run)
    db_session.commit()
    attempt = Attempt(db_session, gc_cloud, settings, run, utcnow())  # its names and labels, no records
    project_id = bk_project["project_id"]
    backup_id = gc_cloud.create_volume_backup(project_id, volume.openstack_id, attempt.name(volume), "",
                                              attempt.labels(system.id))
    image_id = gc_cloud.create_server_snapshot(project_id, server.openstack_id, attempt.name(server),
                                               attempt.labels(system.id))
    assert {i["id"] for i in gc_cloud.list_run_backups(project_id, run.id)} >= {backup_id, image_id}

    engine.run_due(db_session, gc_cloud, settings)

    db_session.refresh(run)
    assert run.state == RunState.FAILED and run.incident_id
    conn = gc_cloud.project(project_id)
    left = conn.block_storage.find_backup(backup_id)
    assert left is None or left.status == "deleting"
    deadline = time.monotonic() + 120
    while conn.image.find_image(image_id) is not None and time.monotonic() < deadline:
        time.sleep(1)  # Nova may still be uploading when the image is deleted: it then gives up
    assert conn.image.find_image(image_id) is None

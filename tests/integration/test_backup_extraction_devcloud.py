"""第十九条 against the dev cloud, through the pages: a real server snapshot (taken by the engine)
is extracted only after the bureau's approval; the department's link streams exactly Glance's
image data; every download is counted and audited; another department's user cannot use the
link; once expired the link answers 410. And the vendor, naming the department's request, starts
an urgent restore from the page: the cloud call is made at once and audited.
PostgreSQL (the restore module covers SQLite).
"""
import hashlib
import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from backup import engine, export, policies
from portal.models.backups import BackupExtraction, ExtractionState, RunState
from portal.database import utcnow
from portal.models.accounts import User
from portal.models.audit import AuditEvent
from portal.services.audit import RequestInfo
from tests.conftest import PASSWORD, csrf_token_from, login, single_backend_app
from tests.integration.backup_fixtures import bk_project, gc_cloud, make_system  # noqa: F401  (fixtures)

pytestmark = pytest.mark.devcloud
CTX = RequestInfo(correlation_id="test-backup-extraction")


@pytest.fixture(scope="module")
def migrated_app(tmp_path_factory):
    """This module's app: PostgreSQL."""
    yield from single_backend_app("postgresql", tmp_path_factory)


def post(client, url, data, page=None, **kwargs):
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token_from(html), **data}, **kwargs)


def test_snapshot_extracted_through_an_approved_link_matches_glance(app, seed, login_as, db_session, cloud,
                                                                    gc_cloud, bk_project):
    app.config["CLOUD_NAME_PREFIX"] = bk_project["prefix"]
    dept_row, system, _server, _volume = make_system(db_session, bk_project, "BKX")
    user = User(username="bkx-user", full_name="bkx-user", role="department", department_id=dept_row.id,
                password_hash=app.extensions["govcloud_passwords"].hash(PASSWORD))
    db_session.add(user)
    db_session.commit()
    policy = policies.create_policy(db_session, CTX, dept_row.id, {
        "name": "快照", "system_id": system.id, "kinds": "snapshot", "cron": "0 3 * * *", "keep_count": "2"})
    run = engine.run_policy(db_session, gc_cloud, policy, settings={"CLOUD_NAME_PREFIX": bk_project["prefix"]})
    assert run.state == RunState.SUCCEEDED, (run.error_message, run.error_detail)
    [artifact] = run.artifacts
    assert artifact.kind == "snapshot"

    dept = app.test_client()
    assert login(dept, "bkx-user").status_code == 302
    bureau = login_as("bureau")
    other = login_as("dept")  # a user of another department
    assert artifact.name in dept.get("/backups/artifacts").get_data(as_text=True)

    # -- apply; before the bureau's decision no link exists
    response = post(dept, f"/backups/artifacts/{artifact.id}/extract", {"reason": "案件取证，需离线保存系统镜像"})
    assert response.status_code == 302
    extraction = db_session.scalars(select(BackupExtraction).where(
        BackupExtraction.artifact_id == artifact.id)).one()
    detail = f"/backups/extractions/{extraction.id}"
    html = post(dept, f"{detail}/link", {}, page=detail, follow_redirects=True).get_data(as_text=True)
    assert "只有在大数据局批准提取且文件准备好后，才能生成下载链接。" in html and 'id="download-link"' not in html

    # -- the bureau approves with its reason: the snapshot is ready at once
    response = post(bureau, f"{detail}/decide", {"comment": "同意提取，限本案使用", "approve": "批准"}, page=detail)
    assert response.status_code == 302
    db_session.refresh(extraction)
    assert extraction.state == ExtractionState.READY, (extraction.error_message, extraction.error_detail)
    assert extraction.expires_at > utcnow() + timedelta(hours=23)

    # -- the link: shown once, only its hash stored
    html = post(dept, f"{detail}/link", {}, page=detail).get_data(as_text=True)
    link = re.search(r'id="download-link">.*?<a href="([^"]+)"', html, re.S).group(1)
    token = link.rsplit("/", 1)[-1]
    db_session.refresh(extraction)
    assert extraction.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in str(
        extraction.snapshot())
    path = f"/backups/download/{token}"
    assert other.get(path).status_code == 404  # another department's user
    assert bureau.get(path).status_code == 403

    started = time.monotonic()
    response = dept.get(path)
    assert response.status_code == 200
    data = response.get_data()
    seconds = time.monotonic() - started
    assert response.headers["Content-Disposition"].startswith("attachment;")
    image = cloud.image.get_image(artifact.openstack_id)
    glance = cloud.image.download_image(image).content
    assert len(data) == image.size == len(glance) > 0
    assert hashlib.sha256(data).hexdigest() == hashlib.sha256(glance).hexdigest()
    assert hashlib.md5(data).hexdigest() == image.checksum  # Glance's own checksum
    print(f"extraction download: {len(data)} bytes in {seconds:.3f} s")
    assert dept.get(path).status_code == 200  # a second use, counted too
    db_session.refresh(extraction)
    assert extraction.download_count == 2 and extraction.last_downloaded_at is not None
    downloads = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "backup.extraction.download", AuditEvent.object_id == str(extraction.id))
        .order_by(AuditEvent.seq)).all()
    assert [(e.actor_username, e.outcome) for e in downloads] == [("bkx-user", "success")] * 2
    assert downloads[0].after == {"download_count": 1, "bytes": image.size}

    # -- expiry: the link answers 410 with a clear message; the tracker ends the extraction
    extraction.expires_at = utcnow() - timedelta(seconds=1)
    db_session.commit()
    response = dept.get(path)
    assert response.status_code == 410 and "该下载链接已过期" in response.get_data(as_text=True)
    assert export.track_exports(db_session, gc_cloud, app.config) >= 1
    db_session.refresh(extraction)
    assert extraction.state == ExtractionState.EXPIRED
    assert dept.get(path).status_code == 410
    assert cloud.image.get_image(artifact.openstack_id).status == "active"  # the backup itself stays
    denied = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "backup.extraction.download", AuditEvent.outcome == "denied",
        AuditEvent.object_id == str(extraction.id))).all()
    assert len(denied) == 2


def test_vendor_starts_an_urgent_restore_at_once_through_the_page(app, seed, login_as, db_session, cloud,
                                                                  gc_cloud, bk_project):
    from backup import restore
    from portal.models.backups import RestoreJob, RestoreState
    app.config["CLOUD_NAME_PREFIX"] = bk_project["prefix"]
    dept_row, system, _server, _volume = make_system(db_session, bk_project, "BKR")
    policy = policies.create_policy(db_session, CTX, dept_row.id, {
        "name": "卷备份", "system_id": system.id, "kinds": "volume", "cron": "0 3 * * *", "keep_count": "2"})
    run = engine.run_policy(db_session, gc_cloud, policy, settings={"CLOUD_NAME_PREFIX": bk_project["prefix"]})
    assert run.state == RunState.SUCCEEDED, (run.error_message, run.error_detail)
    [artifact] = run.artifacts
    vendor = login_as("vendor")
    page = f"/backups/artifacts/{artifact.id}/restore"
    reason = "部门来电（王安全，工单 2026-118）：数据误删，要求立即恢复"
    # 第十八条: not without a live grant of the department for the system
    refused = post(vendor, page, {"mode": "new_volume", "urgent": "y", "reason": reason})
    assert refused.status_code == 403 and "运维授权" in refused.get_data(as_text=True)
    assert db_session.scalars(select(RestoreJob).where(RestoreJob.artifact_id == artifact.id)).all() == []
    from portal.models.grants import VendorGrant
    grant = VendorGrant(department_id=dept_row.id, system_id=system.id, vendor_id=seed.user_ids["vendor"],
                        reason="数据恢复", state="approved", starts_at=utcnow() - timedelta(minutes=1),
                        ends_at=utcnow() + timedelta(hours=2))
    db_session.add(grant)
    db_session.commit()
    response = post(vendor, page, {"mode": "new_volume", "urgent": "y", "reason": reason})
    assert response.status_code == 302 and response.headers["Location"].endswith("/backups/restores")
    job = db_session.scalars(select(RestoreJob).where(RestoreJob.artifact_id == artifact.id)).one()
    # 第十九条: the cloud call was made before the page answered
    assert job.state == RestoreState.RUNNING and job.target_openstack_id and job.urgent
    started = time.monotonic()
    while job.state == RestoreState.RUNNING and time.monotonic() - started < 300:
        restore.track_restores(db_session, gc_cloud)
        db_session.refresh(job)
        time.sleep(0.5)
    assert job.state == RestoreState.SUCCEEDED, (job.error_message, job.error_detail)
    volume = cloud.block_storage.get_volume(job.target_openstack_id)
    assert volume.status == "available" and volume.size == artifact.size_gb
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "backup.restore.start",
                                                        AuditEvent.object_id == str(job.id))).one()
    assert (event.actor_username, event.detail, event.department_id) == (seed.users["vendor"], "urgent", dept_row.id)
    assert event.after["reason"] == reason and event.after["grant"] == grant.id == job.grant_id
    html = vendor.get("/backups/restores").get_data(as_text=True)
    assert "紧急" in html and job.target_name in html
    print(f"urgent restore to a new volume: {job.duration_seconds:.1f} s")

"""The decommission guard (第十条二) through the pages, on both database backends: a decommission is
submitted and approved only after a final backup of the system succeeded (asked for after the
decommission started) or the department confirmed the migration with a note (audited)."""
from datetime import timedelta

from sqlalchemy import select

from tests.conftest import csrf_token_from


def post(client, url, data, page=None, **kwargs):
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token_from(html), **data}, **kwargs)


def live_system(db_session, department_id):
    from portal.models.requests import ResourceRequest
    return db_session.scalars(select(ResourceRequest).where(
        ResourceRequest.department_id == department_id, ResourceRequest.state == "provisioned")).one().id


def decommission_of(db_session, system_id):
    from portal.models.requests import ResourceRequest
    db_session.expire_all()
    return db_session.scalars(select(ResourceRequest).where(
        ResourceRequest.system_id == system_id, ResourceRequest.kind == "decommission")).one_or_none()


def final_runs(db_session, system_id):
    from portal.models.backups import BackupRun
    db_session.expire_all()
    return db_session.scalars(select(BackupRun).where(BackupRun.system_id == system_id, BackupRun.trigger == "final")
                              .order_by(BackupRun.id)).all()


def review(db_session, seed, request_id, action="approve"):
    """The bureau's decision through the review service (the review page itself lists the cloud's catalog)."""
    from portal.errors import ValidationFailed
    from portal.models.accounts import User
    from portal.services import reviews
    from portal.services.audit import RequestInfo
    ctx = RequestInfo(actor=db_session.get(User, seed.user_ids["bureau"]), correlation_id="t")
    try:
        if action == "approve":
            reviews.approve_request(db_session, ctx, request_id, {}, comment="同意")
        else:
            reviews.green_channel(db_session, ctx, request_id, {}, "紧急")
    except ValidationFailed as exc:
        db_session.rollback()
        return str(exc.message)
    return "ok"


def finish_run(db_session, run, state="succeeded", created_at=None):
    """What the backup engine does when the run ends (the engine itself is tested against the cloud)."""
    from portal.database import utcnow
    run.state = state
    run.finished_at = utcnow()
    if created_at is not None:
        run.created_at = created_at
    db_session.commit()


def test_final_backup_must_succeed_before_the_decommission_is_submitted(app, seed, login_as, db_session):
    dept = login_as("dept")
    system_id = live_system(db_session, seed.dept_a)
    page = f"/requests/{system_id}/decommission"
    html = dept.get(page).get_data(as_text=True)
    assert "最终备份" in html and 'id="guard-open"' in html

    # neither a final backup nor a migration: refused in Chinese, the draft is kept
    response = post(dept, page, {"reason": "系统下线", "action": "submit"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "系统数据须先备份或迁移" in html
    draft = decommission_of(db_session, system_id)
    assert draft is not None and draft.state == "draft" and draft.reason == "系统下线"

    # "take a final backup": a BackupRun with trigger final is queued for the system
    response = post(dept, page, {"reason": "系统下线", "action": "final_backup"})
    assert response.status_code == 302
    [run] = final_runs(db_session, system_id)
    assert (run.trigger, run.state, run.department_id) == ("final", "queued", seed.dept_a)
    html = dept.get(page).get_data(as_text=True)
    assert "已申请对本系统进行最终备份" in html and 'id="final-runs"' in html and "排队中" in html
    again = post(dept, page, {"reason": "系统下线", "action": "final_backup"})
    assert "已有一次最终备份在排队或进行中" in again.get_data(as_text=True)
    assert len(final_runs(db_session, system_id)) == 1

    # still queued: submitting is refused
    assert "系统数据须先备份或迁移" in post(dept, page, {"reason": "系统下线"}).get_data(as_text=True)
    assert decommission_of(db_session, system_id).state == "draft"

    # a failed final backup does not clear it; one made before the decommission started does not either
    finish_run(db_session, run, state="failed")
    assert "系统数据须先备份或迁移" in post(dept, page, {"reason": "系统下线"}).get_data(as_text=True)
    assert post(dept, page, {"reason": "系统下线", "action": "final_backup"}).status_code == 302
    old = final_runs(db_session, system_id)[-1]
    finish_run(db_session, old, created_at=draft.created_at - timedelta(minutes=5))
    assert "系统数据须先备份或迁移" in post(dept, page, {"reason": "系统下线"}).get_data(as_text=True)

    # a final backup asked for after the start succeeds: the decommission goes to review and is approved
    assert post(dept, page, {"reason": "系统下线", "action": "final_backup"}).status_code == 302
    finish_run(db_session, final_runs(db_session, system_id)[-1])
    assert 'id="guard-cleared"' in dept.get(page).get_data(as_text=True)
    response = post(dept, page, {"reason": "系统下线"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/requests/{draft.id}")
    assert decommission_of(db_session, system_id).state == "submitted"
    assert review(db_session, seed, draft.id) == "ok"
    assert decommission_of(db_session, system_id).state == "approved"


def test_migration_needs_a_note_is_audited_and_the_bureau_cannot_approve_without_it(app, seed, login_as,
                                                                                     db_session):
    from portal.models.audit import AuditEvent
    from portal.models.requests import ResourceRequest
    dept_b, bureau = login_as("dept_b"), login_as("bureau")
    system_id = live_system(db_session, seed.dept_b)
    page = f"/requests/{system_id}/decommission"

    html = post(dept_b, page, {"reason": "并入新平台", "backup_confirmed": "y", "migration_note": "  "}).get_data(
        as_text=True)
    assert "请说明数据迁移到了何处" in html and "并入新平台" in html  # the input is kept
    assert decommission_of(db_session, system_id) is None
    assert post(dept_b, page, {"reason": "并入新平台", "action": "save"}).status_code == 302
    draft = decommission_of(db_session, system_id)
    assert draft is not None and draft.state == "draft" and not draft.backup_confirmed

    # a decommission that reached the bureau without being cleared (e.g. before this guard) is refused
    draft.state = "submitted"
    db_session.commit()
    assert "must be backed up or migrated" in review(db_session, seed, draft.id)  # (no locale outside a request)
    assert "does not take the green channel" in review(db_session, seed, draft.id, "green_channel")
    assert decommission_of(db_session, system_id).state == "submitted"
    draft.state = "returned"
    db_session.commit()

    response = post(dept_b, page, {"reason": "并入新平台", "backup_confirmed": "y",
                                   "migration_note": "数据已迁移至市政务数据共享平台 db-02"})
    assert response.status_code == 302
    request = db_session.get(ResourceRequest, draft.id)
    db_session.refresh(request)
    assert (request.state, request.backup_confirmed, request.migration_note) == (
        "submitted", True, "数据已迁移至市政务数据共享平台 db-02")
    [event] = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "request.confirm_migration",
                                                          AuditEvent.object_id == str(draft.id))).all()
    assert event.after["migration_note"] == "数据已迁移至市政务数据共享平台 db-02"
    assert event.actor_username == seed.users["dept_b"] and event.department_id == seed.dept_b
    html = bureau.get(f"/requests/{draft.id}").get_data(as_text=True)
    assert "数据已迁移至市政务数据共享平台 db-02" in html
    assert review(db_session, seed, draft.id) == "ok"
    assert decommission_of(db_session, system_id).state == "approved"


def test_api_decommission_needs_the_note_with_the_confirmation(app, seed, db_session):
    from portal.database import utcnow
    from portal.models.accounts import User
    from portal.services.api_tokens import create_token
    from portal.services.audit import RequestInfo
    system_id = live_system(db_session, seed.dept_a)
    user = db_session.get(User, seed.user_ids["dept"])
    _t, token = create_token(db_session, RequestInfo(correlation_id="t"), user, "decom",
                             scope="write", days=1)
    db_session.commit()
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/requests/{system_id}/decommission"
    response = api.post(url, json={"reason": "下线", "backup_confirmed": True}, headers=headers)
    assert response.status_code == 422 and "请说明数据迁移到了何处" in response.get_json()["message"]
    assert decommission_of(db_session, system_id) is None  # nothing half-made
    response = api.post(url, json={"reason": "下线", "backup_confirmed": False}, headers=headers)
    assert response.status_code == 422
    assert "系统数据须先备份或迁移" in str(response.get_json()["problems"])
    db_session.expire_all()
    assert decommission_of(db_session, system_id) is None  # a refused submission stores no draft either
    response = api.post(url, json={"reason": "下线", "backup_confirmed": False, "submit": False}, headers=headers)
    assert response.status_code == 201
    decom = decommission_of(db_session, system_id)
    assert decom is not None and decom.state == "draft"  # a draft, as the web form keeps it
    assert decom.created_at <= utcnow()

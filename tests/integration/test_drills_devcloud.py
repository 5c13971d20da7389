"""Emergency plans, drills, rectification and key changes (issue 20, 第二十三条, 第二十条, 第二十一条).

A drill walked from its plan (drawn up by the department, approved by the bureau) to its closed
follow-ups through the pages, with a real restore of a volume backup on the dev cloud through the
backup engine: the measured recovery time is recorded and compared with the plan's RTO, the
backup's age with its RPO. The drill_reminders rules (once each), a rectification round trip
(issue, answer with evidence, return, answer, accept; 409 when two act at once), a key change
applied for and approved, the API's bounded input (422 changes nothing). Both backends.
"""
import io
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backup import engine, policies, restore
from portal.database import utcnow
from portal.models.accounts import User
from portal.models.audit import AuditEvent
from portal.models.backups import ArtifactStatus, BackupArtifact, BackupRun, RestoreJob, RestoreState, RunState
from portal.models.duties import (Drill, DrillFollowUp, EmergencyPlan, EmergencyPlanVersion, KeyChange, Rectification)
from portal.models.operations import Notification
from portal.services import drills, rectifications
from portal.services.audit import RequestInfo
from portal.workdays import CHINA
from portal.services.duties_common import act
from portal.statemachine import TransitionNotAllowed
from sqlalchemy.orm import Session
from tests.conftest import PASSWORD, csrf_token_from, login
from tests.integration.backup_fixtures import bk_project, gc_cloud, make_system  # noqa: F401  (fixtures)

CTX = RequestInfo(correlation_id="test-drills")
PDF = b"%PDF-1.4\n% evidence\n"


def post(client, url, data, page):
    """POST data with the CSRF token of page; return the response (closed)."""
    html = client.get(page, follow_redirects=True).get_data(as_text=True)
    response = client.post(url, data={"csrf_token": csrf_token_from(html), **data})
    response.close()
    return response


def actions(session, object_type, object_id):
    session.expire_all()
    return [e.action for e in session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id)).order_by(AuditEvent.id))]


def department_user(app, session, department_id, username):
    hasher = app.extensions["govcloud_passwords"]
    user = User(username=username, full_name=username, role="department", department_id=department_id,
                password_hash=hasher.hash(PASSWORD))
    session.add(user)
    session.commit()
    client = app.test_client()
    response = login(client, username)
    assert response.status_code == 302
    response.close()
    return client, user


def today():
    return utcnow().astimezone(CHINA).date()


def inbox(session, topic, role=None):
    stmt = select(func.count(Notification.id)).where(Notification.topic == topic, Notification.channel == "inbox")
    if role is not None:
        stmt = stmt.join(User, User.id == Notification.user_id).where(User.role == role)
    return session.scalar(stmt)


pytestmark = pytest.mark.devcloud


def test_a_drill_from_its_plan_to_closed_follow_ups_with_a_real_restore(app, seed, login_as, db_session, gc_cloud,
                                                                        bk_project, monkeypatch):
    code = f"DRL{app.backend[:2].upper()}"
    dept, system, _server, _volume = make_system(db_session, bk_project, code, system_name="社保查询系统")
    client, user = department_user(app, db_session, dept.id, f"drill-{app.backend}")
    bureau = login_as("bureau")
    settings = {"CLOUD_NAME_PREFIX": bk_project["prefix"]}

    # -- the department draws up its plan for the system; the bureau approves it
    response = post(client, "/duties/plans/new", {
        "title": "社保查询系统专项应急预案", "system_id": system.id, "drill_interval_months": 6,
        "scenario": "数据卷损坏，需从备份恢复", "roles": "总指挥：决定启动预案\n技术组：从备份恢复数据卷",
        "steps": "发现故障并报告\n从最近的备份恢复数据卷\n验证业务", "rto_minutes": 30, "rpo_minutes": 1440},
        "/duties/plans/new")
    assert response.status_code == 302, response.status_code
    plan = db_session.scalars(select(EmergencyPlan).where(EmergencyPlan.department_id == dept.id)).one()
    version = plan.versions[0]
    assert (plan.scope, plan.system_id, version.state, version.rto_minutes) == ("system", system.id, "draft", 30)
    assert version.roles == [{"role": "总指挥", "duty": "决定启动预案"}, {"role": "技术组", "duty": "从备份恢复数据卷"}]
    page = f"/duties/plans/{plan.id}"
    # a drill needs a plan in force: scheduling is allowed, starting is not yet
    assert post(client, f"/duties/plans/{plan.id}/versions/{version.id}/act", {"action": "submit"},
                page).status_code == 302
    assert post(bureau, f"/duties/plans/{plan.id}/versions/{version.id}/act",
                {"action": "approve", "note": "同意"}, page).status_code == 302
    db_session.expire_all()
    assert plan.approved_version.id == version.id and version.approved_at is not None
    assert actions(db_session, "emergency_plan_version", version.id) == ["emergency_plan.submit",
                                                                         "emergency_plan.approve"]
    assert inbox(db_session, f"emergency_plan:{plan.id}", "bureau") == 1  # the submission
    assert inbox(db_session, f"emergency_plan:{plan.id}", "department") == 1  # the approval

    # -- a backup of the system's volume (the backup engine, as scheduled)
    policy = policies.create_policy(db_session, CTX, dept.id, {
        "name": "演练备份", "system_id": system.id, "kinds": "volume", "cron": "0 3 * * *", "keep_count": "2"})
    run = engine.run_policy(db_session, gc_cloud, policy, settings=settings, ctx=CTX)
    assert run.state == RunState.SUCCEEDED, (run.error_message, run.error_detail)
    [artifact] = [a for a in run.artifacts if a.kind == "volume"]
    assert artifact.status == ArtifactStatus.AVAILABLE

    # -- scheduled for today, started with its participants, a step on the timeline
    assert post(client, "/duties/drills/new", {"plan_id": plan.id, "scheduled_for": today().isoformat(),
                                               "title": "数据卷恢复演练", "scenario": "数据卷损坏"},
                "/duties/drills/new").status_code == 302
    drill = db_session.scalars(select(Drill).where(Drill.plan_id == plan.id)).one()
    page = f"/duties/drills/{drill.id}"
    assert post(client, f"/duties/drills/{drill.id}/act", {"action": "start", "participants": "张三（信息中心）\n李四（云服务商）"},
                page).status_code == 302
    db_session.expire_all()
    assert (drill.state, drill.plan_version_id, drill.rto_minutes, drill.rpo_minutes) == ("running", version.id,
                                                                                         30, 1440)
    assert drill.participants == ["张三（信息中心）", "李四（云服务商）"]
    assert post(client, f"/duties/drills/{drill.id}/steps", {"title": "发现故障并报告", "actor": "张三", "outcome": "ok"},
                page).status_code == 302
    # ending while nothing was restored is possible, but this drill restores: the restore first
    runtime = app.extensions["govcloud_runtime"]
    monkeypatch.setattr(runtime, "cloud", lambda: gc_cloud)
    assert post(client, f"/duties/drills/{drill.id}/restore", {"artifact_id": artifact.id, "mode": "new_volume",
                                                               "target_name": f"{bk_project['prefix']}-drill"},
                page).status_code == 302
    db_session.expire_all()
    job = db_session.get(RestoreJob, drill.restore_job_id)
    assert job is not None and job.artifact_id == artifact.id and job.reason == "应急演练：数据卷恢复演练"
    # a second restore in the same drill is refused; the drill cannot end while its restore runs
    assert post(client, f"/duties/drills/{drill.id}/restore", {"artifact_id": artifact.id, "mode": "new_volume"},
                page).status_code == 302
    assert db_session.scalar(select(func.count(RestoreJob.id)).where(RestoreJob.department_id == dept.id)) == 1
    if job.state == RestoreState.RUNNING:
        with pytest.raises(Exception, match="still running"):
            drills.finish_drill(db_session, RequestInfo(actor=user, correlation_id="t"), drill.id,
                                {"result": "passed", "summary": "x"})
        db_session.rollback()

    # -- the backup engine's tracker completes the restore; drill_reminders records it
    deadline = time.monotonic() + 600
    while job.state == RestoreState.RUNNING and time.monotonic() < deadline:
        restore.track_restores(db_session, gc_cloud)
        if job.state == RestoreState.RUNNING:
            time.sleep(1)
    assert job.state == RestoreState.SUCCEEDED, (job.phase, job.error_message, job.error_detail)
    volume = gc_cloud.project(bk_project["project_id"]).block_storage.get_volume(job.target_openstack_id)
    assert volume.status == "available" and volume.size == 1
    figures = drills.send_reminders(db_session, CTX, {}, utcnow())
    assert figures["restores_recorded"] == 1
    db_session.expire_all()
    measured = (job.finished_at - job.started_at).total_seconds()
    age = (job.started_at - artifact.created_at).total_seconds() / 60
    assert drill.restore_seconds == round(measured, 1) > 0
    assert drill.backup_age_minutes == round(age, 1) and 0 <= drill.backup_age_minutes < 60
    assert drill.rto_met is (measured <= 30 * 60) and drill.rpo_met is True
    print(f"\n[{app.backend}] drill restore of a 1 GB volume backup: {drill.restore_seconds} s measured "
          f"(RTO 30 min: {'met' if drill.rto_met else 'missed'}); backup {drill.backup_age_minutes} min old "
          f"(RPO 1440 min)")
    restore_steps = [s for s in drill.steps if s.kind == "restore"]
    assert [s.title[:6] for s in restore_steps] == ["从备份恢复：", "恢复完成，用"]
    assert f"{measured:.1f} 秒" in restore_steps[1].title and restore_steps[1].outcome == ("ok" if drill.rto_met
                                                                                           else "problem")
    assert drills.send_reminders(db_session, CTX, {}, utcnow())["restores_recorded"] == 0  # once
    html = client.get(page).get_data(as_text=True)
    assert f"{drill.restore_seconds} 秒" in html and "恢复时间目标" in html

    # -- ended with its result and the problems found; two follow-ups (the department's, the bureau's)
    assert post(client, f"/duties/drills/{drill.id}/finish", {
        "result": "partial", "participants": "张三（信息中心）\n李四（云服务商）\n王五（管理局）",
        "summary": "数据卷按时恢复", "problems": "值班电话未接通"}, page).status_code == 302
    db_session.expire_all()
    assert drill.state == "completed" and drill.ended_at >= drill.started_at and drill.result == "partial"
    assert len(drill.participants) == 3
    assert post(client, f"/duties/drills/{drill.id}/follow-ups", {
        "description": "更新值班电话", "owner": "张三", "due_date": (today() + timedelta(days=14)).isoformat()},
        page).status_code == 302
    assert post(bureau, f"/duties/drills/{drill.id}/follow-ups", {
        "description": "补充预案中的通知步骤", "owner": "李四", "due_date": (today() + timedelta(days=30)).isoformat()},
        page).status_code == 302
    db_session.expire_all()
    first, second = drill.follow_ups
    # the bureau cannot close the department's follow-ups; the department closes them, the last closes the drill
    assert post(bureau, f"/duties/drills/{drill.id}/follow-ups/{first.id}/close", {"note": "x"},
                page).status_code == 403
    assert post(client, f"/duties/drills/{drill.id}/follow-ups/{first.id}/close", {"note": "已更新值班表"},
                page).status_code == 302
    db_session.expire_all()
    assert (first.state, drill.state) == ("closed", "completed")
    assert post(client, f"/duties/drills/{drill.id}/follow-ups/{second.id}/close", {"note": "预案第2版补充"},
                page).status_code == 302
    db_session.expire_all()
    assert (second.state, drill.state) == ("closed", "closed")
    assert actions(db_session, "drill", drill.id) == [
        "drill.schedule", "drill.start", "drill.step", "drill.restore_start", "drill.restore_recorded",
        "drill.finish", "drill.close"]
    assert actions(db_session, "drill_follow_up", first.id) == ["drill.follow_up", "drill_follow_up.close"]
    assert inbox(db_session, f"drill:{drill.id}", "bureau") >= 1  # told of the drill's result
    # another department sees nothing of it
    other = login_as("dept_b")
    response = other.get(page)
    assert response.status_code == 404
    response.close()


def _restore_row(session, department_id, *, seconds, backup_age_hours):
    """A finished restore of an old backup (rows only, no cloud)."""
    now = utcnow()
    run = BackupRun(department_id=department_id, state=RunState.SUCCEEDED, kinds="volume")
    session.add(run)
    session.flush()
    artifact = BackupArtifact(run_id=run.id, department_id=department_id, kind="volume", name="gc-seed-backup-old",
                              status="available", created_at=now - timedelta(hours=backup_age_hours))
    session.add(artifact)
    session.flush()
    job = RestoreJob(artifact_id=artifact.id, department_id=department_id, mode="new_volume", state="succeeded",
                     started_at=now - timedelta(seconds=seconds), finished_at=now, duration_seconds=float(seconds))
    session.add(job)
    session.flush()
    return job


def _approved_plan(session, department_id, *, months_ago, interval=12, title="旧预案"):
    plan = EmergencyPlan(scope="system" if department_id else "platform", department_id=department_id, title=title,
                         drill_interval_months=interval)
    plan.versions.append(EmergencyPlanVersion(
        number=1, state="approved", department_id=department_id, scenario="断电", roles=[{"role": "组长", "duty": "指挥"}],
        steps=["报告"], rto_minutes=60, rpo_minutes=120, approved_at=utcnow() - timedelta(days=31 * months_ago)))
    session.add(plan)
    session.flush()
    return plan


def test_reminders_and_overdue_flags_once_each(app, seed, db_session):
    now = utcnow()
    day = today()
    stale = _approved_plan(db_session, seed.dept_a, months_ago=13)       # no drill in 12 months: overdue
    _approved_plan(db_session, seed.dept_b, months_ago=5, interval=6)    # due next month: not yet
    fresh = _approved_plan(db_session, None, months_ago=2, title="总体预案（测试）")
    late = Drill(plan_id=fresh.id, title="逾期演练", scheduled_for=day - timedelta(days=1))
    coming = Drill(plan_id=fresh.id, title="下周演练", scheduled_for=day + timedelta(days=3))
    later = Drill(plan_id=fresh.id, title="下月演练", scheduled_for=day + timedelta(days=30))
    done = Drill(plan_id=stale.id, department_id=seed.dept_a, title="已完成演练", state="completed",
                 scheduled_for=day - timedelta(days=400), started_at=now - timedelta(days=400, hours=1),
                 ended_at=now - timedelta(days=400), result="passed", rto_minutes=60, rpo_minutes=120)
    db_session.add_all([late, coming, later, done])
    db_session.flush()
    overdue_item = DrillFollowUp(drill_id=done.id, department_id=seed.dept_a, description="整改", due_date=day - timedelta(days=2))
    db_session.add(overdue_item)
    # a restore that ended, two hours long, of a backup three days old: RTO 60 min and RPO 120 min missed
    done.restore_job_id = _restore_row(db_session, seed.dept_a, seconds=7200, backup_age_hours=72).id
    to_vendor = Rectification(number="ZG-T-1", target="vendor", title="日志缺失", finding="缺少操作日志", requirement="补齐",
                              due_date=day - timedelta(days=1), issued_by_id=seed.user_ids["bureau"])
    answered = Rectification(number="ZG-T-2", target="department", department_id=seed.dept_b, title="已答复",
                             finding="x", requirement="y", due_date=day - timedelta(days=1), state="answered",
                             rounds=1)
    db_session.add_all([to_vendor, answered])
    db_session.commit()

    figures = drills.send_reminders(db_session, CTX, {}, now)
    assert figures == {"restores_recorded": 1, "drills_reminded": 1, "drills_overdue": 1, "plans_overdue": 1,
                       "follow_ups_overdue": 1, "rectifications_overdue": 1}
    db_session.expire_all()
    assert (done.restore_seconds, done.rto_met, done.backup_age_minutes, done.rpo_met) == (7200.0, False, 4200.0,
                                                                                          False)
    assert coming.reminded_at is not None and later.reminded_at is None and late.overdue_flagged_at is not None
    due = drills.add_months(done.ended_at.astimezone(CHINA).date(), 12)  # the last drill's day + 12 months
    assert stale.overdue_flagged_for == due < day
    # who was told: the vendor of its late drill and notice, the department of its plan, the bureau of all
    assert inbox(db_session, f"drill:{late.id}", "vendor") == 1 and inbox(db_session, f"drill:{late.id}", "bureau") == 1
    assert inbox(db_session, f"emergency_plan:{stale.id}", "department") == 3  # dept A's three users
    assert inbox(db_session, "rectification:%d" % to_vendor.id, "vendor") == 1
    assert inbox(db_session, "rectification:%d" % answered.id) == 0  # answered in time: the bureau's turn
    # the next run flags nothing again
    assert drills.send_reminders(db_session, CTX, {}, now + timedelta(hours=1)) == dict.fromkeys(figures, 0)
    # the pages flag them too
    late_now = drills.overdue(db_session, None, now)
    assert [d.plan.id for d in late_now["plans"]] == [stale.id]
    assert [d.id for d in late_now["drills"]] == [late.id]

    # the scheduled job: its run and figures on /jobs
    from scheduler import housekeeping, runtime
    runtime.configure(app.config, app.extensions["govcloud_db"][0])
    result = housekeeping.drill_reminders()
    assert result.figures == dict.fromkeys(figures, 0)
    assert result.summary.startswith("0 restores recorded, 0 drills reminded")


def test_rectification_round_trip_with_evidence_and_409(app, seed, login_as, db_session):
    bureau, dept = login_as("bureau"), login_as("dept")
    due = today() + timedelta(days=10)
    response = post(bureau, "/duties/rectifications/new", {
        "target": "department", "department_id": seed.dept_a, "title": "日志留存不足", "finding": "操作日志只留存30天",
        "requirement": "建立每日备份并演练恢复", "due_date": due.isoformat()}, "/duties/rectifications/new")
    assert response.status_code == 302
    item = db_session.scalars(select(Rectification).where(Rectification.title == "日志留存不足")).one()
    page = f"/duties/rectifications/{item.id}"
    assert item.state == "issued" and item.number.startswith("ZG-")
    assert inbox(db_session, f"rectification:{item.id}", "department") == 3
    # on the department's workbench until it answers, then on the bureau's
    assert page in dept.get("/").get_data(as_text=True) and page not in bureau.get("/").get_data(as_text=True)
    # the vendor does not see a department's notice; another department neither
    for key in ("vendor", "dept_b"):
        response = login_as(key).get(page)
        assert response.status_code == 404
        response.close()

    def answer(text, content=PDF, name="证明.pdf"):
        html = dept.get(page).get_data(as_text=True)
        response = dept.post(f"{page}/answer", data={"csrf_token": csrf_token_from(html), "text": text,
                                                      "document": (io.BytesIO(content), name)},
                             content_type="multipart/form-data")
        response.close()
        return response

    # a file that is not a document is refused, nothing changes
    assert answer("已整改", b"MZ\x90\x00 not a pdf", "x.exe").status_code == 302
    db_session.expire_all()
    assert item.state == "issued" and item.answers == []
    assert answer("已建立每日备份策略").status_code == 302
    db_session.expire_all()
    assert (item.state, item.rounds, item.answers[0].document_name) == ("answered", 1, "证明.pdf")
    assert page not in dept.get("/").get_data(as_text=True) and page in bureau.get("/").get_data(as_text=True)
    evidence = dept.get(f"{page}/evidence/{item.answers[0].id}")
    assert evidence.status_code == 200 and evidence.data == PDF
    evidence.close()
    # the bureau returns it with the reason (a return without one is refused)
    assert post(bureau, f"{page}/decide", {"action": "return", "note": ""}, page).status_code == 302
    db_session.expire_all()
    assert item.state == "answered"
    assert post(bureau, f"{page}/decide", {"action": "return", "note": "缺少恢复演练记录"}, page).status_code == 302
    db_session.expire_all()
    assert item.state == "returned" and item.answers[0].decision == "returned"
    assert answer("已补充恢复演练记录").status_code == 302
    db_session.expire_all()
    assert (item.state, item.rounds) == ("answered", 2)

    # two of the bureau act at once on the answered notice: both read it answered, one accepts, the
    # other's return finds it accepted under the row lock and gets 409; nothing of the second is kept
    with Session(app.extensions["govcloud_db"][0], expire_on_commit=False) as other:
        seen = other.get(Rectification, item.id)
        assert seen.state == "answered"
        other.commit()  # (SQLite: no read transaction left open)
        ctx = RequestInfo(actor=db_session.get(User, seed.user_ids["bureau"]), correlation_id="first")
        rectifications.decide(db_session, ctx, item.id, "accept", "同意")
        second = RequestInfo(actor=other.get(User, seed.user_ids["bureau"]), correlation_id="second")
        with pytest.raises(TransitionNotAllowed) as refused:
            act(other, second, rectifications.RECTIFICATIONS, seen, "return", rectifications.ISSUERS, note="退回")
        assert refused.value.http_status == 409 and refused.value.state == "accepted"
        other.rollback()
    db_session.expire_all()
    item = db_session.get(Rectification, item.id)
    assert item.state == "accepted" and item.closed_on_time is True and item.answers[1].decision == "accepted"
    assert actions(db_session, "rectification", item.id) == [
        "rectification.issue", "rectification.answer", "rectification.return", "rectification.answer",
        "rectification.accept"]
    # the same refusal through the API: accepting again is 409
    token = _token(db_session, seed.user_ids["bureau"])
    response = app.test_client().post(f"/api/v1/rectifications/{item.id}/decision", json={"decision": "return",
                                                                                           "note": "再退回"},
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 409
    response.close()


def _token(session, user_id):
    from portal.services import api_tokens
    user = session.get(User, user_id)
    _row, secret = api_tokens.create_token(session, RequestInfo(actor=user, correlation_id="t"), user, "duties",
                                           scope="write", days=30)
    return secret


def test_key_change_applied_approved_and_carried_out(app, seed, login_as, db_session):
    vendor, bureau = login_as("vendor"), login_as("bureau")
    start = (utcnow() + timedelta(days=3)).astimezone(CHINA).replace(tzinfo=None, second=0, microsecond=0)
    data = {"kind": "upgrade", "title": "计算节点升级", "description": "升级计算节点内核", "impact": "逐台迁移，无中断",
            "rollback_plan": "回退到原内核", "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M"), "maintenance_window_id": 0}
    # without the 第二十一条 confirmation nothing is applied for
    assert post(vendor, "/duties/key-changes/new", data, "/duties/key-changes/new").status_code == 200
    assert db_session.scalar(select(func.count(KeyChange.id)).where(KeyChange.title == "计算节点升级")) == 0
    assert post(vendor, "/duties/key-changes/new", {**data, "security_confirmed": "y"},
                "/duties/key-changes/new").status_code == 302
    change = db_session.scalars(select(KeyChange).where(KeyChange.title == "计算节点升级")).one()
    page = f"/duties/key-changes/{change.id}"
    assert inbox(db_session, f"key_change:{change.id}", "bureau") == 1
    # departments see no key change (the page is not theirs); the vendor cannot approve its own
    response = login_as("dept").get(page)
    assert response.status_code == 403
    response.close()
    assert post(vendor, f"{page}/decide", {"action": "approve"}, page).status_code == 403
    db_session.expire_all()
    assert change.state == "submitted"
    assert post(bureau, f"{page}/decide", {"action": "approve", "note": "同意，注意回退"}, page).status_code == 302
    db_session.expire_all()
    assert change.state == "approved" and change.decided_at is not None
    assert inbox(db_session, f"key_change:{change.id}", "vendor") == 1
    assert post(vendor, f"{page}/decide", {"action": "complete", "note": "升级完成，运行正常"}, page).status_code == 302
    db_session.expire_all()
    assert change.state == "completed" and change.result_note == "升级完成，运行正常"
    assert actions(db_session, "key_change", change.id) == ["key_change.apply", "key_change.approve",
                                                            "key_change.complete"]


def test_api_refuses_hostile_input_and_changes_nothing(app, seed, db_session):
    token = _token(db_session, seed.user_ids["bureau"])
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    before = db_session.scalar(select(func.count(Rectification.id)))
    good = {"target": "vendor", "title": "日志", "finding": "缺少", "requirement": "补齐",
            "due_date": (today() + timedelta(days=5)).isoformat()}
    for bad in ({**good, "title": "x" * 201}, {**good, "due_date": 20261231}, {**good, "target": "nobody"},
                {**good, "extra": 1}, {**good, "finding": "a\x00b"}, {**good, "due_date": "2020-01-01"},
                {**good, "target": "department"}):
        response = client.post("/api/v1/rectifications", json=bad, headers=headers)
        assert response.status_code == 422, (bad, response.status_code, response.get_json())
        response.close()
    assert db_session.scalar(select(func.count(Rectification.id))) == before
    response = client.post("/api/v1/rectifications", json=good, headers=headers)
    assert response.status_code == 201 and response.get_json()["state"] == "issued"
    response.close()
    # a department's token sees its own plans and the platform's, not another department's
    dept_token = _token(db_session, seed.user_ids["dept"])
    response = client.get("/api/v1/emergency-plans", headers={"Authorization": f"Bearer {dept_token}"})
    body = response.get_json()
    response.close()
    assert {p["department_id"] for p in body["items"]} == {seed.dept_a, None}
    response = client.post("/api/v1/drills", json={"plan_id": seed.extra["plan_id"][0], "title": "演练",
                                                   "scheduled_for": "2999-01-01"},
                           headers={"Authorization": f"Bearer {dept_token}"})
    assert response.status_code == 422
    response.close()

"""备份与恢复 pages on both database backends: policy form errors in Chinese and the next runs in
Beijing time, department scoping, "back up now", a restore refused without its reason, and an
extraction that needs the bureau's approval before any link works (the download itself, against
the dev cloud, is in test_backup_extraction_devcloud.py), and the monthly report's backup counts."""
import re
from datetime import timedelta

from sqlalchemy import select

from tests.conftest import csrf_token_from


def post(client, url, data, page=None, **kwargs):
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token_from(html), **data}, **kwargs)


POLICY = {"name": "核心库每日备份", "kinds": "volume", "cron": "30 1 * * *", "keep_count": "7",
          "timeout_seconds": "3600", "ssh_port": "22", "enabled": "y"}


def test_policy_form_errors_in_chinese_and_next_runs_in_beijing_time(app, seed, login_as, db_session):
    from portal.models.backups import BackupPolicy
    from portal.models.audit import AuditEvent
    dept = login_as("dept")
    html = dept.get("/backups/policies/new").get_data(as_text=True)
    assert "甲局 · 部门默认" in html and "乙局" not in html  # only its own department's targets

    target = f"d{seed.dept_a}"
    bad_cron = post(dept, "/backups/policies/new", {**POLICY, "target": target, "cron": "每天两点"})
    assert bad_cron.status_code == 200
    assert "请按 cron 格式填写备份时间" in bad_cron.get_data(as_text=True)
    assert "每天两点" in bad_cron.get_data(as_text=True)  # the input is kept
    six = post(dept, "/backups/policies/new", {**POLICY, "target": target, "cron": "0 2 * * * *"})
    assert "请按 cron 格式填写备份时间" in six.get_data(as_text=True)
    no_keep = post(dept, "/backups/policies/new", {**POLICY, "target": target, "keep_count": ""})
    assert "请设置保留的备份份数或保留天数。" in no_keep.get_data(as_text=True)
    foreign = db_session.scalars(select(BackupPolicy).where(BackupPolicy.department_id == seed.dept_b)).one()
    forged = post(dept, "/backups/policies/new", {**POLICY, "target": f"s{foreign.system_id}"})
    assert "请选择本单位的系统。" in forged.get_data(as_text=True)
    assert db_session.scalar(select(BackupPolicy).where(BackupPolicy.name == POLICY["name"])) is None

    response = post(dept, "/backups/policies/new", {**POLICY, "target": target})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    policy = db_session.scalars(select(BackupPolicy).where(BackupPolicy.name == POLICY["name"])).one()
    assert (policy.department_id, policy.system_id, policy.cron) == (seed.dept_a, None, "30 1 * * *")
    html = dept.get(response.headers["Location"]).get_data(as_text=True)
    runs = re.search(r'id="next-runs">(.*?)</dd>', html, re.S).group(1)
    assert len(re.findall(r"\d{4}-\d{2}-\d{2} 01:30", runs)) == 3  # 01:30 Beijing = 17:30 UTC
    assert policy.next_run_at.hour == 17 and policy.next_run_at.minute == 30
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "backup.policy.create")).one()
    assert event.actor_username == seed.users["dept"] and event.department_id == seed.dept_a

    # disable / enable, and "back up now" queues one manual run (a second is refused while it waits)
    page = f"/backups/policies/{policy.id}"
    assert post(dept, f"{page}/enabled", {}, page=page).status_code == 302
    db_session.refresh(policy)
    assert policy.enabled is False and policy.next_run_at is None
    assert post(dept, f"{page}/run", {}, page=page).status_code == 302
    html = post(dept, f"{page}/run", {}, page=page, follow_redirects=True).get_data(as_text=True)
    assert "该策略已有一次备份在排队或进行中。" in html


def test_department_sees_only_its_own_backups(app, seed, login_as):
    a_policy, b_policy = seed.extra["policy_id"]
    a_artifact, b_artifact = seed.extra["artifact_id"]
    a_ext, b_ext = seed.extra["extraction_id"]
    dept = login_as("dept")
    for url in ("/backups/", "/backups/runs", "/backups/artifacts", "/backups/extractions", "/backups/restores"):
        html = dept.get(url).get_data(as_text=True)
        assert f"每日备份-{seed.dept_b}" not in html and f"gc-seed-backup-{seed.dept_b}" not in html, url
        assert "乙局" not in html, url
    assert f"每日备份-{seed.dept_a}" in dept.get("/backups/").get_data(as_text=True)
    assert f"gc-seed-backup-{seed.dept_a}" in dept.get("/backups/artifacts").get_data(as_text=True)
    for url in (f"/backups/policies/{b_policy}", f"/backups/policies/{b_policy}/edit",
                f"/backups/artifacts/{b_artifact}/restore", f"/backups/artifacts/{b_artifact}/extract",
                f"/backups/extractions/{b_ext}"):
        assert dept.get(url).status_code == 404, url
    token = csrf_token_from(dept.get("/backups/").get_data(as_text=True))
    for url in (f"/backups/policies/{b_policy}/run", f"/backups/policies/{b_policy}/enabled",
                f"/backups/artifacts/{b_artifact}/extract", f"/backups/extractions/{b_ext}/link"):
        assert dept.post(url, data={"csrf_token": token, "reason": "x"}).status_code == 404, url
    auditor = login_as("auditor")
    html = auditor.get("/backups/").get_data(as_text=True)
    assert f"每日备份-{seed.dept_a}" in html and f"每日备份-{seed.dept_b}" in html
    token = csrf_token_from(auditor.get("/backups/").get_data(as_text=True))
    assert auditor.post(f"/backups/policies/{a_policy}/run", data={"csrf_token": token}).status_code == 403


def test_vendor_restore_names_the_departments_request(app, seed, login_as):
    artifact = seed.extra["artifact_id"][0]
    vendor = login_as("vendor")
    page = f"/backups/artifacts/{artifact}/restore"
    html = vendor.get(page).get_data(as_text=True)
    assert 'value="new_volume"' in html and 'value="server_rebuild"' not in html  # a volume backup's modes
    response = post(vendor, page, {"mode": "new_volume", "reason": ""})
    assert response.status_code == 200 and "请注明使用部门的恢复请求" in response.get_data(as_text=True)
    response = post(login_as("dept"), page, {"mode": "new_volume", "urgent": "y", "reason": ""})
    assert "请说明紧急恢复的理由。" in response.get_data(as_text=True)
    response = post(login_as("dept"), page, {"mode": "server_rebuild", "reason": "x"})
    assert response.status_code == 200 and "restores" not in response.headers.get("Location", "")


def test_extraction_needs_the_bureaus_decision_before_any_link(app, seed, login_as, db_session):
    from portal.models.backups import BackupExtraction
    from portal.models.audit import AuditEvent
    artifact = seed.extra["artifact_id"][0]
    seeded = seed.extra["extraction_id"][0]
    dept, bureau = login_as("dept"), login_as("bureau")

    # one open extraction per backup; a reason is required
    page = f"/backups/artifacts/{artifact}/extract"
    assert "该备份已有一项未结束的提取申请。" in post(dept, page, {"reason": "再次申请"}).get_data(as_text=True)
    empty = post(dept, page, {"reason": ""})
    assert empty.status_code == 200 and "此项为必填项。" in empty.get_data(as_text=True)

    # before the decision: no link can be made, and a made-up one is 404
    detail = f"/backups/extractions/{seeded}"
    html = post(dept, f"{detail}/link", {}, page=detail, follow_redirects=True).get_data(as_text=True)
    assert "只有在大数据局批准提取且文件准备好后，才能生成下载链接。" in html
    assert 'id="download-link"' not in html
    response = dept.get("/backups/download/" + "A" * 43)
    assert response.status_code == 404 and "该下载链接无效" in response.get_data(as_text=True)
    assert dept.get(f"/backups/download/{seed.extra['token'][0]}").status_code == 404

    # the bureau must give its reason; a rejection is final and audited
    html = post(bureau, f"{detail}/decide", {"comment": "", "reject": "驳回"}, page=detail).get_data(as_text=True)
    assert "请填写审批意见及理由。" in html
    response = post(bureau, f"{detail}/decide", {"comment": "理由不充分", "reject": "驳回"}, page=detail)
    assert response.status_code == 302
    extraction = db_session.get(BackupExtraction, seeded)
    db_session.refresh(extraction)
    assert (extraction.state, extraction.decision_comment, extraction.token_hash) == ("rejected", "理由不充分", None)
    html = post(bureau, f"{detail}/decide", {"comment": "改为同意", "approve": "批准"}, page=detail,
                follow_redirects=True).get_data(as_text=True)
    assert "该提取申请已审批。" in html
    html = post(dept, f"{detail}/link", {}, page=detail, follow_redirects=True).get_data(as_text=True)
    assert "只有在大数据局批准提取" in html
    events = db_session.scalars(select(AuditEvent).where(AuditEvent.object_type == "backup_extraction")
                                .order_by(AuditEvent.seq)).all()
    assert [(e.action, e.outcome) for e in events] == [
        ("backup.extraction.download", "denied"), ("backup.extraction.download", "denied"),
        ("backup.extraction.reject", "success")]
    assert events[-1].detail == "理由不充分" and events[-1].actor_username == seed.users["bureau"]

    # a new application after the rejection is possible
    assert post(dept, page, {"reason": "审计取证需要"}).status_code == 302


def test_monthly_report_counts_backups(app, seed, db_session):
    from datetime import datetime, timezone

    from portal.models.backups import BackupArtifact, BackupRun
    from portal.services.reports import department_figures
    mid = datetime(2026, 10, 15, 6, 0, tzinfo=timezone.utc)
    for run in db_session.scalars(select(BackupRun)):
        run.finished_at = mid  # the seeded succeeded runs, one per department
    a_run = db_session.scalars(select(BackupRun).where(BackupRun.department_id == seed.dept_a)).one()
    common = dict(policy_id=a_run.policy_id, department_id=seed.dept_a, system_id=a_run.system_id, kinds="volume")
    db_session.add_all([
        BackupRun(trigger="manual", state="failed", finished_at=mid + timedelta(days=1), **common),
        BackupRun(trigger="manual", state="queued", **common),
        BackupRun(trigger="schedule", state="succeeded", finished_at=mid - timedelta(days=40), **common)])
    artifact = db_session.scalars(select(BackupArtifact).where(BackupArtifact.department_id == seed.dept_a)).one()
    artifact.verified_at, artifact.verify_outcome = mid, "ok"
    db_session.commit()
    figures = department_figures(db_session, 2026, 10)
    keys = ("backups_run", "backups_failed", "backups_verified")
    assert [figures[seed.dept_a][k] for k in keys] == [1, 1, 1]
    assert [figures[seed.dept_b][k] for k in keys] == [1, 0, 0]
    assert [figures[seed.county][k] for k in keys] == [0, 0, 0]

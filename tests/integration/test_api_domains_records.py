"""The API of what is kept (issue 15): backups, vendor access grants and the audit log, with the
pages' access rules — a department sees only its own (another's id answers 404), roles a page
refuses get 403, writes go through the pages' services and write one audit event, refused input
changes nothing, lists are paginated within bounds, and the audit export streams CSV."""
import csv
import io
import os
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from portal.models.accounts import User
from portal.models.audit import AuditEvent
from portal.models.backups import BackupExtraction, BackupPolicy, BackupRun, RestoreJob
from portal.models.grants import VendorGrant
from portal.services.api_tokens import create_token
from portal.services.audit import RequestInfo, record_event

API = "/api/v1"
LISTS = ("/backups/policies", "/backups/runs", "/backups/artifacts", "/backups/restores", "/backups/extractions",
         "/grants", "/audit/events")


@pytest.fixture
def auth(app, seed):
    """auth(key) -> the Authorization header of a token of the seeded user under key (all made first, so
    their audit events come before anything a test counts)."""
    from portal.extensions import db
    made = {}
    with app.app_context():
        for key, user_id in seed.user_ids.items():
            user = db.session.get(User, user_id)
            token = create_token(db.session, RequestInfo(actor=user), user, "records", scope="write", days=1)[1]
            made[key] = {"Authorization": f"Bearer {token}"}
    return made.__getitem__


@pytest.fixture
def api(app):
    return app.test_client()


def count(db_session, model, *where):
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


def actions_since(db_session, last_id):
    db_session.expire_all()
    return [e.action for e in db_session.scalars(select(AuditEvent).where(  # not the tokens' own use, nor denials
        AuditEvent.id > last_id, AuditEvent.action.not_like("api_token.%"),
        AuditEvent.action != "access.denied").order_by(AuditEvent.id))]


def last_event_id(db_session):
    return db_session.scalar(select(func.max(AuditEvent.id))) or 0


def refused_changes_nothing(api, db_session, method, url, headers, bodies, model, status=(422,)):
    """Send each body; each answers a 4xx in status, and neither model's rows nor the audit log change."""
    rows, events = count(db_session, model), last_event_id(db_session)
    for body in bodies:
        response = api.open(f"{API}{url}", method=method, json=body, headers=headers)
        assert response.status_code in status, (body, response.status_code, response.get_json())
        assert response.get_json()["code"] == "invalid"
    assert count(db_session, model) == rows
    assert actions_since(db_session, events) == []


def seed_restores(db_session, seed):
    ids = []
    for dept_id, artifact_id in zip((seed.dept_a, seed.dept_b), seed.extra["artifact_id"]):
        job = RestoreJob(artifact_id=artifact_id, department_id=dept_id, mode="new_volume", state="succeeded",
                         reason="误删恢复", target_name=f"restore-{dept_id}")
        db_session.add(job)
        db_session.flush()
        ids.append(job.id)
    db_session.commit()
    return ids


# -- reads and scope --------------------------------------------------------------------------

def test_backups_a_department_sees_its_own_and_others_see_what_the_pages_show(app, seed, api, auth, db_session):
    a_policy, b_policy = seed.extra["policy_id"]
    a_artifact, b_artifact = seed.extra["artifact_id"]
    a_extraction, b_extraction = seed.extra["extraction_id"]
    a_restore, b_restore = seed_restores(db_session, seed)
    a_run, b_run = (db_session.scalar(select(BackupRun.id).where(BackupRun.department_id == d))
                    for d in (seed.dept_a, seed.dept_b))
    dept = auth("dept")

    policies = api.get(f"{API}/backups/policies", headers=dept).get_json()
    assert (policies["total"], policies["page"], policies["pages"]) == (1, 1, 1)
    assert [(p["id"], p["name"], p["department_id"], p["keep_count"]) for p in policies["items"]] == [
        (a_policy, f"每日备份-{seed.dept_a}", seed.dept_a, 7)]
    for path, own, other in (("policies", a_policy, b_policy), ("runs", a_run, b_run),
                             ("restores", a_restore, b_restore), ("extractions", a_extraction, b_extraction)):
        assert api.get(f"{API}/backups/{path}/{own}", headers=dept).get_json()["id"] == own
        foreign = api.get(f"{API}/backups/{path}/{other}", headers=dept)
        assert foreign.status_code == 404 and foreign.get_json()["code"] == "not_found"
        assert set(foreign.get_json()) == {"code", "message"}  # nothing of the object
    for path, own in (("runs", a_run), ("artifacts", a_artifact), ("restores", a_restore),
                      ("extractions", a_extraction)):
        body = api.get(f"{API}/backups/{path}", headers=dept).get_json()
        assert [(i["id"], i["department_id"]) for i in body["items"]] == [(own, seed.dept_a)], path
    run = api.get(f"{API}/backups/runs/{a_run}", headers=dept).get_json()
    assert (run["state"], run["trigger"], run["size_gb"]) == ("succeeded", "schedule", 1)
    extraction = api.get(f"{API}/backups/extractions/{a_extraction}", headers=dept).get_json()
    assert (extraction["state"], extraction["reason"]) == ("applied", "审计取证") and "token_hash" not in extraction

    # the bureau, the vendor, the auditor and the admin see every department's (every backup page is theirs)
    for key in ("bureau", "vendor", "auditor", "admin"):
        for path in ("policies", "runs", "artifacts", "restores", "extractions"):
            body = api.get(f"{API}/backups/{path}", headers=auth(key)).get_json()
            assert body["total"] == 2 and {i["department_id"] for i in body["items"]} == {seed.dept_a, seed.dept_b}
        assert api.get(f"{API}/backups/policies/{b_policy}", headers=auth(key)).status_code == 200
    assert api.get(f"{API}/backups/runs?state=failed", headers=auth("bureau")).get_json()["total"] == 0
    assert api.get(f"{API}/backups/runs?policy_id={b_policy}", headers=auth("bureau")).get_json()["total"] == 1
    one = api.get(f"{API}/backups/artifacts?per_page=1&page=2", headers=auth("auditor")).get_json()
    assert (len(one["items"]), one["page"], one["pages"], one["total"]) == (1, 2, 2, 2)
    assert api.get(f"{API}/backups/runs?state=lost", headers=dept).status_code == 400
    assert api.get(f"{API}/backups/policies").status_code == 401


@pytest.mark.parametrize("path", LISTS)
def test_pagination_is_refused_outside_its_bounds(app, api, auth, path):
    for query in ("per_page=0", "per_page=101", "page=0", "page=-1", "per_page=1.5", "page=x",
                  "per_page=1&per_page=2", "unknown=1"):
        response = api.get(f"{API}{path}?{query}", headers=auth("auditor"))  # reads every list (三权分立)
        assert response.status_code == 400, (query, response.get_json())
        assert response.get_json()["code"] == "invalid" and response.get_json()["problems"]
    assert api.get(f"{API}{path}?per_page=100&page=1", headers=auth("auditor")).status_code == 200


# -- backup writes ----------------------------------------------------------------------------

def test_backup_policies_created_and_changed_as_the_page_allows(app, seed, api, auth, db_session):
    dept, events = auth("dept"), last_event_id(db_session)
    refused_changes_nothing(api, db_session, "POST", "/backups/policies", dept, [
        {"name": 5}, {"name": "x", "keep_count": 10 ** 12}, {"name": "x", "keep_count": 2 ** 64},
        {"name": "x", "keep_count": 1.5}, {"name": "x", "keep_count": "3"}, {"name": "x", "enabled": "yes"},
        {"name": "x", "owner": "me"}, {"name": "a\x00b"}, {"name": "x", "hook_pre": "ok\x1b[31m"},
        {"name": "x" * 121}, {"name": "x", "cron": "every day"}, {"name": "x", "ssh_port": 70000},
        {"name": "x", "department_id": seed.dept_b},  # another department: not a target of this user
        {"name": "x", "system_id": 1, "department_id": seed.dept_a},
        {"name": "x", "keep_count": None, "keep_days": None}], BackupPolicy)
    bad = api.post(f"{API}/backups/policies", json={"name": "x", "cron": "every day"}, headers=dept).get_json()
    assert [p["field"] for p in bad["problems"]] == ["cron"]
    assert api.post(f"{API}/backups/policies", data="name=x", headers=dept).status_code == 415

    created = api.post(f"{API}/backups/policies", json={"name": "部门默认备份", "keep_count": 3, "cron": "30 1 * * *"},
                       headers=dept)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["department_id"], body["system_id"], body["keep_count"], body["cron"], body["enabled"]) == (
        seed.dept_a, None, 3, "30 1 * * *", True)
    assert body["next_run_at"] is not None
    assert actions_since(db_session, events) == ["backup.policy.create"]
    duplicate = api.post(f"{API}/backups/policies", json={"name": "部门默认备份"}, headers=dept)
    assert duplicate.status_code == 422 and duplicate.get_json()["problems"][0]["field"] == "name"

    a_policy, b_policy = seed.extra["policy_id"]
    events = last_event_id(db_session)
    patched = api.patch(f"{API}/backups/policies/{a_policy}", json={"enabled": False, "keep_count": 5}, headers=dept)
    assert patched.status_code == 200, patched.get_json()
    assert (patched.get_json()["enabled"], patched.get_json()["keep_count"], patched.get_json()["next_run_at"],
            patched.get_json()["name"]) == (False, 5, None, f"每日备份-{seed.dept_a}")
    assert actions_since(db_session, events) == ["backup.policy.update"]
    refused_changes_nothing(api, db_session, "PATCH", f"/backups/policies/{a_policy}", dept, [
        {"keep_count": -1}, {"keep_count": 10 ** 9}, {"name": ""}, {"name": "\x07"}, {"colour": "red"},
        {"enabled": 1}], BackupPolicy)
    assert db_session.get(BackupPolicy, a_policy).keep_count == 5
    assert api.patch(f"{API}/backups/policies/{b_policy}", json={"enabled": False}, headers=dept).status_code == 404
    assert api.patch(f"{API}/backups/policies/{b_policy}", json={"enabled": False},
                     headers=auth("auditor")).status_code == 403
    assert api.post(f"{API}/backups/policies", json={"name": "x"}, headers=auth("auditor")).status_code == 403
    # the bureau edits any department's policy, as on the page
    assert api.patch(f"{API}/backups/policies/{b_policy}", json={"keep_days": 30},
                     headers=auth("bureau")).get_json()["keep_days"] == 30

    # back up now: the department, the vendor and the admin; one run at a time
    events = last_event_id(db_session)
    assert api.post(f"{API}/backups/policies/{a_policy}/runs", headers=auth("bureau")).status_code == 403
    assert api.post(f"{API}/backups/policies/{b_policy}/runs", headers=dept).status_code == 404
    run = api.post(f"{API}/backups/policies/{a_policy}/runs", headers=dept)
    assert run.status_code == 201 and (run.get_json()["state"], run.get_json()["trigger"]) == ("queued", "manual")
    again = api.post(f"{API}/backups/policies/{a_policy}/runs", headers=auth("vendor"))
    assert again.status_code == 409 and again.get_json()["code"] == "conflict"
    assert actions_since(db_session, events) == ["backup.run.queue"]


def test_backup_hooks_use_the_departments_key_and_wait_for_its_admin(app, seed, api, auth, db_session):
    """第十八条 through the API: a key of another department is refused (422, in Chinese); hooks the
    vendor sets are pending until the department's administrator approves them."""
    a_policy, _b_policy = seed.extra["policy_id"]
    a_key, b_key = seed.extra["key_id"]
    hooks = {"hook_pre": "sync", "ssh_username": "root", "ssh_host_key": _host_key(), "ssh_key_id": b_key}
    refused_changes_nothing(api, db_session, "PATCH", f"/backups/policies/{a_policy}", auth("vendor"), [hooks],
                            BackupPolicy)
    foreign = api.patch(f"{API}/backups/policies/{a_policy}", json=hooks,
                        headers={**auth("dept_admin"), "Accept-Language": "zh-CN"})
    assert foreign.status_code == 422 and "请选择本单位的 SSH 密钥。" in str(foreign.get_json())
    pending = api.patch(f"{API}/backups/policies/{a_policy}", json={**hooks, "ssh_key_id": a_key},
                        headers=auth("vendor"))
    assert pending.status_code == 200 and pending.get_json()["hooks_state"] == "pending"
    assert "private_key" not in str(pending.get_json())
    for key in ("vendor", "dept", "admin", "dept_b_admin"):
        assert api.post(f"{API}/backups/policies/{a_policy}/hooks-approval",
                        headers=auth(key)).status_code in (403, 404), key
    events = last_event_id(db_session)
    approved = api.post(f"{API}/backups/policies/{a_policy}/hooks-approval", headers=auth("dept_admin"))
    assert approved.status_code == 200 and approved.get_json()["hooks_state"] == "approved"
    assert approved.get_json()["hooks_approved_by_id"] == seed.user_ids["dept_admin"]
    assert actions_since(db_session, events) == ["backup_policy.hooks_approved"]


def test_extractions_need_the_department_to_apply_and_the_bureau_to_decide(app, seed, api, auth, db_session):
    a_artifact, b_artifact = seed.extra["artifact_id"]
    a_extraction, b_extraction = seed.extra["extraction_id"]
    dept, bureau = auth("dept"), auth("bureau")

    for key in ("dept", "dept_admin", "vendor", "admin"):  # only the bureau decides
        assert api.post(f"{API}/backups/extractions/{a_extraction}/decision",
                        json={"decision": "reject", "comment": "不"}, headers=auth(key)).status_code == 403
    refused_changes_nothing(api, db_session, "POST", f"/backups/extractions/{a_extraction}/decision", bureau, [
        {"decision": "reject", "comment": ""}, {"decision": "reject", "comment": "   "}, {"decision": "maybe",
                                                                                          "comment": "x"},
        {"decision": "reject"}, {"decision": "reject", "comment": "x" * 2001}, {"decision": "reject", "comment": 1},
        {"decision": "reject", "comment": "理由\x00"}, {"decision": "reject", "comment": "x", "approve": True}],
        BackupExtraction)
    assert db_session.get(BackupExtraction, a_extraction).state == "applied"

    events = last_event_id(db_session)
    rejected = api.post(f"{API}/backups/extractions/{a_extraction}/decision",
                        json={"decision": "reject", "comment": "理由不充分"}, headers=bureau)
    assert rejected.status_code == 200, rejected.get_json()
    assert (rejected.get_json()["state"], rejected.get_json()["decision_comment"]) == ("rejected", "理由不充分")
    assert actions_since(db_session, events) == ["backup.extraction.reject"]
    twice = api.post(f"{API}/backups/extractions/{a_extraction}/decision",
                     json={"decision": "approve", "comment": "改为同意"}, headers=bureau)
    assert twice.status_code == 409 and db_session.get(BackupExtraction, a_extraction).state == "rejected"

    # a department applies for its own backups only; the vendor and the bureau do not apply
    refused_changes_nothing(api, db_session, "POST", f"/backups/artifacts/{a_artifact}/extractions", dept, [
        {"reason": ""}, {"reason": 42}, {"reason": "取证", "urgent": True}, {}], BackupExtraction)
    assert api.post(f"{API}/backups/artifacts/{b_artifact}/extractions", json={"reason": "取证"},
                    headers=dept).status_code == 404
    for key in ("vendor", "bureau", "admin"):
        assert api.post(f"{API}/backups/artifacts/{a_artifact}/extractions", json={"reason": "取证"},
                        headers=auth(key)).status_code == 403
    events = last_event_id(db_session)
    applied = api.post(f"{API}/backups/artifacts/{a_artifact}/extractions", json={"reason": "审计取证需要"}, headers=dept)
    assert applied.status_code == 201
    assert (applied.get_json()["state"], applied.get_json()["department_id"]) == ("applied", seed.dept_a)
    assert actions_since(db_session, events) == ["backup.extraction.apply"]
    assert count(db_session, BackupExtraction, BackupExtraction.department_id == seed.dept_a) == 2


class RestoringCloud:
    """The one cloud call a new-volume restore makes (the restore's own behaviour in the cloud is
    proved against the dev cloud in test_backup_restore.py; here: who may ask for it)."""

    def __init__(self):
        self.calls = []

    def restore_volume_backup(self, project_id, backup_id, name=None, volume_id=None):
        self.calls.append((backup_id, name))
        return "f" * 32


def test_restores_need_what_the_page_demands(app, seed, api, auth, db_session, monkeypatch):
    a_artifact, b_artifact = seed.extra["artifact_id"]
    cloud = RestoringCloud()
    monkeypatch.setattr(app.extensions["govcloud_runtime"], "cloud", lambda: cloud)
    url = f"/backups/artifacts/{a_artifact}/restores"
    for key in ("bureau", "admin", "auditor"):  # the page lets the department and the vendor restore
        assert api.post(f"{API}{url}", json={"mode": "new_volume", "reason": "x"}, headers=auth(key)).status_code == 403
    assert api.post(f"{API}/backups/artifacts/{b_artifact}/restores", json={"mode": "new_volume"},
                    headers=auth("dept")).status_code == 404
    refused_changes_nothing(api, db_session, "POST", url, auth("vendor"), [
        {"mode": "new_volume"}, {"mode": "new_volume", "reason": "  "}], RestoreJob)  # the vendor names the request
    refused_changes_nothing(api, db_session, "POST", url, auth("dept"), [
        {"mode": "new_volume", "urgent": True}, {"mode": "server_rebuild"}, {"mode": "everything"},
        {"mode": "new_volume", "urgent": "true"}, {"mode": "new_volume", "target_name": "a\nb"},
        {"mode": "new_volume", "target_name": "x" * 201}, {"mode": "new_volume", "host": "h"}], RestoreJob)
    # 第十八条: the vendor restores only under a live grant of the department for the backup's system
    request = {"mode": "new_volume", "reason": "应甲局张三 12-01 电话请求"}

    def refused():  # a 403, no restore, the denial in the audit log; the cloud is not called
        rows, events, calls = count(db_session, RestoreJob), last_event_id(db_session), len(cloud.calls)
        response = api.post(f"{API}{url}", json=request, headers=auth("vendor"))
        assert response.status_code == 403 and response.get_json()["code"] == "forbidden"
        assert count(db_session, RestoreJob) == rows and len(cloud.calls) == calls
        assert actions_since(db_session, events) == ["backup.restore.start"]
        assert db_session.scalars(select(AuditEvent).where(AuditEvent.id > events)).all()[-1].outcome == "denied"
    refused()
    grant = db_session.get(VendorGrant, seed.extra["grant_id"][0])
    grant.state = "approved"
    db_session.commit()
    events = last_event_id(db_session)
    vendor = api.post(f"{API}{url}", json=request, headers=auth("vendor"))
    assert vendor.status_code == 201 and vendor.get_json()["reason"] == "应甲局张三 12-01 电话请求"
    assert vendor.get_json()["grant_id"] == grant.id
    started_event = db_session.scalars(select(AuditEvent).where(AuditEvent.id > events,
                                                                AuditEvent.action == "backup.restore.start")).one()
    assert started_event.after["grant"] == grant.id and started_event.actor_username == seed.users["vendor"]
    grant.ends_at = grant.starts_at + timedelta(minutes=1)  # over
    db_session.commit()
    refused()
    events = last_event_id(db_session)
    started = api.post(f"{API}{url}", json={"mode": "new_volume", "target_name": "db-restored"}, headers=auth("dept"))
    assert started.status_code == 201, started.get_json()
    body = started.get_json()
    assert (body["state"], body["phase"], body["target_name"], body["department_id"]) == (
        "running", "restoring", "db-restored", seed.dept_a)
    assert actions_since(db_session, events) == ["backup.restore.start"]
    assert cloud.calls[-1] == (f"{seed.dept_a:032d}", "db-restored") and len(cloud.calls) == 2
    assert body["grant_id"] is None
    assert api.get(f"{API}/backups/restores/{body['id']}", headers=auth("dept_b")).status_code == 404
    assert api.get(f"{API}/backups/restores/{body['id']}", headers=auth("dept")).get_json()["mode"] == "new_volume"


# -- vendor access grants ---------------------------------------------------------------------

def _host_key():
    """A well-formed host public key ('<type> <base64>') to pin."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    return Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def test_grants_vendors_apply_department_admins_decide(app, seed, api, auth, db_session):
    a_grant, b_grant = seed.extra["grant_id"]
    vendor, admin = auth("vendor"), auth("dept_admin")

    own = api.get(f"{API}/grants", headers=auth("dept")).get_json()
    assert [(g["id"], g["department_id"], g["state"]) for g in own["items"]] == [(a_grant, seed.dept_a, "requested")]
    assert api.get(f"{API}/grants/{b_grant}", headers=auth("dept")).status_code == 404
    for key in ("vendor", "bureau", "auditor", "admin"):
        assert api.get(f"{API}/grants", headers=auth(key)).get_json()["total"] == 2
        assert api.get(f"{API}/grants/{b_grant}", headers=auth(key)).get_json()["reason"] == "例行巡检"
    assert api.get(f"{API}/grants?state=approved", headers=vendor).get_json()["total"] == 0

    system = db_session.get(VendorGrant, a_grant).system_id
    now = datetime.now(timezone.utc)
    window = {"starts_at": now.isoformat(), "ends_at": (now + timedelta(hours=2)).isoformat()}
    refused_changes_nothing(api, db_session, "POST", "/grants", vendor, [
        {"system_id": system, "reason": "排查", "starts_at": 1700000000, "ends_at": window["ends_at"]},
        {"system_id": system, "reason": "排查", "starts_at": "2026-12-01T08:00:00", "ends_at": window["ends_at"]},
        {"system_id": 2 ** 64, "reason": "排查", **window}, {"system_id": str(system), "reason": "排查", **window},
        {"system_id": system, "reason": "排\x00查", **window}, {"system_id": system, "reason": "排查", "root": True,
                                                                   **window},
        {"system_id": system, "reason": "排查", "starts_at": window["starts_at"],
         "ends_at": (now + timedelta(days=31)).isoformat()},  # longer than 30 days (the service's rule)
        {"system_id": system, "reason": "排查", "starts_at": window["ends_at"], "ends_at": window["starts_at"]}],
        VendorGrant)
    for key in ("dept_admin", "bureau", "admin"):
        assert api.post(f"{API}/grants", json={"system_id": system, "reason": "排查", **window},
                        headers=auth(key)).status_code == 403
    events = last_event_id(db_session)
    applied = api.post(f"{API}/grants", json={"system_id": system, "reason": "数据库性能排查", **window}, headers=vendor)
    assert applied.status_code == 201, applied.get_json()
    new = applied.get_json()
    assert (new["state"], new["department_id"], new["vendor_id"]) == ("requested", seed.dept_a, seed.user_ids["vendor"])
    assert actions_since(db_session, events) == ["grant.apply"]

    # the decision: the department's administrator only, of its own department
    for key in ("dept", "bureau", "vendor", "admin"):
        assert api.post(f"{API}/grants/{a_grant}/decision", json={"decision": "refuse", "comment": "不"},
                        headers=auth(key)).status_code == 403
    assert api.post(f"{API}/grants/{b_grant}/decision", json={"decision": "refuse", "comment": "不"},
                    headers=admin).status_code == 404
    refused_changes_nothing(api, db_session, "POST", f"/grants/{a_grant}/decision", admin, [
        {"decision": "refuse"}, {"decision": "refuse", "comment": "不", "ssh_host": "10.0.0.1"},
        {"decision": "approve", "ssh_host": "10.0.0.1", "ssh_username": "ops", "ssh_host_key": "nonsense"},
        {"decision": "approve", "ssh_host": "10.0.0.1", "ssh_username": "ops", "ssh_port": 0,
         "ssh_host_key": _host_key()},
        {"decision": "approve", "ssh_host": "", "ssh_username": "ops", "ssh_host_key": _host_key()}], VendorGrant)
    assert db_session.get(VendorGrant, a_grant).state == "requested"

    events = last_event_id(db_session)
    refused = api.post(f"{API}/grants/{a_grant}/decision", json={"decision": "refuse", "comment": "窗口不合适"},
                       headers=admin)
    assert refused.status_code == 200 and refused.get_json()["state"] == "refused"
    assert refused.get_json()["decision_comment"] == "窗口不合适"
    assert api.post(f"{API}/grants/{a_grant}/decision", json={"decision": "refuse", "comment": "再次"},
                    headers=admin).status_code == 409
    approved = api.post(f"{API}/grants/{new['id']}/decision", json={
        "decision": "approve", "ssh_host": "10.0.0.1", "ssh_port": 2222, "ssh_username": "ops",
        "ssh_host_key": _host_key(), "comment": "同意"}, headers=admin)
    assert approved.status_code == 200, approved.get_json()
    body = approved.get_json()
    assert (body["state"], body["ssh_host"], body["ssh_port"]) == ("approved", "10.0.0.1", 2222)
    assert body["public_key"].startswith("ssh-ed25519 ")
    key_file = f"{app.config['GRANT_KEY_DIR']}/grant-{new['id']}.key"
    with open(key_file) as f:
        assert f.read().startswith("-----BEGIN")

    assert api.post(f"{API}/grants/{new['id']}/revoke", json={}, headers=auth("dept")).status_code == 403
    assert api.post(f"{API}/grants/{b_grant}/revoke", json={}, headers=admin).status_code == 404
    assert api.post(f"{API}/grants/{new['id']}/revoke", json={"comment": 7}, headers=admin).status_code == 422
    revoked = api.post(f"{API}/grants/{new['id']}/revoke", json={"comment": "已完成"}, headers=admin)
    assert revoked.status_code == 200 and revoked.get_json()["state"] == "revoked"
    assert revoked.get_json()["ended_at"] is not None
    assert not os.path.exists(key_file)
    assert actions_since(db_session, events) == ["grant.refuse", "grant.approve", "grant.revoke"]

    # the vendor withdraws its own application; nobody else does
    assert api.post(f"{API}/grants/{b_grant}/withdraw", headers=auth("dept_b_admin")).status_code == 403
    withdrawn = api.post(f"{API}/grants/{b_grant}/withdraw", headers=vendor)
    assert withdrawn.status_code == 200 and withdrawn.get_json()["state"] == "withdrawn"


# -- the audit log ----------------------------------------------------------------------------

def seed_events(app, seed):
    """Five events of request "req-api": three of department A (one failed, one in March), two of B."""
    from portal.extensions import db
    with app.app_context():
        ctx = RequestInfo(correlation_id="req-api")
        for n, (dept, outcome, day) in enumerate([(seed.dept_a, "success", 10), (seed.dept_a, "failure", 11),
                                                  (seed.dept_a, "success", 12), (seed.dept_b, "success", 11),
                                                  (seed.dept_b, "denied", 12)]):
            event = record_event(db.session, ctx, "department.update", object_type="department",
                                 object_id=str(dept), department_id=dept, outcome=outcome, detail=f"n{n}",
                                 after={"名称": "甲局", "n": n})
            event.occurred_at = datetime(2026, 3, day, 4, 0, tzinfo=timezone.utc)  # noon in Beijing
        db.session.commit()


def test_audit_search_is_scoped_filtered_typed_and_paginated(app, seed, api, auth):
    seed_events(app, seed)
    assert api.get(f"{API}/audit/events", headers=auth("vendor")).status_code == 403  # the page refuses vendors
    assert api.get(f"{API}/audit/events/export", headers=auth("vendor")).status_code == 403

    own = api.get(f"{API}/audit/events?request_id=req-api", headers=auth("dept")).get_json()
    assert own["total"] == 3 and [e["detail"] for e in own["items"]] == ["n2", "n1", "n0"]  # newest first
    assert {e["department_id"] for e in own["items"]} == {seed.dept_a}
    assert api.get(f"{API}/audit/events?department_id={seed.dept_b}", headers=auth("dept")).get_json()["total"] == 0

    for key in ("auditor", "bureau"):
        assert api.get(f"{API}/audit/events?request_id=req-api", headers=auth(key)).get_json()["total"] == 5
    for key in ("admin", "security"):  # 三权分立: the system and security administrators do not read it
        for url in (f"{API}/audit/events?request_id=req-api", f"{API}/audit/events/export?request_id=req-api"):
            response = api.get(url, headers=auth(key))
            assert response.status_code == 403 and response.get_json()["code"] == "forbidden", (key, url)

    def details(query):
        body = api.get(f"{API}/audit/events?request_id=req-api&{query}", headers=auth("auditor")).get_json()
        return [e["detail"] for e in body["items"]]
    assert details("outcome=failure") == ["n1"]
    assert details(f"department_id={seed.dept_b}") == ["n4", "n3"]
    assert details("since=2026-03-11&until=2026-03-11") == ["n3", "n1"]
    assert details("since=2026-03-12") == ["n4", "n2"]
    assert details("actor=nobody") == []
    assert details("action=department.update&object_type=department&object_id=" + str(seed.dept_a)) == [
        "n2", "n1", "n0"]
    page = api.get(f"{API}/audit/events?request_id=req-api&per_page=2&page=3", headers=auth("auditor")).get_json()
    assert (page["total"], page["pages"], page["page"], [e["detail"] for e in page["items"]]) == (5, 3, 3, ["n0"])
    event = page["items"][0]
    assert (event["action"], event["outcome"], event["after"]) == ("department.update", "success",
                                                                  {"名称": "甲局", "n": 0})

    # keyset pagination: from the first page's cursor to the last page, the same events, nothing counted
    first = api.get(f"{API}/audit/events?request_id=req-api&per_page=2", headers=auth("auditor")).get_json()
    seen, cursor, pages = [e["detail"] for e in first["items"]], first["next_before"], 1
    while cursor is not None:
        body = api.get(f"{API}/audit/events?request_id=req-api&per_page=2&before={cursor}",
                       headers=auth("auditor")).get_json()
        assert (body["total"], body["pages"], body["page"]) == (None, None, None)
        seen, cursor, pages = seen + [e["detail"] for e in body["items"]], body["next_before"], pages + 1
    assert (seen, pages) == (["n4", "n3", "n2", "n1", "n0"], 3)
    mine = api.get(f"{API}/audit/events?request_id=req-api&per_page=1&before={10 ** 9}", headers=auth("dept"))
    assert [e["detail"] for e in mine.get_json()["items"]] == ["n2"]  # the cursor keeps the department's scope

    for query in ("since=2026-03-12&until=2026-03-11", "since=2026-13-01", "since=yesterday",
                  f"department_id={10 ** 12}", "department_id=0", "outcome=maybe", "actor=" + "x" * 65,
                  "action=a%00b", "object_id=a%0Ab", "page=0", "per_page=0", "per_page=101", "before=0", "before=x", "after=9"):
        response = api.get(f"{API}/audit/events?{query}", headers=auth("auditor"))
        assert response.status_code == 400, query
        assert response.get_json()["code"] == "invalid"


def test_audit_export_streams_the_filtered_rows_as_csv_and_is_audited(app, seed, api, auth, db_session):
    seed_events(app, seed)
    events = last_event_id(db_session)
    response = api.get(f"{API}/audit/events/export?request_id=req-api&outcome=success", headers=auth("auditor"))
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    assert re.match(r'attachment; filename="audit-\d{8}-\d{6}\.csv"', response.headers["Content-Disposition"])
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    header = rows[0]
    assert header[:6] == ["seq", "occurred_at", "actor_username", "actor_role", "department_id", "action"]
    detail = header.index("detail")
    assert [r[detail] for r in rows[1:]] == ["n0", "n2", "n3"]  # oldest first, only successes
    assert rows[1][header.index("after")] == '{"n": 0, "名称": "甲局"}'
    exported = actions_since(db_session, events)
    assert exported == ["audit.export"]
    export_event = db_session.scalars(select(AuditEvent).where(AuditEvent.id > events,
                                                               AuditEvent.action == "audit.export")).one()
    assert export_event.after == {"request_id": "req-api", "outcome": "success"}
    assert export_event.actor_username == seed.users["auditor"]

    dept = api.get(f"{API}/audit/events/export?request_id=req-api", headers=auth("dept"))
    dept_rows = list(csv.reader(io.StringIO(dept.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r[detail] for r in dept_rows[1:]] == ["n0", "n1", "n2"]
    assert {r[header.index("department_id")] for r in dept_rows[1:]} == {str(seed.dept_a)}

    events = last_event_id(db_session)
    for query in ("page=1", "per_page=10", "since=2026-02-30", "outcome=all", "request_id=" + "r" * 65):
        assert api.get(f"{API}/audit/events/export?{query}", headers=auth("auditor")).status_code == 400, query
    assert actions_since(db_session, events) == []  # a refused export is not recorded as one

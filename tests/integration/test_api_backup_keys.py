"""Issue 16 in the API (issue 15's rule: every domain is also in /api/v1): the departments' own SSH keys
for the backup hooks and the restore requests a department makes of the vendor, with the pages' rules —
only the department's administrator writes keys, a department sees only its own (another's id answers
404), roles the page refuses get 403, a refused call changes nothing, the private key is never in an
answer nor in the audit log, and the vendor restores only what a department requested (or under a grant)."""
import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from portal.models.api import IdempotencyKey
from portal.models.audit import AuditEvent
from portal.models.backups import DepartmentSshKey, RestoreJob
from portal.services.ssh_keys import fingerprint

from .test_api_domains_records import (API, RestoringCloud, actions_since, api, auth, count,  # noqa: F401
                                       last_event_id, refused_changes_nothing)

WRITERS_REFUSED = ("dept", "dept_member", "dept_b", "vendor", "bureau", "admin", "auditor", "security")


def _openssh_key():
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return key, private, public.decode()


def _secrets(private_text):
    """What would betray a private key: its text, the lines of its body that hold the private part, and
    its 32-byte seed (raw, hex, base64)."""
    key = serialization.load_ssh_private_key(private_text.encode(), password=None)
    seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())
    body = [line for line in private_text.strip().splitlines() if not line.startswith("-----")]
    return [private_text.strip(), *body[-2:], seed.hex(), base64.b64encode(seed).decode().rstrip("=")]


def _audit_text(db_session):
    db_session.expire_all()
    rows = db_session.scalars(select(AuditEvent)).all()
    return "\n".join(str({c.name: getattr(e, c.name) for c in AuditEvent.__table__.columns}) for e in rows)


def _assert_never_shown(db_session, answers, private_text):
    db_session.expire_all()
    kept = [str(row.response) for row in db_session.scalars(select(IdempotencyKey))]
    everything = "\n".join(answers + kept) + _audit_text(db_session)
    for secret in _secrets(private_text):
        assert secret not in everything
    assert "private_key" not in "\n".join(answers)


# -- reads --------------------------------------------------------------------------------------

def test_ssh_keys_are_read_as_the_pages_show_them(app, seed, api, auth, db_session):
    a_key, b_key = seed.extra["key_id"]
    for key, own, other in (("dept", a_key, b_key), ("dept_admin", a_key, b_key), ("dept_b", b_key, a_key)):
        listing = api.get(f"{API}/backups/keys", headers=auth(key)).get_json()
        assert [i["id"] for i in listing["items"]] == [own] and listing["total"] == 1, key
        item = listing["items"][0]
        assert item["public_key"].startswith("ssh-ed25519 ") and item["fingerprint"] == fingerprint(item["public_key"])
        assert "private_key" not in str(listing) and "private_key_sealed" not in item
        assert api.get(f"{API}/backups/keys/{own}", headers=auth(key)).get_json()["name"] == item["name"]
        foreign = api.get(f"{API}/backups/keys/{other}", headers=auth(key))
        assert foreign.status_code == 404 and set(foreign.get_json()) == {"code", "message"}
        # a department user always gets its own department's, whatever it asks
        assert api.get(f"{API}/backups/keys?department_id={seed.dept_b if own == a_key else seed.dept_a}",
                       headers=auth(key)).get_json()["items"][0]["id"] == own

    # the policy form's other roles choose among every department's live keys: name and fingerprint only
    for key in ("vendor", "bureau", "admin"):
        listing = api.get(f"{API}/backups/keys", headers=auth(key)).get_json()
        assert {i["id"] for i in listing["items"]} == {a_key, b_key} and listing["total"] == 2, key
        assert all(i["public_key"] is None and i["fingerprint"].startswith("SHA256:") for i in listing["items"])
        only_b = api.get(f"{API}/backups/keys?department_id={seed.dept_b}", headers=auth(key)).get_json()
        assert [i["id"] for i in only_b["items"]] == [b_key]
        assert api.get(f"{API}/backups/keys/{a_key}", headers=auth(key)).get_json()["public_key"] is None
    for key, code in (("auditor", "forbidden"), ("security", "forbidden")):
        for url in ("/backups/keys", f"/backups/keys/{a_key}"):
            refused = api.get(f"{API}{url}", headers=auth(key))
            assert refused.status_code == 403 and refused.get_json()["code"] == code, (key, url)
    for query in ("per_page=0", "per_page=101", "department_id=0", "department_id=x", "unknown=1"):
        assert api.get(f"{API}/backups/keys?{query}", headers=auth("bureau")).status_code == 400, query
    assert api.get(f"{API}/backups/keys").status_code == 401
    assert api.get(f"{API}/backups/keys/999999", headers=auth("dept")).status_code == 404


# -- writes -------------------------------------------------------------------------------------

def test_only_the_departments_admin_generates_uploads_and_revokes(app, seed, api, auth, db_session):
    a_key, b_key = seed.extra["key_id"]
    _key, private, public = _openssh_key()
    rows, events = count(db_session, DepartmentSshKey), last_event_id(db_session)
    for key in WRITERS_REFUSED:
        for url, body in (("/backups/keys", {"name": "新密钥"}),
                          ("/backups/keys/uploads", {"name": "上传", "private_key": private})):
            refused = api.post(f"{API}{url}", json=body, headers=auth(key))
            assert refused.status_code == 403 and refused.get_json()["code"] == "forbidden", (key, url)
            assert private not in refused.get_data(as_text=True)
        assert api.post(f"{API}/backups/keys/{a_key}/revoke", headers=auth(key)).status_code == 403, key
    # another department's administrator: the key is not theirs to see
    foreign = api.post(f"{API}/backups/keys/{a_key}/revoke", headers=auth("dept_b_admin"))
    assert foreign.status_code == 404 and foreign.get_json()["code"] == "not_found"
    assert count(db_session, DepartmentSshKey) == rows
    assert count(db_session, DepartmentSshKey, DepartmentSshKey.revoked_at.is_not(None)) == 0
    assert actions_since(db_session, events) == []

    admin = auth("dept_admin")
    seeded_name = db_session.get(DepartmentSshKey, a_key).name
    refused_changes_nothing(api, db_session, "POST", "/backups/keys", admin, [
        {}, {"name": ""}, {"name": "  "}, {"name": "x" * 121}, {"name": "a\nb"}, {"name": 7},
        {"name": "k", "private_key": private}, {"name": seeded_name}], DepartmentSshKey)
    broken = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----"
    refused_changes_nothing(api, db_session, "POST", "/backups/keys/uploads", admin, [
        {"name": "上传"}, {"name": "上传", "private_key": ""}, {"name": "上传", "private_key": "x" * 16385},
        {"name": "上传", "private_key": broken}, {"name": "上传", "private_key": "not a key"},
        {"name": "上传", "private_key": private + "\x00"}, {"name": seeded_name, "private_key": private},
        {"name": "上传", "private_key": private, "public_key": public}], DepartmentSshKey)
    bad = api.post(f"{API}/backups/keys/uploads", json={"name": "上传", "private_key": "not a key"},
                   headers={**admin, "Accept-Language": "zh-CN"})
    assert bad.status_code == 422 and bad.get_json()["problems"][0]["field"] == "private_key"
    assert "OpenSSH" in bad.get_json()["message"] and bad.get_json()["message"] != (
        "Paste an Ed25519 private key in OpenSSH format, without a passphrase.")  # in the caller's language

    answers = []
    events = last_event_id(db_session)
    made = api.post(f"{API}/backups/keys", json={"name": "备份-生成"}, headers={**admin, "Idempotency-Key": "gen-1"})
    assert made.status_code == 201, made.get_json()
    answers.append(made.get_data(as_text=True))
    generated = made.get_json()
    assert (generated["department_id"], generated["name"], generated["revoked"]) == (seed.dept_a, "备份-生成", False)
    assert generated["created_by_id"] == seed.user_ids["dept_admin"]
    assert generated["fingerprint"] == fingerprint(generated["public_key"])
    again = api.post(f"{API}/backups/keys", json={"name": "备份-生成"}, headers={**admin, "Idempotency-Key": "gen-1"})
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == generated["id"]
    assert count(db_session, DepartmentSshKey, DepartmentSshKey.department_id == seed.dept_a) == 2

    uploaded = api.post(f"{API}/backups/keys/uploads", json={"name": "备份-上传", "private_key": private},
                        headers={**admin, "Idempotency-Key": "up-1"})
    assert uploaded.status_code == 201, uploaded.get_json()
    answers.append(uploaded.get_data(as_text=True))
    assert uploaded.get_json()["fingerprint"] == fingerprint(public)
    assert uploaded.get_json()["public_key"].split()[:2] == public.split()[:2]
    db_session.expire_all()
    stored = db_session.get(DepartmentSshKey, uploaded.get_json()["id"])
    assert serialization.load_ssh_private_key(stored.private_key_sealed.encode(), password=None).private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()) == \
        _key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    generated_private = db_session.get(DepartmentSshKey, generated["id"]).private_key_sealed

    revoked = api.post(f"{API}/backups/keys/{generated['id']}/revoke", headers=admin)
    assert revoked.status_code == 200, revoked.get_json()
    answers.append(revoked.get_data(as_text=True))
    assert revoked.get_json()["revoked"] is True and revoked.get_json()["revoked_by_id"] == seed.user_ids["dept_admin"]
    twice = api.post(f"{API}/backups/keys/{generated['id']}/revoke", headers=admin)
    assert twice.status_code == 409 and twice.get_json()["code"] == "conflict"
    assert actions_since(db_session, events) == ["department_ssh_key.generate", "department_ssh_key.upload",
                                                 "department_ssh_key.revoke"]

    # the department reads them (the revoked one too); the policy form's roles no longer see the revoked one
    for key in ("dept", "dept_admin", "vendor"):
        answer = api.get(f"{API}/backups/keys?per_page=100", headers=auth(key))
        answers.append(answer.get_data(as_text=True))
        ids = {i["id"] for i in answer.get_json()["items"]}
        assert uploaded.get_json()["id"] in ids and (generated["id"] in ids) == key.startswith("dept"), key
        answers.append(api.get(f"{API}/backups/keys/{generated['id']}", headers=auth(key)).get_data(as_text=True))
    _assert_never_shown(db_session, answers, private)
    _assert_never_shown(db_session, answers, generated_private)


# -- restore requests ---------------------------------------------------------------------------

@pytest.fixture
def cloud(app, monkeypatch):
    fake = RestoringCloud()
    monkeypatch.setattr(app.extensions["govcloud_runtime"], "cloud", lambda: fake)
    return fake


def test_a_department_asks_the_vendor_to_restore_and_may_withdraw(app, seed, api, auth, db_session, cloud):
    a_artifact, b_artifact = seed.extra["artifact_id"]
    url = f"/backups/artifacts/{a_artifact}/restore-requests"
    ask = {"mode": "new_volume", "reason": "误删了订单表，请恢复到新卷", "target_name": "orders-restored"}
    for key in ("vendor", "bureau", "admin", "auditor", "security"):  # only a department asks
        refused = api.post(f"{API}{url}", json=ask, headers=auth(key))
        assert refused.status_code == 403 and refused.get_json()["code"] == "forbidden", key
    assert api.post(f"{API}/backups/artifacts/{b_artifact}/restore-requests", json=ask,
                    headers=auth("dept")).status_code == 404
    refused_changes_nothing(api, db_session, "POST", url, auth("dept"), [
        {"mode": "new_volume"}, {"mode": "new_volume", "reason": "  "}, {"mode": "server_rebuild", "reason": "x"},
        {"mode": "everything", "reason": "x"}, {"mode": "new_volume", "reason": "x", "urgent": "yes"},
        {"mode": "new_volume", "reason": "x" * 2001}, {"mode": "new_volume", "reason": "x", "vendor": 1}],
        RestoreJob)
    assert count(db_session, RestoreJob) == 0 and cloud.calls == []

    events = last_event_id(db_session)
    asked = api.post(f"{API}{url}", json=ask, headers={**auth("dept"), "Idempotency-Key": "ask-1"})
    assert asked.status_code == 201, asked.get_json()
    job = asked.get_json()
    assert (job["state"], job["requested_by_id"], job["department_id"], job["target_name"], job["started_by_id"],
            job["grant_id"]) == ("requested", seed.user_ids["dept"], seed.dept_a, "orders-restored", None, None)
    replay = api.post(f"{API}{url}", json=ask, headers={**auth("dept"), "Idempotency-Key": "ask-1"})
    assert replay.status_code == 201 and replay.get_json()["id"] == job["id"] and count(db_session, RestoreJob) == 1
    assert actions_since(db_session, events) == ["backup.restore.request"] and cloud.calls == []

    # listed and read with its state and who asked: the department, the vendor (its work list), the bureau
    for key in ("dept", "dept_member", "vendor", "bureau", "auditor"):
        listing = api.get(f"{API}/backups/restores?state=requested", headers=auth(key)).get_json()
        assert [(i["id"], i["state"], i["requested_by_id"]) for i in listing["items"]] == [
            (job["id"], "requested", seed.user_ids["dept"])], key
        assert api.get(f"{API}/backups/restores/{job['id']}", headers=auth(key)).get_json()["state"] == "requested"
    assert api.get(f"{API}/backups/restores?state=running", headers=auth("vendor")).get_json()["total"] == 0
    assert api.get(f"{API}/backups/restores?state=lost", headers=auth("vendor")).status_code == 400
    assert api.get(f"{API}/backups/restores?state=requested", headers=auth("dept_b")).get_json()["total"] == 0
    assert api.get(f"{API}/backups/restores/{job['id']}", headers=auth("dept_b")).status_code == 404

    # who may not carry it out or withdraw it
    events = last_event_id(db_session)
    for key in ("dept", "dept_admin", "bureau", "admin", "auditor"):
        assert api.post(f"{API}/backups/restores/{job['id']}/start", headers=auth(key)).status_code == 403, key
    for key in ("vendor", "bureau", "admin", "auditor"):
        assert api.post(f"{API}/backups/restores/{job['id']}/withdraw", headers=auth(key)).status_code == 403, key
    assert api.post(f"{API}/backups/restores/{job['id']}/withdraw", headers=auth("dept_b_admin")).status_code == 404
    assert actions_since(db_session, events) == [] and cloud.calls == []
    assert db_session.get(RestoreJob, job["id"]).state == "requested"

    # the vendor carries it out, without any grant: the department's request is its warrant
    started = api.post(f"{API}/backups/restores/{job['id']}/start", headers=auth("vendor"))
    assert started.status_code == 200, started.get_json()
    body = started.get_json()
    assert (body["state"], body["phase"], body["started_by_id"], body["requested_by_id"], body["grant_id"]) == (
        "running", "restoring", seed.user_ids["vendor"], seed.user_ids["dept"], None)
    assert cloud.calls == [(f"{seed.dept_a:032d}", "orders-restored")]
    assert actions_since(db_session, events) == ["backup.restore.start"]
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.id > events,
                                                        AuditEvent.action == "backup.restore.start")).one()
    assert event.after["request"] == job["id"] and event.actor_username == seed.users["vendor"]
    for key, verb in (("vendor", "start"), ("dept", "withdraw")):  # no longer waiting
        late = api.post(f"{API}/backups/restores/{job['id']}/{verb}", headers=auth(key))
        assert late.status_code == 409 and late.get_json()["code"] == "conflict", verb
    assert len(cloud.calls) == 1

    # a second request, withdrawn by the department: the vendor can no longer carry it out
    second = api.post(f"{API}{url}", json={"mode": "new_volume", "reason": "再恢复一次"}, headers=auth("dept_member"))
    assert second.status_code == 201
    events = last_event_id(db_session)
    withdrawn = api.post(f"{API}/backups/restores/{second.get_json()['id']}/withdraw", headers=auth("dept"))
    assert withdrawn.status_code == 200 and withdrawn.get_json()["state"] == "withdrawn"
    assert actions_since(db_session, events) == ["backup.restore.withdraw"]
    late = api.post(f"{API}/backups/restores/{second.get_json()['id']}/start",
                    headers={**auth("vendor"), "Accept-Language": "zh-CN"})
    assert late.status_code == 409 and late.get_json()["message"] != "This restore is not waiting for the vendor."
    assert len(cloud.calls) == 1

    # without a request the vendor restores only under a live grant (the seeded grant is not approved)
    rows = count(db_session, RestoreJob)
    direct = api.post(f"{API}/backups/artifacts/{a_artifact}/restores",
                      json={"mode": "new_volume", "reason": "应甲局电话请求"}, headers=auth("vendor"))
    assert direct.status_code == 403 and count(db_session, RestoreJob) == rows and len(cloud.calls) == 1

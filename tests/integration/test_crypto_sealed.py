"""Personal data and secrets encrypted at rest (issue 16): sealed columns on SQLite and
PostgreSQL, masked audit records, key rotation without data loss, the migration that seals
existing values, and a full run of the portal with the 商用密码 suite (SM3 chain, SM2-signed
digests, SM4-sealed contacts readable after a rotation)."""
import json
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from portal import audit_chain, migrate
from portal.crypto import fields, keyring
from portal.models.accounts import Department, User
from portal.models.audit import AuditDigest, AuditEvent
from portal.services.crypto_keys import PLAIN, count_by_key
from tests.conftest import BACKENDS, audit_guard_suspended, database_url_for, login, make_test_app, reset_and_seed
from tests.integration.test_portal_departments import CONTACTS, post_form

SEALED_DEPARTMENT = ("security_officer_phone", "it_lead_phone", "it_lead_email", "emergency_contact_phone")


@pytest.fixture
def app_ring(app):
    """The app's key ring as the process's (other apps of this run may have configured theirs),
    read again from its file afterwards (a test may have rotated it)."""
    keyring.configure(keyring.load(app.config), app.config["CRYPTO_SUITE"])
    yield keyring.current()
    keyring.configure(keyring.load(app.config), app.config["CRYPTO_SUITE"])


def raw_values(session, table, columns, where):
    return session.execute(text(f"SELECT {', '.join(columns)} FROM {table} WHERE {where}")).mappings().one()


def test_sealed_columns_hold_no_plaintext_and_read_back(app, app_ring, seed, db_session):
    department = db_session.get(Department, seed.dept_a)
    for name in ("security_officer_phone", "it_lead_phone", "emergency_contact_phone"):
        setattr(department, name, "13812345678")
    department.it_lead_email = "lead@dept-a.example.gov.cn"
    user = db_session.get(User, seed.user_ids["dept"])
    user.email, user.phone = "alice@dept-a.example.gov.cn", "13987654321"
    db_session.commit()
    raw = raw_values(db_session, "department", SEALED_DEPARTMENT, f"id = {seed.dept_a}")
    for value in raw.values():
        assert value.startswith(f"v1:{app_ring.active.suite}:{app_ring.active_id}:")
        # the whole plaintext (three digits alone turn up in a base64 ciphertext by chance)
        assert "13812345678" not in value and "example" not in value
    assert len(set(raw.values()) - {raw["it_lead_email"]}) == 3  # one nonce per value
    raw_user = raw_values(db_session, "user_account", ("email", "phone"), f"id = {user.id}")
    assert "alice" not in raw_user["email"] and "13987654321" not in raw_user["phone"]
    db_session.expire_all()
    assert db_session.get(Department, seed.dept_a).it_lead_email == "lead@dept-a.example.gov.cn"
    assert db_session.get(User, user.id).phone == "13987654321"
    # queries on the empty default still work ("" is stored as "")
    assert db_session.scalar(select(sa.func.count()).select_from(User).where(User.email != "")) == 1
    # a value longer than the plaintext bound is refused before it reaches the database
    user.phone = "1" * 33
    with pytest.raises(sa.exc.StatementError):
        db_session.commit()
    db_session.rollback()


def test_audit_records_mask_phones_and_emails(app, app_ring, login_as, seed, db_session):
    user = login_as("dept")
    assert post_form(user, f"/departments/{seed.dept_a}/contacts", CONTACTS).status_code == 302
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "department.contacts_update")).one()
    dumped = json.dumps([event.before, event.after], ensure_ascii=False)
    for value in ("13811112222", "13933334444", "it@x.gov.cn", "0571-8888"):
        assert value not in dumped
    assert event.after["it_lead_phone"] == "138****2222" and event.after["it_lead_email"] == "i***@x.gov.cn"
    assert event.after["it_lead_name"] == "孙信息"  # names are not masked
    # the department page shows the real values to those who may see them
    page = user.get(f"/departments/{seed.dept_a}").get_data(as_text=True)
    assert "13811112222" in page


def test_rotation_keeps_every_value_readable_and_the_old_key_retires(app, app_ring, seed, db_session):
    runner = app.test_cli_runner()
    department = db_session.get(Department, seed.dept_b)
    department.it_lead_phone, department.it_lead_email = "13700001111", "b@dept-b.example.gov.cn"
    db_session.commit()
    # a value written before its column was sealed (plain text) is sealed by the rotation too
    db_session.execute(text(f"UPDATE department SET emergency_contact_phone = '13600002222' WHERE id = {seed.dept_a}"))
    db_session.commit()
    old = app_ring.active_id
    before = count_by_key(db_session)
    assert before["department.emergency_contact_phone"][PLAIN] == 1
    status = runner.invoke(args=["crypto", "status"])
    assert status.exit_code == 0 and old in status.output and "plain text" in status.output

    result = runner.invoke(args=["crypto", "rotate", "--batch", "2"])
    assert result.exit_code == 0, result.output
    ring = keyring.load(app.config)
    new = ring.active_id
    assert new != old and old in ring.keys  # the old key is kept until it seals nothing
    after = count_by_key(db_session)
    total = sum(sum(c.values()) for c in before.values())
    assert sum(c[new] for c in after.values()) == total > 0
    assert all(set(c) <= {new} for c in after.values())

    refused = runner.invoke(args=["crypto", "retire", new])
    assert refused.exit_code != 0 and "active key" in refused.output
    retired = runner.invoke(args=["crypto", "retire", old])
    assert retired.exit_code == 0, retired.output
    fresh = keyring.load(app.config)  # read back from the file: the old secret is gone
    assert old not in fresh.keys and old in fresh.retired
    for table, columns in (("department", SEALED_DEPARTMENT), ("user_account", ("email", "phone"))):
        for row in db_session.execute(text(f"SELECT {', '.join(columns)} FROM {table}")).mappings():
            for value in row.values():
                if value:
                    fields.unseal(value, fresh)  # opens with the new ring alone
    db_session.expire_all()
    assert db_session.get(Department, seed.dept_a).emergency_contact_phone == "13600002222"
    assert db_session.get(Department, seed.dept_b).it_lead_email == "b@dept-b.example.gov.cn"
    status = runner.invoke(args=["crypto", "status"])
    assert f"{new}" in status.output and "retired" in status.output
    # a column made sealed later holds plain text until `crypto reseal`
    db_session.execute(text(f"UPDATE user_account SET phone = '13500003333' WHERE id = {seed.user_ids['dept']}"))
    db_session.commit()
    resealed = runner.invoke(args=["crypto", "reseal"])
    assert resealed.exit_code == 0 and "re-sealed 1 values" in resealed.output
    raw = raw_values(db_session, "user_account", ("phone",), f"id = {seed.user_ids['dept']}")["phone"]
    assert raw.startswith(f"v1:{ring.active.suite}:{new}:") and fields.unseal(raw, fresh) == "13500003333"


def test_a_chain_begun_under_one_suite_verifies_under_the_other(app, app_ring, db_session):
    from portal.services.audit import RequestInfo, record_event
    key = b"hmac-key-of-this-test"
    ctx = RequestInfo(correlation_id="mixed")
    saved_suite = keyring.configured_suite().name
    try:
        keyring.configure(app_ring, "international")
        record_event(db_session, ctx, "test.international")
        db_session.commit()
        audit_chain.write_digest(db_session, key)
        db_session.commit()
        keyring.configure(app_ring, "sm")
        record_event(db_session, ctx, "test.sm")
        db_session.commit()
        audit_chain.write_digest(db_session, key)
        db_session.commit()
    finally:
        keyring.configure(app_ring, saved_suite)
    events = db_session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [e.hash_alg for e in events[-2:]] == ["sha256", "sm3"]
    digests = db_session.scalars(select(AuditDigest).order_by(AuditDigest.id)).all()
    assert [d.algorithm for d in digests[-2:]] == ["hmac-sha256", "sm2-sm3"]
    report = audit_chain.verify(db_session, key)
    assert report.ok, report.problems
    assert report.digests == len(digests)
    # the SM3 event altered: named; the SM2 digest forged: named
    with audit_guard_suspended(db_session):  # an intruder with the superuser's rights
        db_session.execute(text(f"UPDATE audit_event SET detail = 'x' WHERE id = {events[-1].id}"))
        db_session.execute(text(f"UPDATE audit_digest SET signature = '{'0' * 128}' WHERE id = {digests[-1].id}"))
    db_session.commit()
    db_session.expire_all()
    kinds = {p.kind for p in audit_chain.verify(db_session, key).problems}
    assert kinds == {"altered", "digest"}


# --- the migration ---------------------------------------------------------------------------

@pytest.fixture(params=BACKENDS)
def fresh_url(request, tmp_path_factory):
    url, cleanup = database_url_for(request.param, tmp_path_factory)
    yield url
    cleanup()


def _insert_plain_rows(url):
    engine = sa.create_engine(url)
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO department (id, name, code, level, security_officer_name, security_officer_phone, "
            "it_lead_name, it_lead_phone, it_lead_email, emergency_contact_name, emergency_contact_phone, "
            "created_at, updated_at) VALUES (1, '甲局', 'A', 'city', '王', '0571-88000001', '李', "
            "'13800000001', 'it@a.example.gov.cn', '赵', '', :now, :now)"), {"now": now})
        conn.execute(text(
            "INSERT INTO user_account (id, username, full_name, email, phone, role, department_id, "
            "is_department_admin, password_hash, is_active_account, session_token, failed_login_count, "
            "created_at) VALUES (1, 'u', 'u', 'u@a.example.gov.cn', '13900000001', 'department', 1, "
            "false, 'x', true, 'tok', 0, :now)"), {"now": now})
    engine.dispose()


def test_migration_0011e_seals_existing_values(fresh_url, tmp_path, monkeypatch):
    saved = (keyring.current(required=False), keyring.configured_suite().name)
    app = make_test_app(fresh_url, tmp_path, CRYPTO_SUITE="sm")
    url = app.config["DATABASE_URL"]
    try:
        migrate.upgrade(url, "0010t")
        _insert_plain_rows(url)
        # without a key ring the upgrade stops and says why
        keyring.configure(None, "international")
        monkeypatch.setenv("GOVCLOUD_TESTING", "true")
        monkeypatch.setenv("GOVCLOUD_CRYPTO_KEY_FILE", str(tmp_path / "absent.json"))
        with pytest.raises(RuntimeError, match="finds no key ring"):
            migrate.upgrade(url)
        ring = keyring.load({"CRYPTO_KEY_FILE": str(tmp_path / "crypto-keys.json")})
        keyring.configure(ring, "sm")
        migrate.upgrade(url)
        engine = sa.create_engine(url)
        with Session(engine) as session:
            raw = raw_values(session, "department", SEALED_DEPARTMENT + ("security_officer_name",), "id = 1")
            assert raw["security_officer_name"] == "王" and raw["emergency_contact_phone"] == ""
            for name in ("security_officer_phone", "it_lead_phone", "it_lead_email"):
                assert raw[name].startswith(f"v1:sm:{ring.active_id}:") and "0001" not in raw[name]
            department = session.get(Department, 1)
            assert (department.security_officer_phone, department.it_lead_email) == \
                ("0571-88000001", "it@a.example.gov.cn")
            assert session.get(User, 1).email == "u@a.example.gov.cn"
            assert migrate.pending_differences(engine) == []
        engine.dispose()
    finally:
        app.extensions["govcloud_db"][0].dispose()
        keyring.configure(*saved)


# --- a full run with the 商用密码 suite ----------------------------------------------------

@pytest.fixture(params=BACKENDS)
def sm_app(request, tmp_path_factory):
    saved = (keyring.current(required=False), keyring.configured_suite().name)
    url, cleanup = database_url_for(request.param, tmp_path_factory)
    app = make_test_app(url, tmp_path_factory.mktemp("instance-sm"), CRYPTO_SUITE="sm")
    migrate.upgrade(app.config["DATABASE_URL"])
    app.seed = reset_and_seed(app)
    yield app
    app.extensions["govcloud_db"][0].dispose()
    cleanup()
    keyring.configure(*saved)


def test_full_run_with_the_sm_suite(sm_app):
    app, seed = sm_app, sm_app.seed
    runner = app.test_cli_runner()
    client = app.test_client()
    assert login(client, seed.users["dept"]).status_code == 302
    assert post_form(client, f"/departments/{seed.dept_a}/contacts", CONTACTS).status_code == 302
    admin = app.test_client()
    assert login(admin, seed.users["admin"]).status_code == 302
    target = seed.user_ids["dept_member"]
    form = {"username": seed.users["dept_member"], "full_name": "成员", "email": "member@a.example.gov.cn",
            "phone": "13655556666", "role": "department", "department_id": str(seed.dept_a),
            "is_active_account": "y"}
    assert post_form(admin, f"/users/{target}/edit", form).status_code == 302
    digest = runner.invoke(args=["audit", "digest"])
    assert digest.exit_code == 0, digest.output

    engine = app.extensions["govcloud_db"][0]
    with Session(engine) as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.seq.is_not(None))).all()
        assert events and {e.hash_alg for e in events} == {"sm3"}
        digests = session.scalars(select(AuditDigest)).all()
        assert [d.algorithm for d in digests] == ["sm2-sm3"] and len(digests[0].signature) == 128
        first_key = digests[0].key_id
        raw = raw_values(session, "department", SEALED_DEPARTMENT, f"id = {seed.dept_a}")
        assert all(v.startswith(f"v1:sm:{first_key}:") for v in raw.values())
        assert "13655556666" not in raw_values(session, "user_account", ("phone",), f"id = {target}")["phone"]
        updates = session.scalars(select(AuditEvent).where(AuditEvent.action.in_(
            ["department.contacts_update", "user.update"]))).all()
        assert len(updates) == 2
        assert "13811112222" not in json.dumps([e.after for e in updates])
        assert "13655556666" not in json.dumps([e.after for e in updates])

    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "1 signed digests" in verified.output and "intact" in verified.output
    assert "hash algorithms: sm3 " in verified.output and "digest signatures: sm2-sm3 1" in verified.output

    rotated = runner.invoke(args=["crypto", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    assert runner.invoke(args=["audit", "digest"]).exit_code == 0
    assert runner.invoke(args=["crypto", "retire", first_key]).exit_code == 0
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "2 signed digests" in verified.output  # the first with the retired key's public part

    with Session(engine) as session:
        department = session.get(Department, seed.dept_a)
        assert (department.it_lead_phone, department.it_lead_email) == ("13811112222", "it@x.gov.cn")
        assert session.get(User, target).phone == "13655556666"
        assert session.scalars(select(AuditDigest.key_id).order_by(AuditDigest.id)).all()[1] != first_key
    page = client.get(f"/departments/{seed.dept_a}").get_data(as_text=True)
    assert "13811112222" in page and "it@x.gov.cn" in page
    # the SMTP password sealed for the settings file, with SM4 under the new key
    sealed = runner.invoke(args=["crypto", "seal"], input="smtp-口令\n")
    assert sealed.exit_code == 0 and sealed.output.startswith("v1:sm:")
    assert "口令" not in sealed.output
    assert fields.read_secret({"SMTP_PASSWORD": sealed.output.strip()}, "SMTP_PASSWORD") == "smtp-口令"


def test_switching_to_the_sm_suite_reseals_everything_with_sm4_on_rotate(app, app_ring, seed, db_session):
    assert app_ring.active.suite == "international"
    saved = app.config["CRYPTO_SUITE"]
    app.config["CRYPTO_SUITE"] = "sm"
    try:
        result = app.test_cli_runner().invoke(args=["crypto", "rotate"])
        assert result.exit_code == 0, result.output
    finally:
        app.config["CRYPTO_SUITE"] = saved
        keyring.configure(keyring.current(), saved)
    ring = keyring.load(app.config)
    assert ring.active.suite == "sm" and app_ring.active_id in ring.keys
    raw = raw_values(db_session, "department", SEALED_DEPARTMENT, f"id = {seed.dept_a}")
    assert all(v.startswith(f"v1:sm:{ring.active_id}:") for v in raw.values() if v)
    db_session.expire_all()
    assert db_session.get(Department, seed.dept_a).it_lead_phone == "138"


# --- a key ring lost or replaced ---------------------------------------------------------------

def test_a_process_whose_key_ring_lacks_the_databases_keys_stops_in_production(app, app_ring, seed, db_session,
                                                                              tmp_path, caplog):
    from portal import runtime
    from portal.errors import ConfigError
    from portal.settings import load_settings
    department = db_session.get(Department, seed.dept_a)
    department.it_lead_phone = "13812345678"
    db_session.commit()
    base = {"DATABASE_URL": app.config["DATABASE_URL"], "SECRET_KEY": "t",
            "CRYPTO_KEY_FILE": str(tmp_path / "new-ring.json")}  # the old file lost: a new ring is made
    try:
        with pytest.raises(ConfigError) as refused:
            runtime.build(load_settings(base, instance_path=str(tmp_path), environ={}))
        assert app_ring.active_id in str(refused.value) and "backup" in str(refused.value)
        # outside production the process starts and the log says what is wrong
        rt = runtime.build(load_settings({**base, "TESTING": True}, instance_path=str(tmp_path), environ={}))
        rt.close()
        assert any(app_ring.active_id in r.getMessage() for r in caplog.records if r.levelname == "ERROR")
        # with its own ring the process starts
        rt = runtime.build(load_settings({**base, "CRYPTO_KEY_FILE": app.config["CRYPTO_KEY_FILE"]},
                                         instance_path=str(tmp_path), environ={}))
        rt.close()
    finally:
        keyring.configure(keyring.load(app.config), app.config["CRYPTO_SUITE"])

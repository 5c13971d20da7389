"""The audit log cannot be rewritten (issue 16): the runtime role may only INSERT and SELECT it,
triggers refuse UPDATE and DELETE to everyone, digests are kept outside the database too, and
retention removes only archived events older than 180 days."""
import json
import os
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from portal import audit_chain, audit_retention, migrate
from portal.database import make_engine, utcnow
from portal.models.audit import AuditArchive, AuditChainHead, AuditEvent
from portal.services.audit import RequestInfo, record_event
from tests.conftest import audit_guard_suspended
from tests.integration.test_audit_chain import rewrite_chain

KEY = b"test-audit-key"


def write_events(session, n, *, age_days=0, prefix="test.event"):
    ctx = RequestInfo(correlation_id="req-immutable", remote_addr="127.0.0.1")
    for i in range(n):
        ev = record_event(session, ctx, prefix, object_type="thing", object_id=str(i), after={"n": i})
        if age_days:
            ev.occurred_at = utcnow() - timedelta(days=age_days, minutes=n - i)
        session.commit()


def _refused(session, sql, **params):
    with pytest.raises(DBAPIError) as info:
        session.execute(text(sql), params)
        session.flush()
    session.rollback()
    return str(info.value)


REWRITES = [
    "UPDATE audit_event SET detail = 'rewritten' WHERE id = :id",
    "DELETE FROM audit_event WHERE id = :id",
    "UPDATE audit_digest SET hash = 'x' WHERE seq > 0",
    "DELETE FROM audit_digest",
    "DELETE FROM audit_chain_head",
    "UPDATE audit_chain_head SET hash = 'x'",
    "UPDATE audit_chain_head SET seq = seq - 1, hash = (SELECT hash FROM audit_event WHERE seq = 1)",
]


@pytest.mark.parametrize("sql", REWRITES)
def test_triggers_refuse_rewrites_even_by_the_owner(db_session, sql):
    write_events(db_session, 3)
    audit_chain.write_digest(db_session, KEY)
    db_session.commit()
    target = db_session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).first()
    message = _refused(db_session, sql, id=target.id)
    assert "cannot be rewritten" in message or "only moves forward" in message
    assert audit_chain.verify(db_session, KEY).ok


@pytest.mark.parametrize("age_days", [2, 400])
def test_the_purge_switch_alone_lets_no_event_go(db_session, age_days):
    """Switched on, the purge still needs an event older than 180 days AND archived."""
    from portal import audit_guard
    write_events(db_session, 2, age_days=age_days)
    conn = db_session.connection()
    audit_guard.allow_purge(conn)
    try:
        with pytest.raises(DBAPIError):
            db_session.execute(text("DELETE FROM audit_event"))
    finally:
        audit_guard.end_purge(conn)
    db_session.rollback()
    assert db_session.scalar(select(func.count(AuditEvent.id))) == 2


@pytest.fixture
def runtime_role(app):
    """A login role made for the test and granted like the portal's runtime role; dropped after."""
    assert app.backend == "postgresql"
    owner_url = app.config["DATABASE_URL"]
    role = f"govcloud_rt_{uuid.uuid4().hex[:10]}"
    owner = make_engine(owner_url)
    with owner.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
    runtime_url = make_url(owner_url).set(username=role).render_as_string(hide_password=False)
    engine = None
    try:
        assert migrate.grant_runtime(runtime_url, owner_url)
        # `govcloud db upgrade` migrates as the owner, then grants again (idempotent)
        app.config.update(DATABASE_URL=runtime_url, DATABASE_OWNER_URL=owner_url)
        try:
            result = app.test_cli_runner().invoke(args=["db", "upgrade"])
        finally:
            app.config.update(DATABASE_URL=owner_url, DATABASE_OWNER_URL=None)
        assert result.exit_code == 0 and "runtime role granted" in result.output, result.output
        engine = make_engine(runtime_url)
        yield engine
    finally:
        if engine is not None:
            engine.dispose()
        with owner.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
        owner.dispose()


# roles and grants are PostgreSQL's (SQLite relies on the triggers): this test runs there only
@pytest.mark.parametrize("migrated_app", ["postgresql"], indirect=True)
def test_the_runtime_role_may_only_insert_and_select_the_audit_log(runtime_role, db_session, seed):
    with Session(runtime_role) as session:
        assert session.execute(text("SELECT current_user")).scalar().startswith("govcloud_rt_")
        write_events(session, 3)  # INSERT, and the chain head moving forward
        audit_chain.write_digest(session, KEY)
        session.commit()
        target = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).first()
        for sql in ("UPDATE audit_event SET detail = 'x' WHERE id = :id", "DELETE FROM audit_event WHERE id = :id",
                    "UPDATE audit_digest SET hash = 'x'", "DELETE FROM audit_digest",
                    "DELETE FROM audit_chain_head", "TRUNCATE audit_event", "INSERT INTO audit_archive "
                    "(created_at, name, first_seq, last_seq, first_prev_hash, last_hash, count, file_sha256, "
                    "signature) VALUES (now(), 'x', 1, 3, '', '', 3, '', '')"):
            assert "permission denied" in _refused(session, sql, id=target.id)
        # the head may move, but only forward to an event that exists (the trigger)
        assert "only moves forward" in _refused(session, "UPDATE audit_chain_head SET hash = 'x'")
        # the rest of the portal's tables stay writable
        session.execute(text("UPDATE department SET name = name WHERE id = :id"), {"id": seed.dept_a})
        session.commit()
        assert session.scalar(select(func.count(AuditEvent.id))) == 3
    report = audit_chain.verify(db_session, KEY)
    assert report.ok and report.events == 3 and report.digests == 1


# --- digests outside the database ----------------------------------------------------------

def test_the_digest_file_catches_a_rewrite_of_rows_and_database_digests(app, db_session, tmp_path):
    digest_file = tmp_path / "digests.jsonl"
    config = {"AUDIT_HMAC_KEY": KEY.decode(), "AUDIT_DIGEST_FILE": str(digest_file), "AUDIT_DIGEST_SYSLOG": ""}
    write_events(db_session, 3)
    audit_chain.sign_and_publish(db_session, config)
    write_events(db_session, 2)
    digest = audit_chain.sign_and_publish(db_session, config)
    lines = digest_file.read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [3, 5]
    assert json.loads(lines[1])["signature"] == digest.signature
    external = audit_chain.read_digest_file(str(digest_file))
    assert audit_chain.verify(db_session, KEY, external=external).ok
    # An intruder with the superuser's rights rewrites event 2, re-chains everything after it and
    # drops the database's digests: the database alone looks intact, the file does not.
    rewrite_chain(db_session, db_session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all(), 1, "篡改")
    with audit_guard_suspended(db_session):
        db_session.execute(text("DELETE FROM audit_digest"))
    db_session.commit()
    assert audit_chain.verify(db_session, KEY).ok
    report = audit_chain.verify(db_session, KEY, external=external)
    assert [(p.kind, p.seq) for p in report.problems] == [("digest", 3), ("digest", 5)]
    # and the CLI says so
    app.config.update(AUDIT_HMAC_KEY=KEY.decode())
    result = app.test_cli_runner().invoke(args=["audit", "verify", "--digests", str(digest_file)])
    assert result.exit_code == 1 and "no longer matches external digest (line 2)" in result.output


def test_the_digest_file_names_a_truncated_tail(db_session, tmp_path):
    config = {"AUDIT_HMAC_KEY": KEY.decode(), "AUDIT_DIGEST_FILE": str(tmp_path / "d.jsonl")}
    write_events(db_session, 4)
    audit_chain.sign_and_publish(db_session, config)
    last_two = db_session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(2)).all()
    with audit_guard_suspended(db_session):
        for ev in last_two:
            db_session.delete(ev)
        head = db_session.get(AuditChainHead, 1)
        head.seq, head.hash = 2, db_session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == 2))
        db_session.execute(text("DELETE FROM audit_digest"))
    db_session.commit()
    assert audit_chain.verify(db_session, KEY).ok
    report = audit_chain.verify(db_session, KEY, external=audit_chain.read_digest_file(config["AUDIT_DIGEST_FILE"]))
    assert [(p.kind, p.seq) for p in report.problems] == [("deleted", 4)]


def test_the_digest_job_appends_to_the_file_and_syslog(db_session, tmp_path):
    import socket
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    try:
        config = {"AUDIT_HMAC_KEY": KEY.decode(), "AUDIT_DIGEST_FILE": str(tmp_path / "d.jsonl"),
                  "AUDIT_DIGEST_SYSLOG": f"127.0.0.1:{receiver.getsockname()[1]}"}
        write_events(db_session, 1)
        digest = audit_chain.sign_and_publish(db_session, config)
        message = receiver.recv(4096).decode()
    finally:
        receiver.close()
    assert "govcloud-audit-digest" in message and digest.hash in message
    assert os.stat(config["AUDIT_DIGEST_FILE"]).st_mode & 0o777 == 0o640


# --- retention: archive, verify, purge --------------------------------------------------------

def _archive(db_session, tmp_path, before):
    return audit_retention.archive(db_session, KEY, before, str(tmp_path / "archive"))


def test_archive_verify_purge_and_the_chain_still_verifies(app, db_session, tmp_path):
    write_events(db_session, 4, age_days=200, prefix="test.old")
    write_events(db_session, 3, prefix="test.new")
    audit_chain.write_digest(db_session, KEY)
    db_session.commit()
    before = utcnow() - timedelta(days=190)
    data_path, manifest_path, manifest = _archive(db_session, tmp_path, before)
    assert (manifest.first_seq, manifest.last_seq, manifest.count) == (1, 4, 4)
    assert audit_retention.verify_archive(data_path, KEY)[2] == []
    assert audit_retention.verify_archive(manifest_path, b"another key")[2]
    audit_retention.purge(db_session, KEY, manifest_path, before, 180)
    db_session.commit()
    left = db_session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
    assert left == ["test.new"] * 3
    report = audit_chain.verify(db_session, KEY)
    assert report.ok, report.problems
    assert (report.first_seq, report.last_seq, report.archives, report.digests) == (5, 7, 1, 1)
    # the chain keeps growing after the purge
    write_events(db_session, 1)
    assert audit_chain.verify(db_session, KEY).ok
    # nothing older is left to archive
    with pytest.raises(audit_retention.RetentionError, match="no event occurred before"):
        _archive(db_session, tmp_path, before)


def test_a_purge_within_the_retention_is_refused_and_deletes_nothing(db_session, tmp_path):
    write_events(db_session, 3, age_days=170)
    write_events(db_session, 1)
    before = utcnow() - timedelta(days=100)
    _data, manifest_path, manifest = _archive(db_session, tmp_path, before)
    assert manifest.count == 3
    for days in (180, 365):
        with pytest.raises(audit_retention.RetentionError, match=f"younger than {days} days"):
            audit_retention.purge(db_session, KEY, manifest_path, before, days)
    # a configured retention below the floor still keeps 180 days
    with pytest.raises(audit_retention.RetentionError, match="younger than 180 days"):
        audit_retention.purge(db_session, KEY, manifest_path, before, 30)
    # a date old enough, but the archive holds events younger than it: refused too
    with pytest.raises(audit_retention.RetentionError, match="not before"):
        audit_retention.purge(db_session, KEY, manifest_path, utcnow() - timedelta(days=181), 180)
    db_session.rollback()
    assert db_session.scalar(select(func.count(AuditEvent.id))) == 4
    assert db_session.scalar(select(func.count(AuditArchive.id))) == 0


@pytest.mark.parametrize("damage", ["line", "manifest", "drop_last"])
def test_a_tampered_archive_fails_and_cannot_be_purged(app, db_session, tmp_path, damage):
    write_events(db_session, 3, age_days=200)
    before = utcnow() - timedelta(days=190)
    data_path, manifest_path, _manifest = _archive(db_session, tmp_path, before)
    if damage == "line":
        with open(data_path, encoding="utf-8") as f:
            text_ = f.read()
        with open(data_path, "w", encoding="utf-8") as f:
            f.write(text_.replace('"object_id":"1"', '"object_id":"9"'))
    elif damage == "manifest":
        with open(manifest_path, encoding="utf-8") as f:
            data = json.load(f)
        data["count"] = 2
        with open(manifest_path, "w", encoding="utf-8") as f:
            json.dump(data, f)
    else:
        with open(data_path, encoding="utf-8") as f:
            lines = f.readlines()
        with open(data_path, "w", encoding="utf-8") as f:
            f.writelines(lines[:-1])
    assert audit_retention.verify_archive(data_path, KEY)[2]
    with pytest.raises(audit_retention.RetentionError, match="does not verify"):
        audit_retention.purge(db_session, KEY, manifest_path, before, 180)
    db_session.rollback()
    assert db_session.scalar(select(func.count(AuditEvent.id))) == 3
    app.config.update(AUDIT_HMAC_KEY=KEY.decode())
    result = app.test_cli_runner().invoke(args=["audit", "verify-archive", data_path])
    assert result.exit_code == 1 and "TAMPERED" in result.output


def test_cli_archive_verify_archive_and_purge(app, db_session, tmp_path):
    app.config.update(AUDIT_HMAC_KEY=KEY.decode())
    write_events(db_session, 3, age_days=250)
    write_events(db_session, 2)
    runner = app.test_cli_runner()
    old_day = (utcnow() - timedelta(days=200)).strftime("%Y-%m-%d")
    young_day = (utcnow() - timedelta(days=10)).strftime("%Y-%m-%d")
    out = tmp_path / "arch"
    result = runner.invoke(args=["audit", "archive", "--before", old_day, "--out", str(out)])
    assert result.exit_code == 0, result.output
    manifest_path = next(str(p) for p in out.iterdir() if p.name.endswith(".manifest.json"))
    result = runner.invoke(args=["audit", "verify-archive", manifest_path])
    assert result.exit_code == 0 and "archive intact: 3 events" in result.output
    result = runner.invoke(args=["audit", "purge", "--before", young_day, "--archive", manifest_path])
    assert result.exit_code != 0 and "nothing deleted" in result.output
    result = runner.invoke(args=["audit", "purge", "--before", old_day, "--archive", manifest_path])
    assert result.exit_code == 0, result.output
    db_session.expire_all()
    actions = db_session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
    assert actions == ["test.event", "test.event", "audit.archive", "audit.purge"]
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "audit chain intact" in result.output, result.output


def test_a_retention_below_180_days_is_refused_at_startup():
    from portal.errors import ConfigError
    from portal.settings import load_settings
    with pytest.raises(ConfigError, match="AUDIT_RETENTION_DAYS"):
        load_settings({"TESTING": True, "AUDIT_RETENTION_DAYS": 90}, instance_path="/tmp", environ={})
    assert load_settings({"TESTING": True}, instance_path="/tmp", environ={})["AUDIT_RETENTION_DAYS"] == 180

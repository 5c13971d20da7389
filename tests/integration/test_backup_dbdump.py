"""`govcloud db-backup` / `db-restore`: a seeded portal database, backed up and restored into a
fresh database (SQLite file or new PostgreSQL database), has the same rows and an intact audit chain."""
import uuid

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from backup import dbdump
from portal.audit_chain import verify
from portal.database import Base
from portal.models.audit import AuditEvent
from portal.models.requests import ResourceRequest
from portal.services.audit import RequestInfo, record_event
from tests.conftest import pg_url


def _add_audit_events(app, n):
    with Session(app.extensions["govcloud_db"][0]) as session:
        for i in range(n):
            record_event(session, RequestInfo(correlation_id=f"dbdump-{i}"), "test.dbdump",
                         object_type="test", object_id=i, detail=f"事件 {i}")
        session.commit()


def _counts(engine):
    with Session(engine) as session:
        tables = {t.name: session.execute(select(func.count()).select_from(t)).scalar_one()
                  for t in Base.metadata.sorted_tables}
        report = verify(session)
        return tables, report


@pytest.fixture
def fresh_url(app, tmp_path):
    """A URL of a new, empty database on the app's backend; dropped afterwards."""
    if app.backend == "sqlite":
        yield "sqlite:///" + str(tmp_path / "restored.db")
        return
    source = make_url(app.config["DATABASE_URL"])
    name = "govcloud_restore_" + uuid.uuid4().hex[:8]
    admin = create_engine(make_url(pg_url()).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield source.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_backup_restored_into_fresh_database_has_same_rows_and_chain(app, tmp_path, fresh_url):
    _add_audit_events(app, 25)
    source = app.extensions["govcloud_db"][0]
    before, before_report = _counts(source)
    assert before["resource_request"] >= 4 and before["audit_event"] >= 25
    assert before_report.ok and before_report.events == before["audit_event"]

    result = app.test_cli_runner().invoke(args=["db-backup", "--dir", str(tmp_path / "bk"), "--keep", "3"])
    assert result.exit_code == 0, result.output
    [made] = dbdump.list_backups(tmp_path / "bk")
    assert f"backup {made}" in result.output
    assert (made.parent / (made.name + ".sha256")).read_text().split() == [dbdump.sha256_file(made), made.name]

    result = app.test_cli_runner().invoke(args=["db-restore", str(made), "--to", fresh_url])
    assert result.exit_code == 0, result.output
    restored = create_engine(fresh_url)
    try:
        after, after_report = _counts(restored)
        with Session(restored) as session:
            numbers = session.scalars(select(ResourceRequest.number).order_by(ResourceRequest.id)).all()
            details = session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "test.dbdump")
                                      .order_by(AuditEvent.seq)).all()
    finally:
        restored.dispose()
    assert after == before
    assert after["resource_request"] == before["resource_request"]
    assert after["audit_event"] == before["audit_event"]
    assert after_report.ok, after_report.problems
    assert (after_report.events, after_report.last_seq) == (before_report.events, before_report.last_seq)
    with Session(source) as session:
        assert numbers == session.scalars(select(ResourceRequest.number).order_by(ResourceRequest.id)).all()
    assert details == [f"事件 {i}" for i in range(25)]

    # a second restore into the now non-empty database is refused and changes nothing
    again = app.test_cli_runner().invoke(args=["db-restore", str(made), "--to", fresh_url])
    assert again.exit_code == 1
    assert "restore failed" in again.output and ("not empty" in again.output or "exists" in again.output)


def test_rotation_keeps_the_newest_n_and_damaged_backup_is_refused(app, tmp_path):
    directory = tmp_path / "rot"
    made = []
    for _ in range(5):
        result = app.test_cli_runner().invoke(args=["db-backup", "--dir", str(directory), "--keep", "3"])
        assert result.exit_code == 0, result.output
        made.append(dbdump.list_backups(directory)[-1])
    kept = dbdump.list_backups(directory)
    assert kept == made[-3:]
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        [p.name for p in kept] + [p.name + ".sha256" for p in kept])

    # a half-written dump (no checksum file) is neither listed nor rotated
    (directory / "govcloud-20000101T000000.000000Z.sqlite3.partial").write_bytes(b"x")
    assert dbdump.list_backups(directory) == kept

    damaged = kept[0]
    with open(damaged, "ab") as fh:
        fh.write(b"tail")
    result = app.test_cli_runner().invoke(
        args=["db-restore", str(damaged), "--to", "sqlite:///" + str(tmp_path / "x.db")])
    assert result.exit_code == 1
    assert "does not match its checksum" in result.output
    assert not (tmp_path / "x.db").exists()

    bad = app.test_cli_runner().invoke(args=["db-backup", "--dir", str(directory), "--keep", "-1"])
    assert bad.exit_code == 2

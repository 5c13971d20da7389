"""The database refuses rewrites of the audit log (操作日志): triggers and the runtime role's grants.

Two lines of defence, both installed by migration 0011d and `govcloud db upgrade`:

- Triggers (PostgreSQL and SQLite) refuse UPDATE and DELETE of audit_event, audit_digest and
  audit_archive rows, whoever asks (the owner too). The one exception is the retention purge:
  a DELETE of an event passes only when the purge is switched on for the transaction
  (PostgreSQL: the transaction-local setting `govcloud.audit_purge`; SQLite: the connection
  function govcloud_audit_purge() that portal.database registers), the event is older than
  RETENTION_FLOOR_DAYS and a verified archive (audit_archive) covers its chain position.
  The chain head may only move forward, to an event that exists.
- On PostgreSQL the portal runs as a role that may only SELECT and INSERT the audit tables (and
  move the chain head): grant_runtime() gives it exactly that; a separate owner role
  (DATABASE_OWNER_URL) runs the migrations.
"""
from sqlalchemy import text

RETENTION_FLOOR_DAYS = 180  # 网络安全法 第二十一条: logs are kept at least six months
AUDIT_TABLES = ("audit_event", "audit_digest", "audit_archive", "audit_chain_head")
PURGE_SETTING = "govcloud.audit_purge"
SQLITE_PURGE_FUNCTION = "govcloud_audit_purge"

_PG_REFUSE = f"""
CREATE OR REPLACE FUNCTION govcloud_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'audit_event' AND TG_OP = 'DELETE' AND TG_LEVEL = 'ROW' THEN
    IF current_setting('{PURGE_SETTING}', true) = 'on'
       AND OLD.occurred_at < now() - make_interval(days => {RETENTION_FLOOR_DAYS})
       AND EXISTS (SELECT 1 FROM audit_archive a WHERE OLD.seq BETWEEN a.first_seq AND a.last_seq) THEN
      RETURN OLD;
    END IF;
  END IF;
  RAISE EXCEPTION 'the audit log cannot be rewritten: % of % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$
"""
_PG_HEAD = """
CREATE OR REPLACE FUNCTION govcloud_audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.seq > OLD.seq
     AND EXISTS (SELECT 1 FROM audit_event e WHERE e.seq = NEW.seq AND e.hash = NEW.hash) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'the audit chain head only moves forward to an existing event: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$
"""
PG_TRIGGERS = {
    "audit_event_immutable": "BEFORE UPDATE OR DELETE ON audit_event FOR EACH ROW "
                             "EXECUTE FUNCTION govcloud_audit_refuse()",
    "audit_event_no_truncate": "BEFORE TRUNCATE ON audit_event FOR EACH STATEMENT "
                               "EXECUTE FUNCTION govcloud_audit_refuse()",
    "audit_digest_immutable": "BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_digest "
                              "FOR EACH STATEMENT EXECUTE FUNCTION govcloud_audit_refuse()",
    "audit_archive_immutable": "BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_archive "
                               "FOR EACH STATEMENT EXECUTE FUNCTION govcloud_audit_refuse()",
    "audit_chain_head_forward": "BEFORE UPDATE OR DELETE ON audit_chain_head FOR EACH ROW "
                                "EXECUTE FUNCTION govcloud_audit_head_forward()",
}

_SQLITE_PURGE_ALLOWED = (
    f"{SQLITE_PURGE_FUNCTION}() = 1 "
    f"AND julianday(old.occurred_at) < julianday('now') - {RETENTION_FLOOR_DAYS} "
    "AND EXISTS (SELECT 1 FROM audit_archive a WHERE old.seq BETWEEN a.first_seq AND a.last_seq)")
SQLITE_TRIGGERS = {
    "audit_event_no_update": "BEFORE UPDATE ON audit_event BEGIN "
                             "SELECT RAISE(ABORT, 'the audit log cannot be rewritten: UPDATE of audit_event refused'); END",
    "audit_event_no_delete": f"BEFORE DELETE ON audit_event WHEN NOT ({_SQLITE_PURGE_ALLOWED}) BEGIN "
                             "SELECT RAISE(ABORT, 'the audit log cannot be rewritten: DELETE of audit_event refused'); END",
    "audit_digest_no_update": "BEFORE UPDATE ON audit_digest BEGIN "
                              "SELECT RAISE(ABORT, 'the audit log cannot be rewritten: UPDATE of audit_digest refused'); END",
    "audit_digest_no_delete": "BEFORE DELETE ON audit_digest BEGIN "
                              "SELECT RAISE(ABORT, 'the audit log cannot be rewritten: DELETE of audit_digest refused'); END",
    "audit_archive_no_update": "BEFORE UPDATE ON audit_archive BEGIN "
                               "SELECT RAISE(ABORT, 'the audit log cannot be rewritten: UPDATE of audit_archive refused'); END",
    "audit_archive_no_delete": "BEFORE DELETE ON audit_archive BEGIN "
                               "SELECT RAISE(ABORT, 'the audit log cannot be rewritten: DELETE of audit_archive refused'); END",
    "audit_chain_head_forward": "BEFORE UPDATE ON audit_chain_head WHEN NOT (new.id = old.id AND new.seq > old.seq "
                                "AND EXISTS (SELECT 1 FROM audit_event e WHERE e.seq = new.seq AND e.hash = new.hash)) "
                                "BEGIN SELECT RAISE(ABORT, 'the audit chain head only moves forward to an existing event'); END",
    "audit_chain_head_no_delete": "BEFORE DELETE ON audit_chain_head BEGIN "
                                  "SELECT RAISE(ABORT, 'the audit log cannot be rewritten: DELETE of audit_chain_head refused'); END",
}


def install_triggers(conn):
    """Create (or re-create) the refusing triggers on conn's database."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(_PG_REFUSE))
        conn.execute(text(_PG_HEAD))
        for name, body in PG_TRIGGERS.items():
            table = body.split(" ON ")[1].split()[0]
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
            conn.execute(text(f"CREATE TRIGGER {name} {body}"))
    else:
        for name, body in SQLITE_TRIGGERS.items():
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
            conn.execute(text(f"CREATE TRIGGER {name} {body}"))


def drop_triggers(conn):
    """Remove the triggers (the migration's downgrade; only the owner can)."""
    if conn.dialect.name == "postgresql":
        for name, body in PG_TRIGGERS.items():
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {body.split(' ON ')[1].split()[0]}"))
        conn.execute(text("DROP FUNCTION IF EXISTS govcloud_audit_refuse()"))
        conn.execute(text("DROP FUNCTION IF EXISTS govcloud_audit_head_forward()"))
    else:
        for name in SQLITE_TRIGGERS:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))


def allow_purge(conn):
    """Switch the retention purge on for conn's current transaction (the triggers still check
    the event's age and its archive)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT set_config(:name, 'on', true)"), {"name": PURGE_SETTING})
    else:
        conn.connection.info[SQLITE_PURGE_FUNCTION]["on"] = True


def end_purge(conn):
    """Switch the purge off again (PostgreSQL ends it with the transaction anyway)."""
    if conn.dialect.name != "postgresql":
        conn.connection.info[SQLITE_PURGE_FUNCTION]["on"] = False


def register_sqlite_function(dbapi_connection, connection_record):
    """Give a new SQLite connection govcloud_audit_purge(): 1 while allow_purge() is in force."""
    state = {"on": False}
    connection_record.info[SQLITE_PURGE_FUNCTION] = state
    dbapi_connection.create_function(SQLITE_PURGE_FUNCTION, 0, lambda: 1 if state["on"] else 0)


def _quote(conn, name):
    return conn.dialect.identifier_preparer.quote(name)


def grant_runtime(conn, role):
    """Give the runtime role what the portal needs, and on the audit tables no more than SELECT
    and INSERT (plus moving the chain head forward). Idempotent: run after every upgrade."""
    if conn.dialect.name != "postgresql":
        return False
    role_q = _quote(conn, role)
    schema = _quote(conn, conn.execute(text("SELECT current_schema()")).scalar_one())
    audit = ", ".join(AUDIT_TABLES)
    for statement in (
            f"GRANT USAGE ON SCHEMA {schema} TO {role_q}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role_q}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role_q}",
            f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {schema} FROM {role_q}",
            f"REVOKE UPDATE, DELETE ON {audit}, alembic_version FROM {role_q}",
            f"REVOKE INSERT ON audit_archive, alembic_version FROM {role_q}",
            f"GRANT UPDATE (seq, hash) ON audit_chain_head TO {role_q}"):
        conn.execute(text(statement))
    return True

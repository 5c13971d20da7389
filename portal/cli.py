"""Command line: `govcloud db upgrade`, `db-backup`, `db-restore`, `create-admin`, `create-user`, `load-demo`
(also `flask --app portal`)."""
import getpass
import os
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from .errors import ValidationFailed


def register_commands(app):
    app.cli.add_command(db_group)
    app.cli.add_command(create_admin)
    app.cli.add_command(create_user_command)
    app.cli.add_command(load_demo_command)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(audit_group)
    app.cli.add_command(crypto_group)
    app.cli.add_command(db_backup_command)
    app.cli.add_command(db_restore_command)


def _services():
    from .extensions import db
    from .web import login_policy, passwords
    return db, login_policy(), passwords()


@click.group("db", help="Database schema.")
def db_group():
    pass


@db_group.command("upgrade", help="Apply the migrations up to the newest (as DATABASE_OWNER_URL when set, "
                                   "then grant DATABASE_URL's role its rights).")
@with_appcontext
def db_upgrade():
    from . import migrate
    if migrate.upgrade_as_owner(current_app.config["DATABASE_URL"], current_app.config["DATABASE_OWNER_URL"]):
        click.echo("runtime role granted: SELECT and INSERT only on the audit tables")
    click.echo("database is at the newest revision")


@db_group.command("grant", help="Grant DATABASE_URL's role its rights again, as DATABASE_OWNER_URL (PostgreSQL).")
@with_appcontext
def db_grant():
    from . import migrate
    owner_url = current_app.config["DATABASE_OWNER_URL"]
    if not owner_url or not migrate.grant_runtime(current_app.config["DATABASE_URL"], owner_url):
        raise click.ClickException("nothing to grant: set DATABASE_OWNER_URL to a PostgreSQL role other "
                                   "than DATABASE_URL's")
    click.echo("runtime role granted: SELECT and INSERT only on the audit tables")


@db_group.command("check", help="Fail when the models and the migrations disagree.")
@with_appcontext
def db_check():
    from . import migrate
    from .extensions import db
    diffs = migrate.pending_differences(db.engine)
    if diffs:
        for diff in diffs:
            click.echo(f"difference: {diff}", err=True)
        sys.exit(1)
    click.echo("models and migrations agree")


@click.command("db-backup", help="Back up the portal database (SQLite online backup / pg_dump -Fc) "
                                 "into DIR with a checksum, keeping the newest N.")
@click.option("--dir", "directory", required=True, type=click.Path(file_okay=False),
              help="Directory for the backups (created when missing).")
@click.option("--keep", default=14, show_default=True, type=click.IntRange(min=0),
              help="Keep the newest N backups in DIR (0: keep all).")
@with_appcontext
def db_backup_command(directory, keep):
    from backup.dbdump import DumpError, backup_database
    try:
        result = backup_database(current_app.config["DATABASE_URL"], directory, keep=keep)
    except DumpError as exc:
        raise click.ClickException(f"backup failed: {exc}") from None
    click.echo(f"backup {result.path} ({result.size} bytes, sha256 {result.sha256})")
    for path in result.removed:
        click.echo(f"rotated out {path.name}")


@click.command("db-restore", help="Restore a backup made by db-backup into a FRESH database at URL.")
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--to", "url", required=True,
              help="Database URL of the new, empty database (sqlite:///new.db or postgresql+psycopg://...).")
def db_restore_command(backup_file, url):
    from backup.dbdump import DumpError, restore_database
    try:
        restore_database(backup_file, url)
    except DumpError as exc:
        raise click.ClickException(f"restore failed: {exc}") from None
    click.echo(f"restored {backup_file} into the new database; point DATABASE_URL at it and run "
               "`govcloud db upgrade`")


def _password(prompt_password):
    env = os.environ.get("GOVCLOUD_NEW_PASSWORD")
    if env:
        return env
    if prompt_password:
        return getpass.getpass("Password: ")
    from .services.demo import demo_password
    return demo_password()


def _create(data, prompt_password):
    from .services import users
    from .services.audit import RequestInfo
    db, policy, hasher = _services()
    password = _password(prompt_password)
    try:
        user = users.create_user(db.session, RequestInfo(correlation_id="cli"), data, password,
                                 policy=policy, passwords=hasher)
    except ValidationFailed as exc:
        raise click.ClickException(str(exc.message)) from None
    click.echo(f"created {user.role} user {user.username}")
    if not (prompt_password or os.environ.get("GOVCLOUD_NEW_PASSWORD")):
        click.echo(f"password (shown once): {password}")


@click.command("create-admin", help="Create a system administrator.")
@click.option("--username", default="admin", show_default=True)
@click.option("--full-name", default="")
@click.option("--prompt-password", is_flag=True, help="Ask for the password instead of generating one.")
@with_appcontext
def create_admin(username, full_name, prompt_password):
    _create({"username": username, "full_name": full_name or username, "role": "admin"}, prompt_password)


@click.command("create-user", help="Create a user of any role; the first security administrator "
               "(--role security) and audit administrator (--role auditor) are made here.")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(
    ["department", "bureau", "vendor", "auditor", "admin", "security"]))
@click.option("--department", "department_code", default="", help="Department code (department role).")
@click.option("--department-admin", is_flag=True)
@click.option("--full-name", default="")
@click.option("--prompt-password", is_flag=True)
@with_appcontext
def create_user_command(username, role, department_code, department_admin, full_name, prompt_password):
    from sqlalchemy import select

    from .extensions import db
    from .models.accounts import Department
    department_id = None
    if department_code:
        department = db.session.scalars(select(Department).where(Department.code == department_code)).first()
        if department is None:
            raise click.ClickException(f"no department with code {department_code}")
        department_id = department.id
    _create({"username": username, "full_name": full_name or username, "role": role,
             "department_id": department_id, "is_department_admin": department_admin}, prompt_password)


@click.command("load-demo", help="Create demo departments and one user per role (only those missing).")
@click.option("--credentials-file", default=None,
              help="Also write new logins here (default: demo-logins.txt in the instance folder).")
@with_appcontext
def load_demo_command(credentials_file):
    from .services.demo import load_demo
    db, policy, hasher = _services()
    created = load_demo(db.session, policy=policy, passwords=hasher)
    path = credentials_file or os.path.join(current_app.instance_path, "demo-logins.txt")
    if not created:
        click.echo("demo data already loaded; no new users")
        return
    kept = []
    if os.path.exists(path):  # a re-created database: drop the stale lines of these users
        with open(path, encoding="utf-8") as f:
            kept = [line for line in f if line.split() and line.split()[0] not in created]
    fd = os.open(path + ".new", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.writelines(kept)
        for username, password in created.items():
            line = f"{username:12} {password}"
            out.write(line + "\n")
            click.echo(f"demo login (shown once, also in {path}): {line}")
    os.replace(path + ".new", path)


@click.group("audit", help="The tamper-evident audit log.")
def audit_group():
    pass


def _audit_key(required):
    from .audit_chain import load_key
    try:
        return load_key(current_app.config, create=required)
    except OSError as exc:
        raise click.ClickException(f"audit key: {exc}") from None


@audit_group.command("digest", help="Sign the chain head with the audit key (kept outside the database).")
@with_appcontext
def audit_digest():
    from .audit_chain import sign_and_publish
    from .extensions import db
    _audit_key(required=True)
    try:
        digest = sign_and_publish(db.session, current_app.config)
    except OSError as exc:
        raise click.ClickException(f"digest stored in the database but not in "
                                   f"{current_app.config['AUDIT_DIGEST_FILE']}: {exc}") from None
    if digest is None:
        click.echo("audit log is empty; no digest written")
    else:
        click.echo(f"digest {digest.id}: seq {digest.seq} hash {digest.hash}")


@audit_group.command("verify", help="Check the whole chain (or a time range) and name every break.")
@click.option("--since", type=click.DateTime(), default=None, help="From this UTC time.")
@click.option("--until", type=click.DateTime(), default=None, help="Up to this UTC time.")
@click.option("--digests", "digest_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Also check the digests of this external digest file (AUDIT_DIGEST_FILE or a copy).")
@with_appcontext
def audit_verify(since, until, digest_file):
    from datetime import timezone

    from .audit_chain import algorithms_used, read_digest_file, verify
    from .extensions import db
    key = _audit_key(required=False)
    try:
        external = read_digest_file(digest_file) if digest_file else []
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if external and key is None:
        raise click.ClickException("no audit key configured: the external digests cannot be checked")
    report = verify(db.session, key, external=external,
                    since=since.replace(tzinfo=timezone.utc) if since else None,
                    until=until.replace(tzinfo=timezone.utc) if until else None)
    span = f"seq {report.first_seq}..{report.last_seq}" if report.events else "no events"
    click.echo(f"checked {report.events} events ({span}), {report.digests} signed digests")
    hashes, signatures = algorithms_used(db.session)
    click.echo("hash algorithms: " + (", ".join(f"{a} {n}" for a, n in hashes.items()) or "-")
               + "; digest signatures: " + (", ".join(f"{a} {n}" for a, n in signatures.items()) or "-"))
    if digest_file:
        click.echo(f"checked {report.external_digests} digests of {digest_file}")
    if key is None:
        click.echo("warning: no audit key configured; signed digests were not checked", err=True)
    for problem in report.problems:
        click.echo(f"TAMPERED ({problem.kind}): {problem.message}", err=True)
    if not report.ok:
        sys.exit(1)
    click.echo("audit chain intact / 审计日志完整")


def _day(ctx, param, value):
    from .audit_retention import parse_day
    try:
        return parse_day(value)
    except ValueError:
        raise click.BadParameter("expected a date YYYY-MM-DD") from None


@audit_group.command("archive", help="Write the events before DATE (from the start of the chain) to a signed "
                                     "archive in DIR: JSON lines and a signed manifest.")
@click.option("--before", required=True, callback=_day, help="YYYY-MM-DD (UTC): archive events before this day.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Directory of the archive.")
@with_appcontext
def audit_archive(before, out_dir):
    from .audit_retention import RetentionError, archive
    from .extensions import db
    from .services.audit import RequestInfo, record_event
    key = _audit_key(required=True)
    try:
        data_path, manifest_path, manifest = archive(db.session, key, before, out_dir)
    except (RetentionError, OSError) as exc:
        db.session.rollback()
        raise click.ClickException(f"archive refused: {exc}") from None
    record_event(db.session, RequestInfo(correlation_id="cli"), "audit.archive", object_type="audit_archive",
                 object_id=manifest.name, after={"first_seq": manifest.first_seq, "last_seq": manifest.last_seq,
                                                 "count": manifest.count, "file_sha256": manifest.file_sha256})
    db.session.commit()
    click.echo(f"archived {manifest.count} events (seq {manifest.first_seq}..{manifest.last_seq}) to {data_path}")
    click.echo(f"manifest {manifest_path}")


@audit_group.command("verify-archive", help="Check an archive (its .jsonl or .manifest.json) against its signed "
                                            "manifest and its own chain.")
@click.argument("archive_file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def audit_verify_archive(archive_file):
    from .audit_retention import verify_archive
    manifest, _hashes, problems = verify_archive(archive_file, _audit_key(required=True))
    for problem in problems:
        click.echo(f"TAMPERED: {problem}", err=True)
    if problems:
        sys.exit(1)
    click.echo(f"archive intact: {manifest.count} events, seq {manifest.first_seq}..{manifest.last_seq} / 归档完整")


@audit_group.command("purge", help="Delete the events of a verified archive that occurred before DATE; events "
                                   "younger than AUDIT_RETENTION_DAYS are refused. Runs as DATABASE_OWNER_URL.")
@click.option("--before", required=True, callback=_day, help="YYYY-MM-DD (UTC).")
@click.option("--archive", "archive_file", required=True, type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def audit_purge(before, archive_file):
    from contextlib import nullcontext

    from sqlalchemy.orm import Session

    from .audit_retention import RetentionError, purge
    from .database import make_engine
    from .extensions import db
    from .services.audit import RequestInfo, record_event
    key = _audit_key(required=True)
    owner_url = current_app.config["DATABASE_OWNER_URL"]
    engine = make_engine(owner_url) if owner_url else None
    try:
        with (Session(engine) if engine is not None else nullcontext(db.session)) as session:
            try:
                manifest = purge(session, key, archive_file, before, current_app.config["AUDIT_RETENTION_DAYS"])
            except RetentionError as exc:
                session.rollback()
                raise click.ClickException(f"purge refused, nothing deleted: {exc}") from None
            record_event(session, RequestInfo(correlation_id="cli"), "audit.purge", object_type="audit_archive",
                         object_id=manifest.name,
                         after={"first_seq": manifest.first_seq, "last_seq": manifest.last_seq,
                                "count": manifest.count, "before": before.date().isoformat()})
            session.commit()
    finally:
        if engine is not None:
            engine.dispose()
    click.echo(f"purged {manifest.count} archived events (seq {manifest.first_seq}..{manifest.last_seq})")


@click.group("crypto", help="The key ring, sealed fields and secrets (CRYPTO_SUITE).")
def crypto_group():
    pass


@crypto_group.command("status", help="Show the key ring's keys and how many values each still seals.")
@with_appcontext
def crypto_status():
    from .crypto import keyring
    from .extensions import db
    from .services.crypto_keys import PLAIN, count_by_key
    ring = keyring.current()
    suite = current_app.config["CRYPTO_SUITE"]
    totals = {}
    for counter in count_by_key(db.session).values():
        for key_id, n in counter.items():
            totals[key_id] = totals.get(key_id, 0) + n
    click.echo(f"suite {suite}; key ring {ring.source}")
    for key in ring.keys.values():
        mark = "active" if key.id == ring.active_id else "kept"
        click.echo(f"{key.id}  {key.suite:13}  {mark:7}  seals {totals.pop(key.id, 0)} values")
    for key in ring.retired.values():
        click.echo(f"{key.id}  {key.suite:13}  retired  (public keys kept for old signatures)")
    if totals.get(PLAIN):
        click.echo(f"{totals.pop(PLAIN)} values are still plain text: run `govcloud crypto rotate`")
    for key_id, n in totals.items():
        click.echo(f"error: {n} values are sealed with {key_id}, which the ring does not hold", err=True)
    if ring.active.suite != suite:
        click.echo(f"the active key is {ring.active.suite} but CRYPTO_SUITE is {suite}: "
                   "run `govcloud crypto rotate`")
    if totals:
        sys.exit(1)


@crypto_group.command("rotate", help="Add a new active key (of CRYPTO_SUITE) and re-seal every sealed value "
                                     "with it; the old keys stay until `crypto retire`.")
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 100000))
@with_appcontext
def crypto_rotate(batch):
    from .crypto import keyring
    from .extensions import db
    from .services.crypto_keys import rotate
    try:
        ring, result = rotate(db.session, current_app.config, batch=batch)
    except keyring.KeyRingError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"new active key {ring.active_id} ({ring.active.suite}); re-sealed {result.values} values")
    for name, n in result.by_column.items():
        if n:
            click.echo(f"  {name}: {n}")


@crypto_group.command("reseal", help="Seal with the active key every value still plain (e.g. of a column just "
                                     "made sealed) or sealed with an older key.")
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 100000))
@with_appcontext
def crypto_reseal(batch):
    from .crypto import keyring
    from .extensions import db
    from .services.crypto_keys import reseal
    result = reseal(db.session, batch=batch)
    click.echo(f"re-sealed {result.values} values with {keyring.current().active_id}")


@crypto_group.command("retire", help="Remove an old key's secret from the ring once it seals nothing.")
@click.argument("key_id")
@with_appcontext
def crypto_retire(key_id):
    from .crypto import keyring
    from .extensions import db
    from .services.crypto_keys import retire
    try:
        retire(db.session, current_app.config, key_id)
    except keyring.KeyRingError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"key {key_id} retired; its public signing keys stay in the ring")


@crypto_group.command("seal", help="Seal a secret (e.g. the SMTP password) for the settings file: "
                                   "read from standard input, or asked for.")
@with_appcontext
def crypto_seal():
    from .crypto import fields
    value = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else getpass.getpass("Secret: ")
    if not value:
        raise click.ClickException("nothing to seal")
    click.echo(fields.seal(value))


@click.command("scheduler", help="Run the scheduler process (monitoring jobs) in the foreground.")
@click.option("--run-once", default=None, metavar="JOB_ID", help="Run one job now and exit.")
def scheduler_command(run_once):
    from scheduler.process import main as scheduler_main
    sys.exit(scheduler_main(["--run-once", run_once] if run_once else []))

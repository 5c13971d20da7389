"""Backups of the portal's own database: `govcloud db-backup` and `govcloud db-restore`.

SQLite is copied with the sqlite3 online backup API (a consistent copy while the portal
writes); PostgreSQL with `pg_dump -Fc`, restored by `pg_restore` into a fresh database. Each
backup is written under a temporary name, then renamed, next to a `sha256sum`-style checksum
file, so a half-written dump is never mistaken for a backup; rotation keeps the newest N.
Nothing here imports Flask.
"""
import hashlib
import logging
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

PREFIX = "govcloud-"
SUFFIXES = {"sqlite": ".sqlite3", "postgresql": ".pgdump"}
NAME_RE = re.compile(r"^govcloud-(\d{8}T\d{6}\.\d{6}Z)\.(sqlite3|pgdump)$")
CHECKSUM_SUFFIX = ".sha256"
DEFAULT_KEEP = 14


class DumpError(Exception):
    """A backup or restore that did not complete; the message says what to do."""


@dataclass
class DumpResult:
    path: Path
    size: int
    sha256: str
    removed: list = field(default_factory=list)


def _backend(url):
    name = make_url(url).get_backend_name()
    if name not in SUFFIXES:
        raise DumpError(f"unsupported database {name!r}: only sqlite and postgresql are backed up")
    return name


def _sqlite_path(url):
    path = make_url(url).database
    if not path or path == ":memory:":
        raise DumpError("an in-memory SQLite database cannot be backed up")
    return Path(path)


def _pg_target(url):
    """Return (libpq URI without password, environment with PGPASSWORD, schema or None).

    The schema is the one a `-csearch_path=` option selects (one portal per schema); without it
    the whole database is dumped.
    """
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password  # not on the command line, where ps would show it
    libpq = parsed.set(drivername="postgresql", password=None)
    schema = None
    options = parsed.query.get("options", "")
    if isinstance(options, tuple):
        options = " ".join(options)
    match = re.search(r"-c\s*search_path=([A-Za-z0-9_]+)", options)
    if match:
        schema = match.group(1)
    return libpq.render_as_string(hide_password=False), env, schema


def sha256_file(path):
    """Return the hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_checksum(path, digest):
    tmp = path.with_name(path.name + CHECKSUM_SUFFIX + ".partial")
    tmp.write_text(f"{digest}  {path.name}\n", encoding="ascii")
    os.replace(tmp, path.with_name(path.name + CHECKSUM_SUFFIX))


def list_backups(directory):
    """Return the complete backups in directory (those with a checksum file), oldest first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = [p for p in directory.iterdir()
             if NAME_RE.match(p.name) and p.with_name(p.name + CHECKSUM_SUFFIX).exists()]
    return sorted(found, key=lambda p: NAME_RE.match(p.name).group(1))


def rotate(directory, keep):
    """Delete all but the newest `keep` backups (and their checksum files); return what went."""
    if keep < 1:
        raise DumpError("--keep must be at least 1")
    removed = []
    for path in list_backups(directory)[:-keep]:
        path.with_name(path.name + CHECKSUM_SUFFIX).unlink(missing_ok=True)
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def backup_database(url, directory, keep=DEFAULT_KEEP, now=None):
    """Back up the database at url into directory, write its checksum, rotate; return a DumpResult."""
    backend = _backend(url)
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DumpError(f"cannot create the backup directory {directory}: {exc.strerror}") from None
    stamp = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    final = directory / f"{PREFIX}{stamp}{SUFFIXES[backend]}"
    partial = final.with_name(final.name + ".partial")
    try:
        if backend == "sqlite":
            _sqlite_backup(_sqlite_path(url), partial)
        else:
            _pg_dump(url, partial)
        digest = sha256_file(partial)
        os.replace(partial, final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _write_checksum(final, digest)
    size = final.stat().st_size
    log.info("database backup written", extra={"path": str(final), "bytes": size})
    removed = rotate(directory, keep) if keep else []
    return DumpResult(path=final, size=size, sha256=digest, removed=removed)


def _sqlite_backup(source, target):
    if not source.exists():
        raise DumpError(f"the SQLite database {source} does not exist")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # page by page under SQLite's locks: consistent while others write
    except sqlite3.Error as exc:
        raise DumpError(f"SQLite backup of {source} failed: {exc}") from None
    finally:
        dst.close()
        src.close()


def _run(argv, env, what):
    if shutil.which(argv[0]) is None:
        raise DumpError(f"{argv[0]} not found: install the PostgreSQL client (postgresql-client)")
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise DumpError(f"{what} failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return proc


def _pg_dump(url, target):
    uri, env, schema = _pg_target(url)
    argv = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}"]
    if schema:
        argv.append(f"--schema={schema}")
    _run(argv + [f"--dbname={uri}"], env, "pg_dump")


def verify_checksum(path):
    """Check a backup file against its checksum file; raise DumpError when absent or different."""
    path = Path(path)
    if not path.is_file():
        raise DumpError(f"{path} does not exist")
    sums = path.with_name(path.name + CHECKSUM_SUFFIX)
    if not sums.exists():
        raise DumpError(f"{sums.name} is missing: the backup is incomplete or was not made by govcloud")
    expected = sums.read_text(encoding="ascii").split()[0]
    actual = sha256_file(path)
    if actual != expected:
        raise DumpError(f"{path.name} does not match its checksum (file damaged?)")
    return actual


def restore_database(path, url):
    """Restore a backup file into the fresh (empty) database at url, after checking its checksum."""
    path = Path(path)
    verify_checksum(path)
    kind = NAME_RE.match(path.name)
    backend = _backend(url)
    if kind is None or SUFFIXES[backend] != "." + kind.group(2):
        raise DumpError(f"{path.name} is not a {backend} backup of govcloud")
    if backend == "sqlite":
        target = _sqlite_path(url)
        if target.exists() and target.stat().st_size > 0:
            raise DumpError(f"{target} exists: restore into a new file, then point DATABASE_URL at it")
        src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        return
    uri, env, _schema = _pg_target(url)
    proc = _run(["psql", "-XAtq", f"--dbname={uri}", "-c",
                 "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"],
                env, "psql (checking the target is empty)")
    if proc.stdout.strip() not in ("", "0"):
        raise DumpError("the target database is not empty: create a fresh database "
                        "(createdb) and restore into it")
    _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
          f"--dbname={uri}", str(path)], env, "pg_restore")

"""Time to append and to verify an untouched audit chain of 100,000 events (SQLite, PostgreSQL).

    python bench/audit_verify.py [--events N]
"""
import argparse
import os
import sys
import tempfile
import time
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from portal import audit_chain, migrate  # noqa: E402
from portal.models.audit import AuditEvent

KEY = b"bench-key"
PG_URL = os.environ.get("GOVCLOUD_TEST_PG_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/govcloud_test")


def fill(engine, n, batch=5000):
    with Session(engine) as session:
        for start in range(0, n, batch):
            for i in range(start, min(n, start + batch)):
                ev = AuditEvent(actor_username="bench", actor_role="vendor", action="bench.event",
                                object_type="server", object_id=str(i), after={"i": i},
                                request_id="bench", detail="基准")
                audit_chain.track(session, ev)  # inserted, sealed, at commit
            session.commit()
        audit_chain.write_digest(session, KEY)
        session.commit()


def measure(name, url, n):
    migrate.upgrade(url)
    engine = create_engine(url)
    t0 = time.monotonic()
    fill(engine, n)
    appended = time.monotonic() - t0
    with Session(engine) as session:
        t0 = time.monotonic()
        report = audit_chain.verify(session, KEY)
        verified = time.monotonic() - t0
    assert report.ok and report.events == n, report.problems[:3]
    print(f"{name}: append {n} events {appended:.1f} s ({n / appended:.0f}/s); "
          f"verify {n} events + {report.digests} digest {verified:.2f} s "
          f"({n / verified:.0f} events/s)")
    engine.dispose()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    n = parser.parse_args().events
    with tempfile.TemporaryDirectory() as tmp:
        measure("sqlite", f"sqlite:///{tmp}/bench.db", n)
    schema = "bench_" + uuid.uuid4().hex[:8]
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        measure("postgresql", url.render_as_string(hide_password=False), n)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()

"""The workbench's cost (issue 17): SQL statements and milliseconds of each role's home page and of a
list page (whose navigation carries the to-do count), on a seeded SQLite database; and the statements
of the count alone (the badge: one query of counts, plus the calendar's for the bureau).

    python bench/workbench_queries.py [--repeat 20]
"""
import argparse
import os
import sys
import tempfile
import time

HERE = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, HERE)

from sqlalchemy import event  # noqa: E402

from portal import migrate  # noqa: E402
from portal.database import utcnow  # noqa: E402
from tests.conftest import login, make_test_app, reset_and_seed  # noqa: E402

ROLES = (("a-user", "/requests/"), ("a-admin", "/requests/"), ("bureau1", "/requests/"), ("vendor1", "/requests/"),
         ("auditor1", "/requests/"), ("security1", "/users/"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = make_test_app("sqlite:///" + os.path.join(tmp, "bench.db"), os.path.join(tmp, "instance"))
        migrate.upgrade(app.config["DATABASE_URL"])
        reset_and_seed(app)
        engine = app.extensions["govcloud_db"][0]
        statements = []

        def count(*_args, **_kwargs):
            statements.append(1)

        print(f"{'user':<10} {'page':<11} {'statements':>10} {'ms (median)':>12}")
        for username, page in ROLES:
            client = app.test_client()
            login(client, username)
            for url in ("/", page):
                client.get(url)
                event.listen(engine, "before_cursor_execute", count)
                statements.clear()
                client.get(url)
                event.remove(engine, "before_cursor_execute", count)
                times = []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    client.get(url)
                    times.append((time.perf_counter() - start) * 1000)
                times.sort()
                print(f"{username:<10} {url:<11} {len(statements):>10} {times[len(times) // 2]:>12.1f}")
        from portal.extensions import db
        from portal.models.accounts import User
        from portal.services.dashboard import todo_count
        with app.app_context():
            for username in ("a-user", "bureau1", "vendor1"):
                user = db.session.query(User).filter_by(username=username).one()
                event.listen(engine, "before_cursor_execute", count)
                statements.clear()
                todo_count(db.session, user, utcnow())
                event.remove(engine, "before_cursor_execute", count)
                print(f"badge of {username}: {len(statements)} statements")
        engine.dispose()


if __name__ == "__main__":
    main()

"""What unit tests share: a throw-away in-memory SQLite database with every table, and one stand-in
for the cloud (pure logic and the job protocol only: anything that claims to work with the cloud
is tested against the dev cloud in tests/integration)."""
import subprocess
import sys

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

import portal.models  # noqa: F401  (registers every table)
from portal.database import Base


@pytest.fixture
def session():
    """A session on an empty in-memory database with every table."""
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as s:
        yield s
    engine.dispose()


class FailingCloud:
    """A cloud that knows the department's project ("p1") and fails its first real call with exc."""

    def __init__(self, exc):
        self.exc = exc

    def project_exists(self, project_id):
        return True

    def find_project(self, name):
        return "p1"

    def get_quotas(self, project_id):
        raise self.exc

    def catalog(self, refresh=False):
        raise self.exc

    def govcloud_inventory(self, prefix, project_id=None, projects=()):
        raise self.exc


FLASKISH = ("flask", "flask_babel", "flask_login", "flask_wtf", "werkzeug")


def assert_import_no_flask(modules):
    """Import modules in a fresh interpreter and fail when that loaded Flask or one of its parts."""
    code = ("import sys\n" + "".join(f"import {m}\n" for m in modules)
            + f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FLASKISH!r})\n"
              "print(bad)\nsys.exit(1 if bad else 0)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


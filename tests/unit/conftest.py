"""What unit tests share: a throw-away in-memory SQLite database with every table, and one stand-in
for the cloud (pure logic and the job protocol only: anything that claims to work with the cloud
is tested against the dev cloud in tests/integration)."""
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

    admin = property(lambda self: (_ for _ in ()).throw(self.exc))  # the inventory's listings

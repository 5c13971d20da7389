"""Fixtures for tests against the local OpenStack dev cloud (devcloud/up starts it).

A missing or broken cloud fails these tests: nothing here skips.
"""
import os
import uuid
from pathlib import Path

import openstack
import pytest

REPO = Path(__file__).resolve().parents[2]


def clouds_yaml():
    return Path(os.environ.get("GOVCLOUD_TEST_CLOUDS_YAML", REPO / ".devcloud" / "clouds.yaml"))


@pytest.fixture(scope="session")
def cloud():
    """The dev cloud's admin connection."""
    path = clouds_yaml()
    if not path.exists():
        pytest.fail(f"{path} not found: start the dev cloud with devcloud/up (make test does)")
    config = openstack.config.OpenStackConfig(config_files=[str(path)], load_envvars=False)
    conn = openstack.connection.Connection(config=config.get_one(cloud="devcloud"))
    yield conn
    conn.close()


@pytest.fixture
def run_id():
    """A short name part unique to this test run, so leftovers are attributable."""
    return "t" + uuid.uuid4().hex[:8]


@pytest.fixture
def cleanup():
    """Register deletions right after each create; they run in reverse order, all of them."""
    callbacks = []
    yield callbacks.append
    errors = []
    for fn in reversed(callbacks):
        try:
            fn()
        except openstack.exceptions.NotFoundException:
            pass
        except Exception as exc:  # report every failed deletion, not just the first
            errors.append(f"{exc!r} {getattr(exc, 'url', '')} {getattr(exc, 'details', '')}")
    assert not errors, f"cleanup failed: {errors}"

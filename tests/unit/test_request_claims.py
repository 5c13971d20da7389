"""Job claiming on a throw-away in-memory SQLite database: due jobs only, one running job per department,
expired leases taken over, dead local workers released."""
from datetime import timedelta

import pytest
from portal.database import utcnow
from portal.models.accounts import Department
from portal.models.requests import ProvisioningJob, ResourceRequest
from provisioner.jobs import claim_job, release_dead_leases
from tests.unit.conftest import FailingCloud


@pytest.fixture(autouse=True)
def _requests(session):
    for n in (1, 2):
        session.add(Department(id=n, name=f"d{n}", code=f"D{n}", level="city"))
    session.flush()
    for n, dept in ((1, 1), (2, 1), (3, 2)):
        session.add(ResourceRequest(id=n, number=f"R{n}", department_id=dept, system_name="s", spec={}))
    session.commit()


def job(session, request_id, dept, **kw):
    j = ProvisioningJob(request_id=request_id, department_id=dept, **kw)
    session.add(j)
    session.commit()
    return j


def test_one_running_job_per_department_and_future_jobs_wait(session):
    a = job(session, 1, 1)
    job(session, 2, 1)
    c = job(session, 3, 2, available_at=utcnow() + timedelta(minutes=5))
    assert claim_job(session, "h:1").id == a.id
    assert claim_job(session, "h:2") is None  # department 1 is busy, department 2's job is not due
    c.available_at = utcnow() - timedelta(seconds=1)
    session.commit()
    assert claim_job(session, "h:2").id == c.id


def test_expired_and_dead_leases_are_taken_over(session):
    a = job(session, 1, 1)
    claimed = claim_job(session, "otherhost:1", lease_seconds=600)
    assert claimed.id == a.id and claim_job(session, "h:2") is None
    a.lease_expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    again = claim_job(session, "h:2")
    assert again.id == a.id and again.attempts == 2 and again.lease_owner == "h:2"
    # a worker of this host that no longer exists (pid 999999999) releases at once
    a.lease_owner = "thishost:999999999"
    a.lease_expires_at = utcnow() + timedelta(minutes=10)
    session.commit()
    assert release_dead_leases(session, hostname="thishost") == 1
    assert claim_job(session, "thishost:5").id == a.id


@pytest.mark.parametrize("exc,job_state,request_state", [
    ("transient", "queued", "provisioning"),
    ("permanent", "failed", "failed"),
    ("bug", "errored", "failed"),
])
def test_outcomes_are_kept_apart(session, exc, job_state, request_state):
    from provisioner import errors
    from provisioner.worker import run_job

    req = session.get(ResourceRequest, 1)
    req.state = "approved"
    req.approved_spec = {}
    session.commit()
    j = job(session, 1, 1)
    claimed = claim_job(session, "h:1")
    failure = {"transient": errors.TransientCloudError(errors.CLOUD_UNAVAILABLE, "HTTP 503"),
               "permanent": errors.PermanentCloudError(errors.QUOTA_EXCEEDED, "HTTP 413 quota"),
               "bug": ZeroDivisionError("oops")}[exc]
    assert run_job(session, FailingCloud(failure), claimed) == job_state
    session.expire_all()
    j = session.get(ProvisioningJob, j.id)
    assert session.get(ResourceRequest, 1).state == request_state
    if exc == "transient":
        assert j.available_at > utcnow() and j.lease_owner == ""  # retried later, with backoff
    elif exc == "permanent":
        assert session.get(ResourceRequest, 1).failure_message == errors.QUOTA_EXCEEDED
        assert "HTTP 413 quota" in j.error_detail
    else:
        assert "ZeroDivisionError" in j.error_detail and "Traceback" in j.error_detail

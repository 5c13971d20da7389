"""Job claiming on a throw-away in-memory SQLite database: due jobs only, one running job per department,
green-channel jobs first, expired leases taken over (the fencing token raised), dead local workers
released, attempts counted per failure, and a worker whose lease was taken over or ran out commits
nothing."""
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
    assert again.id == a.id and again.lease_owner == "h:2"
    assert again.lease_token == 2 and again.attempts == 0  # a takeover is a claim, not a failure
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
    assert j.attempts == 1  # one failure
    assert session.get(ResourceRequest, 1).state == request_state
    if exc == "transient":
        assert j.available_at > utcnow() and j.lease_owner == ""  # retried later, with backoff
    elif exc == "permanent":
        assert session.get(ResourceRequest, 1).failure_message == errors.QUOTA_EXCEEDED
        assert "HTTP 413 quota" in j.error_detail
    else:
        assert "ZeroDivisionError" in j.error_detail and "Traceback" in j.error_detail


def test_green_channel_first_but_one_running_job_per_department(session):
    session.add(ResourceRequest(id=4, number="R4", department_id=2, system_name="s", spec={}))
    session.commit()
    a = job(session, 1, 1, available_at=utcnow() - timedelta(minutes=3))
    urgent_busy = job(session, 2, 1, available_at=utcnow() - timedelta(minutes=1), priority=1)
    c = job(session, 3, 2, available_at=utcnow() - timedelta(minutes=2))
    urgent = job(session, 4, 2, available_at=utcnow() - timedelta(minutes=1), priority=1)
    assert claim_job(session, "h:1").id == urgent_busy.id  # green channel before older jobs
    assert claim_job(session, "h:2").id == urgent.id       # department 1 busy: the other green one
    assert claim_job(session, "h:3") is None               # both departments run a job
    assert {a.state, c.state} == {"queued"}


def test_attempts_count_failures_and_end_the_job(session):
    from provisioner import errors, jobs
    from provisioner.worker import run_job

    req = session.get(ResourceRequest, 1)
    req.state, req.approved_spec = "approved", {}
    session.commit()
    j = job(session, 1, 1)
    states = []
    for _ in range(jobs.MAX_ATTEMPTS):
        session.get(ProvisioningJob, j.id).available_at = utcnow() - timedelta(seconds=1)
        session.commit()
        claimed = claim_job(session, "h:1")
        states.append(run_job(session, FailingCloud(errors.TransientCloudError(errors.CLOUD_UNAVAILABLE, "503")),
                              claimed))
    assert states == ["queued"] * (jobs.MAX_ATTEMPTS - 1) + ["failed"]
    assert session.get(ProvisioningJob, j.id).attempts == jobs.MAX_ATTEMPTS
    assert session.get(ProvisioningJob, j.id).lease_token == jobs.MAX_ATTEMPTS


def test_a_worker_fenced_off_commits_nothing(session):
    from provisioner.jobs import Lease, LeaseLost

    j = job(session, 1, 1)
    claimed = claim_job(session, "h:1", lease_seconds=600)
    lease = Lease(session.get_bind(), claimed, 600)
    with lease.held(session):
        claimed.current_step = "first"
        session.commit()  # our token, our lease: committed
        # another worker took the job over (its claim raised the token)
        session.execute(ProvisioningJob.__table__.update().values(lease_token=claimed.lease_token + 1))
        claimed.current_step = "second"
        with pytest.raises(LeaseLost, match="taken over"):
            session.commit()
        session.rollback()
    assert session.get(ProvisioningJob, j.id).current_step == "first"


def test_a_worker_past_its_lease_commits_nothing(session):
    import time

    from provisioner.jobs import Lease, LeaseLost

    j = job(session, 1, 1)
    claimed = claim_job(session, "h:1", lease_seconds=600)
    lease = Lease(session.get_bind(), claimed, 600)
    with lease.held(session):
        lease.deadline = time.monotonic() - 1  # as after a stop (SIGSTOP) longer than the lease
        assert lease.renew() is False
        claimed.current_step = "late"
        with pytest.raises(LeaseLost, match="ran out"):
            session.commit()
        session.rollback()
    assert session.get(ProvisioningJob, j.id).current_step == ""

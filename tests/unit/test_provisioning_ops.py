"""Pure logic of the operator actions (issue 5): states, step kinds, the keys and names a rollback looks for."""
from types import SimpleNamespace

import pytest

from portal.steps import KINDS, step_kind
from portal.workflow import LIVE, SETTLED, TERMINAL, RequestState, TransitionNotAllowed, next_state
from provisioner.naming import names_system, spec_keys
from tests.unit.conftest import FailingCloud

S = RequestState


def test_failed_requests_roll_back_or_are_resolved():
    assert next_state(S.FAILED, "roll_back") == S.ROLLING_BACK
    assert next_state(S.ROLLING_BACK, "finish_rollback") == S.ROLLED_BACK
    assert next_state(S.ROLLING_BACK, "rollback_failed") == S.FAILED  # then retry, roll back again or resolve
    assert next_state(S.FAILED, "resolve") == S.RESOLVED
    assert {S.ROLLED_BACK, S.RESOLVED} <= TERMINAL and {S.ROLLED_BACK, S.RESOLVED} <= SETTLED
    assert not {S.ROLLING_BACK, S.ROLLED_BACK, S.RESOLVED} & LIVE  # the system is no longer live


@pytest.mark.parametrize("state,action", [(S.PROVISIONED, "roll_back"), (S.PROVISIONING, "resolve"),
                                          (S.ROLLED_BACK, "retry"), (S.RESOLVED, "roll_back")])
def test_refused_operator_moves(state, action):
    with pytest.raises(TransitionNotAllowed):
        next_state(state, action)


@pytest.mark.parametrize("name,kind", [
    ("project", "project"), ("quotas:raise", "quotas"), ("quotas:final", "quotas"), ("router", "router"),
    ("network:default", "network"), ("subnet:R12", "subnet"), ("router_interface:R12", "router_interface"),
    ("sg:R12", "sg"), ("sg:R12:rules", "sg_rules"), ("keypair:R12", "keypair"), ("server:R12:web-1", "server"),
    ("server:R12:web-1:wait", "server_wait"), ("server:R12:web-1:resize", "server_resize"),
    ("volume:R12:data", "volume"), ("volume:R12:data:extend", "volume_extend"),
    ("volume:R12:web-1-d1:attach", "volume_attach"), ("fip:R12:1", "fip"), ("delete:server:R12:web-2", "delete"),
    ("receipt", "receipt"), ("rollback:server", "rollback"), ("something-new", "other"), ("", "other")])
def test_step_kinds_are_a_small_fixed_set(name, kind):
    assert step_kind(name) == kind and kind in KINDS


def test_spec_keys_are_the_runners_keys():
    spec = {"servers": [{"name": "web", "flavor": "m1.tiny", "image": "cirros", "count": 2, "data_volumes": [1]}],
            "volumes": [{"name": "data", "size_gb": 2, "attach_to": "web-1"}], "rules": [],
            "network": {"cidr": "192.168.9.0/24"}, "floating_ips": 1, "ssh_public_key": "ssh-ed25519 AAA x"}
    assert spec_keys(spec, 7) == {
        "sg:R7": "security_group", "network:R7": "network", "subnet:R7": "subnet", "keypair:R7": "keypair",
        "server:R7:web-1": "server", "server:R7:web-2": "server", "volume:R7:web-1-d1": "volume",
        "volume:R7:web-2-d1": "volume", "volume:R7:data": "volume", "fip:R7:1": "floating_ip"}
    assert spec_keys({}, 7) == {}


def test_names_of_a_system_and_not_of_its_neighbours():
    dept = SimpleNamespace(code="DEPT-A")
    assert names_system("gc-dept-a-server-R7-web-1", "gc", dept, 7)
    assert names_system("gc-dept-a-sg-R7", "gc", dept, 7)
    assert names_system("gc-dept-a-fip-R7-1", "gc", dept, 7)
    assert not names_system("gc-dept-a-sg-R77", "gc", dept, 7)
    assert not names_system("gc-dept-a-server-R71-web-1", "gc", dept, 7)
    assert not names_system("gc-dept-b-sg-R7", "gc", dept, 7)
    assert not names_system("gc-dept-a-router", "gc", dept, 7)
    assert not names_system("gcx-dept-a-sg-R7", "gc", dept, 7)


# -- the rollback job's outcomes, on a throw-away in-memory SQLite database with a cloud stand-in
@pytest.fixture
def rolling_back(session):
    """Request 1 of department 1 (project p1), rolling back."""
    from portal.models.accounts import Department
    from portal.models.requests import ResourceRequest
    session.add(Department(id=1, name="d1", code="D1", level="city", openstack_project_id="p1"))
    session.flush()
    session.add(ResourceRequest(id=1, number="R1", department_id=1, system_name="s", spec={}, approved_spec={},
                                state="rolling_back"))
    session.commit()
    return session


@pytest.mark.parametrize("exc,job_state,request_state", [
    ("transient", "queued", "rolling_back"),
    ("permanent", "failed", "failed"),
    ("bug", "errored", "failed"),
])
def test_rollback_outcomes(rolling_back, exc, job_state, request_state):
    session = rolling_back
    from portal.models.audit import AuditEvent
    from portal.models.reconcile import ProvisioningStep
    from portal.models.requests import ProvisioningJob, ResourceRequest
    from provisioner import errors
    from provisioner.jobs import claim_job
    from provisioner.worker import run_job
    from sqlalchemy import select

    session.add(ProvisioningJob(request_id=1, department_id=1, action="rollback"))
    session.commit()
    job = claim_job(session, "h:1")
    failure = {"transient": errors.TransientCloudError(errors.CLOUD_UNAVAILABLE, "HTTP 503"),
               "permanent": errors.PermanentCloudError(errors.REJECTED_BY_CLOUD, "HTTP 403 policy"),
               "bug": ZeroDivisionError("oops")}[exc]
    assert run_job(session, FailingCloud(failure), job) == job_state  # dispatched on job.action
    session.expire_all()
    req = session.get(ResourceRequest, 1)
    assert req.state == request_state
    job = session.get(ProvisioningJob, job.id)
    actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    if exc == "transient":
        assert job.lease_owner == "" and "provisioning.retry_later" in actions  # retried later, with backoff
    else:  # the request is failed again: retry, roll back again or mark resolved
        assert "request.rollback_failed" in actions and req.failure_message == job.error_message
        assert job.error_detail.startswith("step rollback:plan")
    # the step that failed was timed when the job left `running`
    assert [s.kind for s in session.scalars(select(ProvisioningStep))] == ["rollback"]

"""Two worker processes (two jobs at a time each) share the job table on PostgreSQL: 20 approved
requests of five departments are each run exactly once (one claim, one `request.start_provisioning`,
one create-or-adopt per resource in the audit log; each resource once in OpenStack), both workers
take part, and no two jobs of one department run at the same time (the per-department limit).
Dev cloud."""
import re
from collections import Counter, defaultdict

import pytest
from sqlalchemy import select

from tests.integration.provisioning_support import (approve_new, assert_audited_once, assert_cloud_matches,
                                                    make_department, purge_fast, request_states,
                                                    run_workers_until_done, stray_servers, worker_env)
from tests.integration.test_requests_cloud_flow import migrated_app  # noqa: F401

pytestmark = pytest.mark.devcloud
DEPARTMENTS = 5
REQUESTS_PER_DEPARTMENT = 4
TIMEOUT = 420


def test_two_workers_run_each_job_once(app, seed, cloud, run_id, cleanup, tmp_path):
    from portal.extensions import db
    from portal.models.audit import AuditEvent
    from portal.models.requests import ProvisioningJob, ResourceRequest

    prefix = f"gc{run_id}"
    cleanup(lambda: purge_fast(cloud, prefix))
    departments, request_ids = [], []
    for d in range(DEPARTMENTS):
        dept_id, user_id = make_department(app, f"W{d}{run_id[1:6]}".upper(), f"并发演练局{d}{run_id}")
        departments.append(dept_id)
        for n in range(REQUESTS_PER_DEPARTMENT):
            spec = {"servers": [{"name": "app", "flavor": "m1.tiny", "image": "cirros-devcloud", "count": 1}],
                    "rules": [{"port": str(8000 + n), "protocol": "tcp", "source": "10.0.0.0/8"}]}
            if n == 0:
                spec["volumes"] = [{"name": "data", "size_gb": 1, "attach_to": "app-1"}]
            request_ids.append(approve_new(app, user_id, seed.user_ids["bureau"], spec, f"并发系统{d}-{n}"))

    codes = run_workers_until_done(app, tmp_path, cleanup, worker_env(app, prefix), TIMEOUT,
                                   args=("--concurrency", "2"), alive=True)
    assert codes == [0, 0]

    states = request_states(app, request_ids)
    assert all(state == "provisioned" for state, _ in states.values()), states
    claims = []
    for n in range(2):
        claims += [(n, int(job)) for job in re.findall(r"claimed job=(\d+)", (tmp_path / f"worker{n}.log").read_text())]
    by_job = Counter(job for _, job in claims)
    assert len(by_job) == len(request_ids) and set(by_job.values()) == {1}, by_job
    assert {n for n, _ in claims} == {0, 1}, "both workers ran jobs"
    with app.app_context():
        jobs = db.session.scalars(select(ProvisioningJob).where(ProvisioningJob.request_id.in_(request_ids))).all()
        assert sorted(j.request_id for j in jobs) == sorted(request_ids)
        # claimed once (fencing token 1), no failure (attempts count failures)
        assert all(j.lease_token == 1 and j.attempts == 0 and j.state == "succeeded" for j in jobs), \
            [(j.id, j.lease_token, j.attempts) for j in jobs]
        # one department, one running job at a time
        spans = defaultdict(list)
        for j in jobs:
            spans[j.department_id].append((j.started_at, j.finished_at))
        for dept_spans in spans.values():
            dept_spans.sort()
            assert all(end <= nxt_start for (_, end), (nxt_start, _) in zip(dept_spans, dept_spans[1:])), dept_spans
        starts = Counter(int(e.object_id) for e in db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "request.start_provisioning",
            AuditEvent.object_type == "resource_request")) if int(e.object_id) in request_ids)
        assert starts == Counter(request_ids)
        numbers = {db.session.get(ResourceRequest, rid).number for rid in request_ids}

    owned = assert_cloud_matches(app, cloud, prefix, departments)
    assert len(owned["server"]) == len(request_ids) and len(owned["volume"]) == DEPARTMENTS
    assert len(owned["project"]) == len(owned["router"]) == DEPARTMENTS
    assert stray_servers(cloud, prefix, numbers) == []
    assert_audited_once(app, departments)

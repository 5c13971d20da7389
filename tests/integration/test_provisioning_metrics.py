"""/metrics of provisioning operations (issue 5): step durations by kind, retries, rollbacks and reconciler
findings, read from the database (any process sees what the workers recorded); bounded labels."""
from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from portal.database import utcnow


def _families(text):
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_step_timings_retries_rollbacks_and_findings(app, client, db_session, seed):
    from portal.models.reconcile import ProvisioningStep, ReconcileFinding, ReconcileRun
    from portal.models.requests import ProvisioningJob
    from portal.services.audit import RequestInfo, record_event
    from provisioner import timings

    request_id = seed.extra["request_id"][0]
    job = ProvisioningJob(request_id=request_id, department_id=seed.dept_a, state="running", attempts=3)
    taken_over = ProvisioningJob(request_id=request_id, department_id=seed.dept_a, state="running", attempts=2)
    rollback = ProvisioningJob(request_id=request_id, department_id=seed.dept_a, state="succeeded",
                               action="rollback", attempts=1)
    db_session.add_all([job, taken_over, rollback])
    db_session.commit()

    # the runner's step(): each step closes the one before it; the job leaving `running` closes the last
    timings.step_started(db_session, job, "project")
    job.current_step = "project"
    job.step_started_at = utcnow() - timedelta(seconds=1.5)
    timings.step_started(db_session, job, "server:R1:web-1:wait")
    job.current_step = "server:R1:web-1:wait"
    job.step_started_at = utcnow() - timedelta(seconds=40)
    db_session.commit()
    job.state = "succeeded"
    db_session.commit()
    # a step cut short by a dead worker is forgotten when the job is claimed again
    timings.step_started(db_session, taken_over, "volume:R1:data:attach")
    taken_over.current_step = "volume:R1:data:attach"
    db_session.commit()
    taken_over.state = "running"
    db_session.commit()
    assert taken_over.step_started_at is None
    steps = sorted((s.job_id, s.kind, round(s.seconds)) for s in db_session.scalars(select(ProvisioningStep)))
    assert steps == [(job.id, "project", 2), (job.id, "server_wait", 40)]  # 1.5 s rounds to 2

    record_event(db_session, RequestInfo(correlation_id=f"job-{job.id}"), "provisioning.resume",
                 object_type="provisioning_job", object_id=job.id, outcome="failure")
    run = ReconcileRun(started_at=utcnow(), findings=2, skipped=[], error="")
    db_session.add(run)
    db_session.flush()
    db_session.add_all([ReconcileFinding(run_id=run.id, kind="orphan", department_id=seed.dept_a, problem="no_owner",
                                         suggestion="delete_orphan", name="gc-x"),
                        ReconcileFinding(run_id=run.id, kind="quota", department_id=seed.dept_a, problem="quota",
                                         suggestion="fix_quota")])
    db_session.commit()

    fams = _families(client.get("/metrics").get_data(as_text=True))
    hist = fams["govcloud_provisioning_step_duration_seconds"]
    buckets = {(s.labels["kind"], s.labels["le"]): s.value for s in hist.samples if s.name.endswith("_bucket")}
    assert buckets[("project", "1.0")] == 0 and buckets[("project", "2.0")] == 1
    assert buckets[("server_wait", "30.0")] == 0 and buckets[("server_wait", "60.0")] == 1
    assert buckets[("server_wait", "+Inf")] == 1
    sums = {s.labels["kind"]: s.value for s in hist.samples if s.name.endswith("_sum")}
    assert round(sums["project"]) == 2 and round(sums["server_wait"]) == 40
    retries = {s.labels["kind"]: s.value for s in fams["govcloud_provisioning_retries"].samples
               if s.name == "govcloud_provisioning_retries_total"}
    assert retries == {"requeue": 6, "resume": 1}  # attempts are failures, each retried: 3 + 2 + 1
    assert {s.labels["state"]: s.value for s in fams["govcloud_provisioning_rollbacks"].samples} == {"succeeded": 1}
    assert {s.labels["kind"]: s.value for s in fams["govcloud_reconciler_findings"].samples} == {
        "orphan": 1, "drift": 0, "quota": 1}
    assert abs(fams["govcloud_reconciler_last_run_timestamp_seconds"].samples[0].value
               - run.started_at.timestamp()) < 1
    for name in ("govcloud_provisioning_step_duration_seconds", "govcloud_provisioning_retries",
                 "govcloud_provisioning_rollbacks", "govcloud_reconciler_findings"):
        for sample in fams[name].samples:
            assert set(sample.labels) <= {"kind", "state", "le"}, sample

"""The scheduler: database job store, explicit job options, run history, its own process, the page."""
import os
import subprocess
import sys
import time

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from scheduler import runtime
from scheduler.process import JOBS, build_scheduler, stored_jobs
from portal.database import make_engine
from portal.models.operations import JobRun
from tests.integration.conftest import clouds_yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_jobs_are_stored_with_explicit_options(app):
    # an engine of its own: the job store disposes its engine when the scheduler shuts down
    engine = make_engine(app.config["DATABASE_URL"])
    scheduler = build_scheduler(app.config, engine, scheduler_class=BackgroundScheduler)
    scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {spec.job_id for spec in JOBS}
        for job in jobs.values():
            assert job.coalesce is True and job.max_instances == 1
            assert job.func_ref.startswith(("monitoring.jobs:", "scheduler.housekeeping:", "scheduler.billing_jobs:",
                                            "scheduler.trust_jobs:", "scheduler.reconcile_jobs:",
                                            "backup.jobs:"))
        # building again replaces the stored jobs instead of failing or doubling them
        again = build_scheduler(app.config, engine, scheduler_class=BackgroundScheduler)
        again.start(paused=True)
        assert len(again.get_jobs()) == len(JOBS)
        again.shutdown(wait=False)
    finally:
        scheduler.shutdown(wait=False)
    listed = stored_jobs(app.extensions["govcloud_db"][0])
    engine.dispose()
    assert [row[0] for row in listed] == [spec.job_id for spec in JOBS]
    assert all(row[3] is not None for row in listed)  # next run times from the store


def test_run_history_records_success_and_crash(app, db_session):
    from scheduler.history import JobResult, recorded
    runtime.configure(app.config, app.extensions["govcloud_db"][0])

    @recorded("test_ok")
    def fine():
        return JobResult(summary="all good")

    @recorded("test_crash")
    def crash():
        raise ZeroDivisionError("boom")

    fine()
    try:
        crash()
    except ZeroDivisionError:
        pass
    runs = {r.job_id: r for r in db_session.scalars(select(JobRun))}
    assert runs["test_ok"].outcome == "success" and runs["test_ok"].summary == "all good"
    assert runs["test_ok"].duration_seconds is not None
    assert runs["test_crash"].outcome == "errored" and "ZeroDivisionError" in runs["test_crash"].error


def test_scheduler_process_runs_jobs_and_the_page_lists_them(app, db_session, login_as, tmp_path):
    env = dict(os.environ, GOVCLOUD_DATABASE_URL=app.config["DATABASE_URL"], GOVCLOUD_SECRET_KEY="t",
               GOVCLOUD_INSTANCE_PATH=str(tmp_path), GOVCLOUD_CRYPTO_KEY_FILE=app.config["CRYPTO_KEY_FILE"],
               GOVCLOUD_PROBE_INTERVAL_SECONDS="1",
               GOVCLOUD_NOTIFY_INTERVAL_SECONDS="1", GOVCLOUD_COLLECT_INTERVAL_SECONDS="3600",
               GOVCLOUD_CLOUDS_YAML=str(clouds_yaml()), PYTHONPATH=REPO)
    log = open(tmp_path / "scheduler.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "scheduler"], cwd=REPO, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        done = set()
        while time.monotonic() < deadline and not {"run_probes", "deliver_notifications"} <= done:
            time.sleep(0.5)
            db_session.expire_all()
            done = set(db_session.scalars(select(JobRun.job_id).where(JobRun.outcome == "success")))
        assert {"run_probes", "deliver_notifications"} <= done, (tmp_path / "scheduler.log").read_text()
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()
    assert proc.returncode == 0, (tmp_path / "scheduler.log").read_text()
    page = login_as("vendor").get("/jobs").get_data(as_text=True)
    for spec in JOBS:
        assert spec.job_id in page
    assert "每 1 秒" in page  # the trigger the process stored, in words

"""The scheduler's backup jobs (listed in monitoring/scheduler.py), each recorded in the run history;
they work on the scheduler's one Cloud (its runtime)."""
from scheduler import runtime
from scheduler.history import JobResult, recorded

from . import engine, export, restore, verify


@recorded("run_due_backups")
def run_due_backups():
    """Queue the runs of due backup policies and execute queued runs (retries included)."""
    rt = runtime.current()
    with runtime.session_scope() as session:
        counts = engine.run_due(session, rt.cloud(), rt.settings)
    return JobResult.counted(queued=counts["queued"], succeeded=counts["succeeded"], retrying=counts["retrying"],
                             failed_runs=counts["failed"], failed=counts["failed"] > 0)


@recorded("verify_backups")
def verify_backups():
    """Check that the newest backup of every source is restorable; record "last verified"."""
    rt = runtime.current()
    with runtime.session_scope() as session:
        policies, artifacts, failed = verify.verify_all(session, rt.cloud(), rt.settings)
    return JobResult.counted(policies=policies, backups_checked=artifacts, failed_checks=failed, failed=failed > 0)


@recorded("track_restores")
def track_restores():
    """Move running restores and approved extractions on; expire extraction links that are over."""
    rt = runtime.current()
    with runtime.session_scope() as session:
        finished, failed = restore.track_restores(session, rt.cloud())
        changed = export.track_exports(session, rt.cloud(), rt.settings)
    return JobResult.counted(restores_finished=finished, restores_failed=failed, extractions_changed=changed,
                     failed=failed > 0)

"""Scheduler job of the reconciler (issue 5): the cloud compared with the database (provisioner/reconcile.py)."""
from . import runtime
from .history import JobResult, recorded


@recorded("reconcile")
def reconcile():
    """List govcloud's resources in every project; store orphans, drift and quota mismatches."""
    from provisioner.reconcile import reconcile as run_reconciler
    rt = runtime.current()
    with runtime.session_scope() as session:
        run = run_reconciler(session, rt.cloud(), rt.name_prefix)
        if run.error:
            return JobResult.counted(failed=True, note=f"cloud not listed: {run.error}")
        return JobResult.counted(findings=run.findings, skipped_requests=len(run.skipped),
                                 note=f"skipped {', '.join(run.skipped)}" if run.skipped else "")

"""The scheduler's jobs: module-level functions, each recorded in the run history.

A job returns a JobResult; returning failed=True means "ran, but a person must look" (failed),
an exception is a bug (errored, traceback kept) and is raised again for the scheduler's log.
"""
import functools
import logging
import traceback
from dataclasses import dataclass
from datetime import timedelta

from portal.database import utcnow
from portal.models.operations import JobOutcome
from portal.services import jobs as job_history
from portal.services import notifications, probes
from portal.services.incidents import escalate_overdue
from portal.services.maintenance import approved_windows

from . import runtime
from .errors import CloudUnavailable

log = logging.getLogger(__name__)


@dataclass
class JobResult:
    summary: str = ""
    failed: bool = False


def recorded(job_id):
    """Record each run of the decorated job: start, duration, outcome, error."""
    def decorator(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with runtime.session_scope() as session:
                run = job_history.start_run(session, job_id)
                try:
                    result = func(*args, **kwargs) or JobResult()
                except Exception:
                    session.rollback()
                    job_history.finish_run(session, run, JobOutcome.ERRORED, error=traceback.format_exc())
                    log.exception("job %s crashed", job_id, extra={"job": job_id})
                    raise
                outcome = JobOutcome.FAILED if result.failed else JobOutcome.SUCCESS
                job_history.finish_run(session, run, outcome, summary=result.summary)
                log.info("job %s %s: %s", job_id, outcome, result.summary, extra={"job": job_id})
                return result
        wrapper.job_id = job_id
        return wrapper
    return decorator


def probe_cycle(session, settings, now=None, server_statuses=None):
    """Check every enabled probe target once and record the results; return (checked, failing)."""
    from .checks import run_check
    now = now or utcnow()
    targets = probes.enabled_targets(session)
    if server_statuses is None and any(t.kind == "server_status" for t in targets):
        from .collector import latest_server_statuses
        server_statuses = latest_server_statuses(session)
    windows = approved_windows(session, now - timedelta(minutes=1), now + timedelta(minutes=1))
    timeout = float(settings.get("PROBE_TIMEOUT_SECONDS") or 5)
    failing = 0
    for target in targets:
        outcome = run_check(target, server_statuses=server_statuses, timeout=timeout)
        failing += not outcome.ok
        probes.record_check(session, settings, target, outcome, now, windows)
        session.commit()  # one target's result and incident at a time
    escalate_overdue(session, settings, now, probes.SYSTEM_CTX)
    session.commit()
    return len(targets), failing


@recorded("run_probes")
def run_probes():
    """Check every probe target (365x24 availability)."""
    rt = runtime.current()
    with runtime.session_scope() as session:
        checked, failing = probe_cycle(session, rt.settings)
    return JobResult(summary=f"{checked} checked, {failing} failing")


def deliver_pending(session, settings):
    """Send queued notifications; return (sent, failed)."""
    from .notify import DeliveryError, send_email, send_webhook
    max_attempts = int(settings.get("NOTIFY_MAX_ATTEMPTS") or 5)
    sent = failed = 0
    for item in notifications.pending(session):
        try:
            if item.channel == "email":
                send_email(settings, item.recipient, item.subject, item.body)
            else:
                send_webhook(settings, item.recipient, {
                    "topic": item.topic, "subject": item.subject, "text": item.body,
                    "department": item.department_id})
        except DeliveryError as exc:
            notifications.mark_failed(item, exc, max_attempts)
            failed += 1
        else:
            notifications.mark_sent(item)
            sent += 1
        session.commit()
    return sent, failed


@recorded("deliver_notifications")
def deliver_notifications():
    """Send queued e-mails and webhook messages to departments' contacts."""
    rt = runtime.current()
    with runtime.session_scope() as session:
        sent, failed = deliver_pending(session, rt.settings)
    return JobResult(summary=f"{sent} sent, {failed} failed", failed=failed > 0)


@recorded("collect_inventory")
def collect_inventory():
    """List the cloud's resources across all projects and keep the inventory snapshot."""
    from .collector import collect_and_store
    rt = runtime.current()
    with runtime.session_scope() as session:
        try:
            snapshot = collect_and_store(session, rt.settings, rt.cloud())
        except CloudUnavailable as exc:
            return JobResult(summary=str(exc)[:255], failed=True)
    servers = sum(sum(d.get("servers", {}).values()) for d in snapshot.departments.values())
    return JobResult(summary=f"{servers} servers, {snapshot.api_calls} API calls")


@recorded("sync_probe_targets")
def sync_probe_targets():
    """Attach probe targets to delivered servers (issue 4) and to each OpenStack API endpoint."""
    from provisioner import errors as cloud_errors
    from provisioner.cloud import public_endpoints
    rt = runtime.current()
    with runtime.session_scope() as session:
        added, disabled = probes.sync_delivered_targets(session)
        try:
            endpoints = public_endpoints(rt.cloud())
        except cloud_errors.ProvisioningError as exc:
            return JobResult(summary=f"{added} added, {disabled} switched off; catalog: {exc}"[:255], failed=True)
        more, fewer = probes.sync_platform_targets(session, endpoints)
    return JobResult(summary=f"{added + more} added, {disabled + fewer} switched off")


@recorded("prune_history")
def prune_history():
    """Delete probe results and job runs older than the retention period."""
    from sqlalchemy import delete

    from portal.models.operations import JobRun
    with runtime.session_scope() as session:
        cutoff = utcnow() - probes.RETENTION
        removed = probes.prune_results(session, cutoff)
        removed += session.execute(delete(JobRun).where(JobRun.started_at < cutoff)).rowcount
        session.commit()
    return JobResult(summary=f"{removed} rows removed")

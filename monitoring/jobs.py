"""The monitoring jobs of the scheduler: availability probes (365x24), the cloud inventory
collector and the probe targets it keeps in step; each recorded in the run history."""
from datetime import timedelta

from portal.database import utcnow
from portal.services import probes
from portal.services.incidents import escalate_overdue
from portal.services.maintenance import approved_windows
from scheduler import runtime
from scheduler.history import JobResult, recorded

from .errors import CloudUnavailable


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
    return JobResult.counted(checked=checked, failing=failing)


@recorded("collect_inventory")
def collect_inventory():
    """List the cloud's resources across all projects and keep the inventory snapshot."""
    from .collector import collect_and_store
    rt = runtime.current()
    with runtime.session_scope() as session:
        try:
            snapshot = collect_and_store(session, rt.settings, rt.cloud())
        except CloudUnavailable as exc:
            return JobResult.counted(failed=True, note=str(exc))
    servers = sum(sum(d.get("servers", {}).values()) for d in snapshot.departments.values())
    return JobResult.counted(servers=servers, API_calls=snapshot.api_calls)


@recorded("sync_probe_targets")
def sync_probe_targets():
    """Attach probe targets to delivered servers (issue 4) and to each OpenStack API endpoint."""
    from provisioner import errors as cloud_errors
    rt = runtime.current()
    with runtime.session_scope() as session:
        added, disabled = probes.sync_delivered_targets(session)
        try:
            endpoints = rt.cloud().public_endpoints()
        except cloud_errors.ProvisioningError as exc:
            return JobResult.counted(added=added, switched_off=disabled, failed=True, note=f"catalog: {exc}")
        more, fewer = probes.sync_platform_targets(session, endpoints)
    return JobResult.counted(added=added + more, switched_off=disabled + fewer)

"""The monitoring jobs of the scheduler: availability probes (365x24), the cloud inventory
collector and the probe targets it keeps in step; each recorded in the run history."""
from datetime import timedelta

from portal.database import utcnow
from portal.services import probes
from portal.services.incidents import escalate_overdue
from portal.services.maintenance import approved_windows
from scheduler import runtime
from scheduler.history import JobResult, recorded

from .errors import AlertmanagerUnavailable, CloudUnavailable


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


@recorded("sync_alert_silences")
def sync_alert_silences():
    """Silence in Alertmanager the alerts of approved maintenance windows (API v2)."""
    from .silences import Alertmanager, sync_silences
    rt = runtime.current()
    url = rt.settings.get("ALERTMANAGER_URL")
    if not url:
        return JobResult.counted(alertmanager_not_set=1, note="ALERTMANAGER_URL is not set: no silences")
    alertmanager = Alertmanager(url, float(rt.settings.get("ALERTMANAGER_TIMEOUT_SECONDS") or 10))
    with runtime.session_scope() as session:
        try:
            created, expired = sync_silences(session, alertmanager, utcnow())
        except AlertmanagerUnavailable as exc:
            return JobResult.counted(failed=True, note=str(exc))
    return JobResult.counted(silences_created=created, expired=expired)


@recorded("sync_inventory")
def sync_inventory():
    """Bring the live inventory up to date with what changed in the cloud (a full resync once a day)."""
    from provisioner import errors as cloud_errors
    from .inventory_sync import sync
    rt = runtime.current()
    with runtime.session_scope() as session:
        try:
            result = sync(session, rt.settings, rt.cloud())
        except cloud_errors.ProvisioningError as exc:
            return JobResult.counted(failed=True, note=str(exc))
    return JobResult.counted(changed=result.changed, gone=result.gone, incidents=result.incidents,
                             API_calls=result.api_calls, note=result.mode)


@recorded("resync_inventory")
def resync_inventory():
    """Read the whole cloud into the live inventory (nightly; deletions Cinder does not report)."""
    from provisioner import errors as cloud_errors
    from .inventory_sync import sync
    rt = runtime.current()
    with runtime.session_scope() as session:
        try:
            result = sync(session, rt.settings, rt.cloud(), full=True)
        except cloud_errors.ProvisioningError as exc:
            return JobResult.counted(failed=True, note=str(exc))
    return JobResult.counted(objects=result.changed, gone=result.gone, API_calls=result.api_calls)

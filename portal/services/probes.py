"""Probe targets and what their results do: store compactly, open and close incidents."""
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select

from ..errors import Forbidden, ValidationFailed
from ..models.accounts import Department, Role
from ..models.operations import ProbeKind, ProbeResult, ProbeState, ProbeTarget
from ..pagination import paginate
from ..scoping import get_scoped, scoped
from ..text import _l
from .audit import RequestInfo, record_event
from .incidents import active_for_system, note_event, open_incident, open_incident_for, resolve_incident

MANAGERS = {Role.VENDOR, Role.ADMIN}
# settings each kind needs
REQUIRED_SETTINGS = {
    ProbeKind.OPENSTACK_API: ("url",),
    ProbeKind.SERVER_STATUS: ("server_id",),
    ProbeKind.TCP: ("host", "port"),
    ProbeKind.SSH: ("host", "port", "username", "key_path", "host_key", "command"),
}
SYSTEM_CTX = RequestInfo(correlation_id="scheduler:run_probes")


@dataclass
class CheckOutcome:
    """What one check found; detail says why it failed."""

    ok: bool
    latency_ms: int | None = None
    detail: str = ""


def list_targets(session, user, *, page=1, per_page=50):
    stmt = scoped(select(ProbeTarget), user).order_by(ProbeTarget.department_id, ProbeTarget.system_name,
                                                      ProbeTarget.name)
    return paginate(session, stmt, page, per_page)


def get_target(session, user, target_id):
    return get_scoped(session, ProbeTarget, target_id, user, kind=_l("Probe target"))


def create_target(session, ctx, data):
    """Add a probe target (vendor or admin); settings are checked per kind."""
    if ctx.actor is not None and ctx.actor.role not in MANAGERS:
        raise Forbidden()
    kind = data.get("kind")
    if kind not in set(ProbeKind):
        raise ValidationFailed(_l("Choose a probe kind."), field="kind")
    settings = {k: v for k, v in (data.get("settings") or {}).items() if v not in (None, "")}
    missing = [k for k in REQUIRED_SETTINGS[kind] if k not in settings]
    if missing:
        raise ValidationFailed(_l("Missing settings: %(names)s", names=", ".join(missing)), field="settings")
    if "port" in settings:
        try:
            settings["port"] = int(settings["port"])
        except (TypeError, ValueError):
            raise ValidationFailed(_l("The port must be a number."), field="settings") from None
        if not 0 < settings["port"] < 65536:
            raise ValidationFailed(_l("The port must be a number."), field="settings")
    department_id = data.get("department_id") or None
    if department_id is not None and session.get(Department, department_id) is None:
        raise ValidationFailed(_l("Choose a department."), field="department_id")
    if department_id is None and kind != ProbeKind.OPENSTACK_API:
        raise ValidationFailed(_l("Choose a department."), field="department_id")
    target = ProbeTarget(department_id=department_id, system_name=(data.get("system_name") or "").strip(),
                         name=(data.get("name") or "").strip(), kind=kind, settings=settings,
                         server_ref=data.get("server_ref") or None,
                         failure_threshold=int(data.get("failure_threshold") or 3))
    if not target.system_name or not target.name:
        raise ValidationFailed(_l("This field is required."), field="name")
    session.add(target)
    session.flush()
    record_event(session, ctx, "probe_target.create", object_type="probe_target", object_id=target.id,
                 department_id=department_id, after=target.snapshot())
    session.commit()
    return target


def set_target_enabled(session, ctx, target_id, enabled):
    if ctx.actor is None or ctx.actor.role not in MANAGERS:
        raise Forbidden()
    target = get_target(session, ctx.actor, target_id)
    before = target.snapshot()
    target.enabled = bool(enabled)
    record_event(session, ctx, "probe_target.update", object_type="probe_target", object_id=target.id,
                 department_id=target.department_id, before=before, after=target.snapshot())
    session.commit()
    return target


def enabled_targets(session):
    return list(session.scalars(select(ProbeTarget).where(ProbeTarget.enabled.is_(True))
                                .order_by(ProbeTarget.id)))


def in_maintenance(target, windows, at):
    """Return True when an approved window covers the target's system at time at."""
    if target.department_id is None:
        return False
    return any(w.covers(target.department_id, target.system_name, at) for w in windows)


def record_check(session, settings, target, outcome, at, windows, ctx=SYSTEM_CTX):
    """Store one result and move the target's state; open or resolve its incident (caller commits).

    A failure inside an approved maintenance window is recorded but does not count towards the
    failure threshold (第十一条: planned maintenance is not an outage).
    """
    maintenance = in_maintenance(target, windows, at)
    session.add(ProbeResult(target_id=target.id, checked_at=at, ok=outcome.ok, latency_ms=outcome.latency_ms,
                            in_maintenance=maintenance, detail="" if outcome.ok else outcome.detail[:255]))
    target.last_checked_at = at
    target.last_ok = outcome.ok
    target.last_latency_ms = outcome.latency_ms
    target.last_detail = "" if outcome.ok else outcome.detail[:255]
    if outcome.ok:
        incident = open_incident_for(session, target)
        if incident is not None:
            resolve_incident(session, ctx, settings, incident, at=at, note=_l("The probe passes again.").msgid)
        target.state = ProbeState.UP
        target.consecutive_failures = 0
        target.first_failure_at = None
        return None
    if maintenance:
        return None
    target.consecutive_failures += 1
    if target.first_failure_at is None:
        target.first_failure_at = at
    if target.consecutive_failures >= target.failure_threshold and target.state != ProbeState.DOWN:
        target.state = ProbeState.DOWN
        if open_incident_for(session, target) is None and not _join_alert_incident(session, target, at):
            return open_incident(session, ctx, settings, target, started_at=target.first_failure_at,
                                 detected_at=at, detail=outcome.detail[:255])
    return None


def _join_alert_incident(session, target, at):
    """An alert opened an incident of this system already: the probe joins it (one incident, one
    notification); its recovery resolves it. Return True when it did."""
    incident = active_for_system(session, target.department_id, target.system_name)
    if incident is None or incident.target_id is not None or incident.alert_fingerprint is None:
        return False
    incident.target_id = target.id
    note_event(incident, "detected", at, f"{target.name} ({target.kind})")
    return True


def recent_results(session, target, limit=30):
    return list(session.scalars(select(ProbeResult).where(ProbeResult.target_id == target.id)
                                .order_by(ProbeResult.checked_at.desc()).limit(limit)))


def prune_results(session, before):
    """Delete probe results older than before (incidents keep the outage history)."""
    result = session.execute(delete(ProbeResult).where(ProbeResult.checked_at < before))
    return result.rowcount


RETENTION = timedelta(days=40)  # a month and the days to write its report


def _tcp_ports(spec):
    """Return the single TCP ports a system's security group rules open (its declared services)."""
    ports = []
    for rule in (spec or {}).get("rules") or []:
        port = str(rule.get("port") or "").strip()
        if (rule.get("protocol") or "tcp") == "tcp" and port.isdigit() and 0 < int(port) < 65536:
            ports.append(int(port))
    return sorted(set(ports))


def sync_delivered_targets(session, ctx=SYSTEM_CTX):
    """Attach probe targets to the servers issue 4 delivered: a server-status probe per server and a
    TCP probe per declared port on its floating IP; targets of deleted servers are switched off.

    Returns (added, disabled). Runs without the cloud: it reads the portal's cloud_resource rows.
    """
    from ..models.requests import CloudResource, ResourceRequest

    existing = {t.server_ref: t for t in session.scalars(select(ProbeTarget).where(ProbeTarget.server_ref.is_not(None)))}
    resources = list(session.scalars(select(CloudResource).where(CloudResource.kind.in_(("server", "floating_ip")))))
    systems = {}
    specs = {}
    for request in session.scalars(select(ResourceRequest).order_by(ResourceRequest.id)):
        root = request.system_id or request.id
        systems.setdefault(root, request.system_name)
        if request.approved_spec:
            specs[root] = request.approved_spec  # the newest approved spec of the system wins
    address_of = {r.attributes.get("server"): r.attributes.get("address") for r in resources
                  if r.kind == "floating_ip" and not r.deleted and r.attributes.get("address")}
    wanted = {}
    for r in resources:
        if r.kind != "server" or r.deleted or not r.openstack_id or r.system_id is None:
            continue
        system_name = systems.get(r.system_id, r.name)
        wanted[r.key] = dict(department_id=r.department_id, system_name=system_name, name=r.name,
                             kind=ProbeKind.SERVER_STATUS, settings={"server_id": r.openstack_id})
        address = address_of.get(r.openstack_id)
        if address:
            for port in _tcp_ports(specs.get(r.system_id)):
                wanted[f"{r.key}:tcp/{port}"] = dict(
                    department_id=r.department_id, system_name=system_name, name=f"{r.name}:{port}",
                    kind=ProbeKind.TCP, settings={"host": address, "port": port})
    added = disabled = 0
    for ref, fields in wanted.items():
        target = existing.get(ref)
        if target is None:
            target = ProbeTarget(server_ref=ref, **fields)
            session.add(target)
            session.flush()
            record_event(session, ctx, "probe_target.create", object_type="probe_target", object_id=target.id,
                         department_id=target.department_id, after=target.snapshot())
            added += 1
        elif target.settings != fields["settings"]:
            target.settings = fields["settings"]
    for ref, target in existing.items():
        if ref not in wanted and target.enabled:
            before = target.snapshot()
            target.enabled = False
            record_event(session, ctx, "probe_target.update", object_type="probe_target", object_id=target.id,
                         department_id=target.department_id, before=before, after=target.snapshot(),
                         detail="the delivered server is gone")
            disabled += 1
    session.commit()
    return added, disabled


PLATFORM_SYSTEM = "OpenStack"


def sync_platform_targets(session, endpoints, ctx=SYSTEM_CTX):
    """Keep one OpenStack-API probe per public endpoint root ({url: [service types]}); targets of
    endpoints gone from the catalog are switched off. Returns (added, disabled)."""
    existing = {t.server_ref: t for t in session.scalars(
        select(ProbeTarget).where(ProbeTarget.kind == ProbeKind.OPENSTACK_API, ProbeTarget.department_id.is_(None),
                                  ProbeTarget.server_ref.like("endpoint:%")))}
    added = disabled = 0
    wanted = {f"endpoint:{url}": (url, types) for url, types in endpoints.items()}
    for ref, (url, types) in wanted.items():
        target = existing.get(ref)
        if target is None:
            target = ProbeTarget(department_id=None, system_name=PLATFORM_SYSTEM, name="/".join(types),
                                 kind=ProbeKind.OPENSTACK_API, settings={"url": url}, server_ref=ref)
            session.add(target)
            session.flush()
            record_event(session, ctx, "probe_target.create", object_type="probe_target", object_id=target.id,
                         after=target.snapshot())
            added += 1
        elif not target.enabled:
            target.enabled = True
    for ref, target in existing.items():
        if ref not in wanted and target.enabled:
            target.enabled = False
            disabled += 1
    session.commit()
    return added, disabled

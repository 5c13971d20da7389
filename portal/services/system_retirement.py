"""What a decommission turns off besides the cloud resources (issue 17): the system's own backup
policies, its probes and its metering. Called by the worker in the decommission's job, in the same
transaction as the job's last steps; each change is audited.

Metering needs no row of its own: `retired_systems` names the systems whose decommission was carried
out, and the metering collector attributes nothing to them any more (services/metering.py).
"""
from sqlalchemy import or_, select

from ..models.backups import BackupPolicy
from ..models.operations import ProbeTarget
from ..models.requests import CloudResource, ResourceRequest
from ..workflow import EXECUTED, RequestKind
from .audit import record_event

RETIRED_DETAIL = "the system was decommissioned"


def retired_systems(session):
    """Return the ids of the systems (their first requests) whose decommission was carried out."""
    return set(session.scalars(select(ResourceRequest.system_id).where(
        ResourceRequest.kind == RequestKind.DECOMMISSION, ResourceRequest.state.in_(EXECUTED),
        ResourceRequest.system_id.is_not(None))))


def retire_system(session, ctx, request):
    """Switch off the backup policies and the probes of the system request decommissions (no commit).

    Returns (policies, probes) switched off. A department-wide policy (no system) stays: it covers the
    department's other systems.
    """
    system_id = request.system_root_id
    policies = list(session.scalars(select(BackupPolicy).where(BackupPolicy.system_id == system_id,
                                                               BackupPolicy.enabled.is_(True))))
    for policy in policies:
        before = {"enabled": True, "next_run_at": policy.next_run_at.isoformat() if policy.next_run_at else None}
        policy.enabled = False
        policy.next_run_at = None
        record_event(session, ctx, "backup_policy.update", object_type="backup_policy", object_id=policy.id,
                     department_id=policy.department_id, before=before,
                     after={"enabled": False, "next_run_at": None}, detail=RETIRED_DETAIL)
    server_refs = set(session.scalars(select(CloudResource.key).where(
        CloudResource.system_id == system_id, CloudResource.kind == "server")))
    names = {r.system_name for r in session.scalars(select(ResourceRequest).where(
        or_(ResourceRequest.id == system_id, ResourceRequest.system_id == system_id)))}
    conditions = [ProbeTarget.system_name.in_(names)]
    if server_refs:
        conditions.append(ProbeTarget.server_ref.in_(server_refs))
        conditions += [ProbeTarget.server_ref.like(f"{ref}:%") for ref in server_refs]
    probes = list(session.scalars(select(ProbeTarget).where(
        ProbeTarget.department_id == request.department_id, ProbeTarget.enabled.is_(True), or_(*conditions))))
    for target in probes:
        before = target.snapshot()
        target.enabled = False
        record_event(session, ctx, "probe_target.update", object_type="probe_target", object_id=target.id,
                     department_id=target.department_id, before=before, after=target.snapshot(),
                     detail=RETIRED_DETAIL)
    return len(policies), len(probes)

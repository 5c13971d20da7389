"""Translated names of the operations states and kinds (GLOSSARY.md terms)."""
from .ops_models import (IncidentState, JobOutcome, MaintenanceKind, MaintenanceState, ProbeKind,
                         ProbeState)
from .text import _l

MAINTENANCE_KIND_LABELS = {MaintenanceKind.PLANNED: _l("Planned maintenance"),
                           MaintenanceKind.EMERGENCY: _l("Emergency maintenance")}
MAINTENANCE_STATE_LABELS = {MaintenanceState.SUBMITTED: _l("Submitted"),
                            MaintenanceState.APPROVED: _l("Approved"),
                            MaintenanceState.REJECTED: _l("Rejected"),
                            MaintenanceState.CANCELLED: _l("Cancelled")}
INCIDENT_STATE_LABELS = {IncidentState.OPEN: _l("Open"), IncidentState.ACKNOWLEDGED: _l("Acknowledged"),
                         IncidentState.RESOLVED: _l("Resolved")}
INCIDENT_EVENT_LABELS = {"detected": _l("Detected"), "acknowledged": _l("Acknowledged"),
                         "notified": _l("Notified"), "resolved": _l("Resolved"),
                         "root_cause": _l("Root cause"), "escalated": _l("Escalated")}
PROBE_KIND_LABELS = {ProbeKind.OPENSTACK_API: _l("OpenStack API endpoint"),
                     ProbeKind.SERVER_STATUS: _l("Server status"),
                     ProbeKind.TCP: _l("TCP port"), ProbeKind.SSH: _l("SSH command")}
PROBE_STATE_LABELS = {ProbeState.UNKNOWN: _l("Unknown"), ProbeState.UP: _l("Up"), ProbeState.DOWN: _l("Down")}
JOB_OUTCOME_LABELS = {JobOutcome.RUNNING: _l("Running"), JobOutcome.SUCCESS: _l("Success"),
                      JobOutcome.FAILED: _l("Failed"), JobOutcome.ERRORED: _l("Errored")}


def template_labels():
    return {"MAINTENANCE_KIND_LABELS": MAINTENANCE_KIND_LABELS,
            "MAINTENANCE_STATE_LABELS": MAINTENANCE_STATE_LABELS,
            "INCIDENT_STATE_LABELS": INCIDENT_STATE_LABELS, "INCIDENT_EVENT_LABELS": INCIDENT_EVENT_LABELS,
            "PROBE_KIND_LABELS": PROBE_KIND_LABELS, "PROBE_STATE_LABELS": PROBE_STATE_LABELS,
            "JOB_OUTCOME_LABELS": JOB_OUTCOME_LABELS}

"""/metrics: Prometheus families built from the portal's database and the inventory snapshot.

A scrape never calls the cloud: the collector job keeps the snapshot, this module only reads it.
Labels come from small fixed sets (department code, status, service, job, system), never server
or request ids. Under gunicorn, PROMETHEUS_MULTIPROC_DIR switches the in-process counters to the
client's multiprocess mode; the database families are the same in every worker.
"""
import gc
import os
import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.database import utcnow
from portal.models.accounts import Department
from portal.models.operations import (Incident, InventorySnapshot, MaintenanceState, MaintenanceWindow, Notification,
                                      ProbeTarget)
from portal.services import jobs as job_history
from portal.services import sla
from portal.services.incidents import ACTIVE

from .exposition import ExpositionCache

PLATFORM = "_platform"  # the department label of targets without a department (OpenStack APIs)

# in-process metrics of the web workers (multiprocess-safe)
SCRAPES = Counter("govcloud_metrics_scrapes_total", "Scrapes of /metrics served by the portal.")
SCRAPE_SECONDS = Histogram("govcloud_metrics_scrape_duration_seconds", "Time to answer a scrape of /metrics "
                           "(a rendering when none is cached yet).",
                           buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0))


class Family:
    """A metric family as plain tuples: a scrape adds thousands of samples, and the client's
    family objects (a dict and a named tuple per sample) cost more than the database queries."""

    __slots__ = ("name", "documentation", "type", "labels", "samples")

    def __init__(self, name, documentation, kind="gauge", labels=()):
        self.name = name
        self.documentation = documentation
        self.type = kind
        self.labels = tuple(labels)
        self.samples = []  # (label values, value)

    def add_metric(self, values, value):
        self.samples.append((tuple(values), value))

    def add_to(self, values, value):
        """Add value to the sample with these label values (several rows fold into one)."""
        values = tuple(values)
        for i, (existing, total) in enumerate(self.samples):
            if existing == values:
                self.samples[i] = (values, total + value)
                return
        self.samples.append((values, value))


def _gauge(name, doc, labels=()):
    return Family(name, doc, "gauge", labels)


def CounterMetricFamily(name, doc, labels=()):  # noqa: N802 (same call shape as the client's)
    return Family(name, doc, "counter", labels)


class DatabaseCollector:
    """Build the govcloud families from the database at each scrape."""

    def __init__(self, engine, now=None):
        self.engine = engine
        self.now = now or utcnow

    def collect(self):
        with Session(self.engine) as session:
            yield from self._collect(session)

    def _collect(self, session):
        now = self.now()
        codes = dict(session.execute(select(Department.id, Department.code)).all())
        yield from self._inventory(session)
        yield from self._probes(session, codes)
        yield from self._incidents(session, codes)
        yield from self._sla(session, now)
        yield from self._jobs(session)
        yield from self._requests(session)
        yield from backup_families(session, now)
        yield from self._provisioning_ops(session)
        active = _gauge("govcloud_maintenance_windows_active", "Approved maintenance windows in progress.")
        active.add_metric([], session.scalar(select(func.count()).select_from(MaintenanceWindow).where(
            MaintenanceWindow.state == MaintenanceState.APPROVED, MaintenanceWindow.starts_at <= now,
            MaintenanceWindow.ends_at > now)) or 0)
        yield active
        pending = _gauge("govcloud_notifications", "Outgoing notifications (e-mail, webhook) by state.", ["state"])
        for state, n in session.execute(select(Notification.state, func.count())
                                        .where(Notification.channel != "inbox").group_by(Notification.state)):
            pending.add_metric([state], n)
        yield pending

    def _inventory(self, session):
        snap = session.execute(select(InventorySnapshot.taken_at, InventorySnapshot.api_calls,
                                      InventorySnapshot.duration_seconds, InventorySnapshot.departments,
                                      InventorySnapshot.services, InventorySnapshot.capacity)
                               .order_by(InventorySnapshot.taken_at.desc()).limit(1)).first()
        servers = _gauge("govcloud_servers", "Servers (云主机) per department and status.", ["department", "status"])
        vcpus = _gauge("govcloud_server_vcpus", "vCPUs of servers per department.", ["department"])
        ram = _gauge("govcloud_server_memory_bytes", "RAM of servers per department.", ["department"])
        volumes = _gauge("govcloud_volumes", "Volumes (云硬盘) per department and status.", ["department", "status"])
        volume_bytes = _gauge("govcloud_volume_bytes", "Volume size per department.", ["department"])
        fips = _gauge("govcloud_floating_ips", "Floating IPs (弹性公网IP) per department.", ["department"])
        backup_ts = _gauge("govcloud_backup_last_success_timestamp_seconds",
                           "Newest available volume backup per department (Unix time).", ["department"])
        up = _gauge("govcloud_cloud_service_up", "Cloud service answers (1) or not (0).", ["service"])
        capacity = _gauge("govcloud_cloud_capacity", "Cloud capacity by resource (vcpus, memory_bytes, "
                          "disk_bytes) and state (used, total).", ["resource", "state"])
        snap_ts = _gauge("govcloud_inventory_snapshot_timestamp_seconds", "When the inventory was collected.")
        snap_calls = _gauge("govcloud_inventory_snapshot_api_calls", "API calls of the last collection cycle.")
        snap_secs = _gauge("govcloud_inventory_snapshot_duration_seconds", "Duration of the last collection cycle.")
        if snap is not None:
            for code, d in sorted(snap.departments.items()):
                for status, n in sorted(d.get("servers", {}).items()):
                    servers.add_metric([code, status], n)
                for status, n in sorted(d.get("volumes", {}).items()):
                    volumes.add_metric([code, status], n)
                vcpus.add_metric([code], d.get("vcpus", 0))
                ram.add_metric([code], d.get("ram_bytes", 0))
                volume_bytes.add_metric([code], d.get("volume_bytes", 0))
                fips.add_metric([code], d.get("floating_ips", 0))
                if d.get("last_backup_at"):
                    backup_ts.add_metric([code], d["last_backup_at"])
            for service, value in sorted(snap.services.items()):
                up.add_metric([service], value)
            for resource, states in sorted(snap.capacity.items()):
                for state, value in sorted(states.items()):
                    capacity.add_metric([resource, state], value)
            snap_ts.add_metric([], snap.taken_at.timestamp())
            snap_calls.add_metric([], snap.api_calls)
            snap_secs.add_metric([], snap.duration_seconds)
        yield from (servers, vcpus, ram, volumes, volume_bytes, fips, backup_ts, up, capacity, snap_ts,
                    snap_calls, snap_secs)

    def _probes(self, session, codes):
        success = _gauge("govcloud_probe_success", "1 when every probe of the system and kind passed its "
                         "last check, else 0.", ["department", "system", "kind"])
        duration = _gauge("govcloud_probe_duration_seconds", "Slowest last check of the system and kind.",
                          ["department", "system", "kind"])
        grouped = {}
        for t in session.execute(select(ProbeTarget.department_id, ProbeTarget.system_name, ProbeTarget.kind,
                                        ProbeTarget.last_ok, ProbeTarget.last_latency_ms)
                                 .where(ProbeTarget.enabled.is_(True), ProbeTarget.last_ok.is_not(None))):
            key = (codes.get(t.department_id, PLATFORM), t.system_name, t.kind)
            ok, latency = grouped.get(key, (True, 0))
            grouped[key] = (ok and t.last_ok, max(latency, t.last_latency_ms or 0))
        for key, (ok, latency) in sorted(grouped.items()):
            success.add_metric(list(key), 1 if ok else 0)
            duration.add_metric(list(key), latency / 1000)
        yield success
        yield duration

    def _incidents(self, session, codes):
        family = _gauge("govcloud_incidents_open", "Incidents not yet resolved.", ["department"])
        for dept_id, n in session.execute(select(Incident.department_id, func.count())
                                          .where(Incident.state.in_(ACTIVE)).group_by(Incident.department_id)):
            family.add_metric([codes.get(dept_id, PLATFORM)], n)
        yield family

    def _sla(self, session, now):
        family = _gauge("govcloud_sla_availability_ratio", "Availability of the system this month so far "
                        "(approved maintenance excluded).", ["department", "system"])
        lost = _gauge("govcloud_sla_downtime_seconds", "Outage this month so far, outside approved maintenance.",
                      ["department", "system"])
        year, month = sla.current_month(now)
        codes = dict(session.execute(select(Department.id, Department.code)).all())
        for fig in sla.monthly_report(session, None, year, month, now, every_department=True):
            code = codes.get(fig.department_id, PLATFORM)
            family.add_metric([code, fig.system_name], fig.ratio)
            lost.add_metric([code, fig.system_name], fig.minutes_lost * 60)
        yield family
        yield lost

    def _jobs(self, session):
        runs = CounterMetricFamily("govcloud_job_runs", "Finished runs of scheduler jobs by outcome.",
                                   labels=["scheduler_job", "outcome"])
        for (job, outcome), n in sorted(job_history.run_counts(session).items()):
            runs.add_metric([job, outcome], n)
        yield runs
        last = _gauge("govcloud_job_last_success_timestamp_seconds", "Start of the last successful run.", ["scheduler_job"])
        for job, at in sorted(job_history.last_successes(session).items()):
            if at.tzinfo is None:  # SQLite aggregate bypasses the column type
                from datetime import timezone
                at = at.replace(tzinfo=timezone.utc)
            last.add_metric([job], at.timestamp())
        yield last
        yield from self._leader(session)

    def _leader(self, session):
        """The schedulers' leadership (issue 21): who leads, its token, the last takeover."""
        status = job_history.leader_status(session)
        leader = _gauge("govcloud_scheduler_leader", "1 for the scheduler process holding an unexpired lease.",
                        ["holder"])
        token = _gauge("govcloud_scheduler_leader_token", "Fencing token of the current lease (raised by each "
                       "acquisition).")
        takeovers = CounterMetricFamily("govcloud_scheduler_takeovers", "Leadership taken over from another "
                                        "scheduler process.")
        last = _gauge("govcloud_scheduler_last_takeover_timestamp_seconds", "When leadership last moved.")
        gap = _gauge("govcloud_scheduler_last_takeover_gap_seconds", "Seconds between the old leader's last "
                     "renewal and the takeover.")
        if status is not None:
            leader.add_metric([status.holder], 1 if status.alive else 0)
            token.add_metric([], status.token)
            takeovers.add_metric([], status.takeovers)
            if status.takeover_at is not None:
                last.add_metric([], status.takeover_at.timestamp())
                gap.add_metric([], status.takeover_gap_seconds or 0)
        yield from (leader, token, takeovers, last, gap)


    def _requests(self, session):
        """Resource requests (issue 4): counts by kind and state, durations, provisioning failures."""
        from portal.models.requests import ProvisioningJob, ResourceRequest
        requests = _gauge("govcloud_requests", "Resource requests by kind and state.", ["kind", "state"])
        for kind, state, n in session.execute(select(ResourceRequest.kind, ResourceRequest.state, func.count())
                                              .group_by(ResourceRequest.kind, ResourceRequest.state)):
            requests.add_metric([kind, state], n)
        yield requests
        jobs = _gauge("govcloud_provisioning_jobs", "Provisioning jobs by state.", ["state"])
        failures = {}
        for state, message, n in session.execute(
                select(ProvisioningJob.state, ProvisioningJob.error_message, func.count())
                .group_by(ProvisioningJob.state, ProvisioningJob.error_message)):
            if state in ("failed", "errored"):
                failures_key = "errored" if state == "errored" else FAILURE_REASONS.get(message, "other")
                failures[failures_key] = failures.get(failures_key, 0) + n
            jobs.add_to([state], n)
        yield jobs
        failed = CounterMetricFamily("govcloud_provisioning_failures", "Provisioning jobs that failed, by reason.",
                                     labels=["reason"])
        for reason, n in sorted(failures.items()):
            failed.add_metric([reason], n)
        yield failed
        rows = session.execute(select(ResourceRequest.submitted_at, ResourceRequest.approved_at,
                                      ResourceRequest.provisioned_at)
                               .where(ResourceRequest.approved_at.is_not(None))).all()
        yield _histogram("govcloud_request_review_duration_seconds", "From submission to approval.",
                         [(a - s).total_seconds() for s, a, _p in rows if s is not None], REVIEW_BUCKETS)
        yield _histogram("govcloud_request_provisioning_duration_seconds", "From approval to delivery.",
                         [(p - a).total_seconds() for _s, a, p in rows if p is not None], PROVISION_BUCKETS)


    def _provisioning_ops(self, session):
        """Provisioning operations (issue 5): step durations by kind, retries, rollbacks, reconciler findings."""
        from sqlalchemy import case

        from portal.models.audit import AuditEvent
        from portal.models.reconcile import FINDING_KINDS, ProvisioningStep, ReconcileFinding, ReconcileRun
        from portal.models.requests import ProvisioningJob
        steps = HistogramMetricFamily("govcloud_provisioning_step_duration_seconds",
                                      "Duration of provisioning steps by kind (project, server, server_wait, ...).",
                                      labels=["kind"])
        columns = [func.sum(case((ProvisioningStep.seconds <= b, 1), else_=0)) for b in STEP_BUCKETS]
        for kind, n, total, *counts in session.execute(
                select(ProvisioningStep.kind, func.count(), func.sum(ProvisioningStep.seconds), *columns)
                .group_by(ProvisioningStep.kind).order_by(ProvisioningStep.kind)):
            buckets = [[str(float(b)), int(c or 0)] for b, c in zip(STEP_BUCKETS, counts)] + [["+Inf", n]]
            steps.add_metric([kind], buckets, float(total or 0))
        yield steps
        retries = CounterMetricFamily("govcloud_provisioning_retries", "Retried attempts of provisioning jobs: "
                                      "requeue (the job ran again), resume (steps resumed in the worker).",
                                      labels=["kind"])
        # attempts counts failures: each was followed by another run, but the last one of a failed job
        ended = ProvisioningJob.state.in_(["failed", "errored"])
        retries.add_metric(["requeue"], session.scalar(
            select(func.coalesce(func.sum(case((ended, ProvisioningJob.attempts - 1), else_=ProvisioningJob.attempts)),
                                 0)).where(ProvisioningJob.attempts > 0)))
        retries.add_metric(["resume"], session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.object_type == "provisioning_job",
                                                               AuditEvent.action == "provisioning.resume")))
        yield retries
        rollbacks = _gauge("govcloud_provisioning_rollbacks", "Rollback jobs of failed requests by state.",
                           ["state"])
        for state, n in session.execute(select(ProvisioningJob.state, func.count())
                                        .where(ProvisioningJob.action == "rollback")
                                        .group_by(ProvisioningJob.state).order_by(ProvisioningJob.state)):
            rollbacks.add_metric([state], n)
        yield rollbacks
        findings = _gauge("govcloud_reconciler_findings", "Findings of the last reconciler run by kind "
                          "(orphan, drift, quota).", ["kind"])
        last = _gauge("govcloud_reconciler_last_run_timestamp_seconds", "Start of the last reconciler run "
                      "that listed the cloud.")
        run_at = session.scalar(select(func.max(ReconcileRun.started_at)).where(ReconcileRun.error == ""))
        if run_at is not None:
            counts = dict(session.execute(select(ReconcileFinding.kind, func.count())
                                          .group_by(ReconcileFinding.kind)).all())
            for kind in FINDING_KINDS:
                findings.add_metric([kind], counts.get(kind, 0))
            if run_at.tzinfo is None:  # SQLite aggregate bypasses the column type
                from datetime import timezone
                run_at = run_at.replace(tzinfo=timezone.utc)
            last.add_metric([], run_at.timestamp())
        yield findings
        yield last


STEP_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)
REVIEW_BUCKETS = (3600, 4 * 3600, 86400, 2 * 86400, 5 * 86400, 10 * 86400)
PROVISION_BUCKETS = (60, 300, 900, 3600, 4 * 3600, 86400)


def _failure_reasons():
    from provisioner import errors
    return {errors.QUOTA_EXCEEDED: "quota", errors.NO_VALID_HOST: "no_valid_host",
            errors.IMAGE_MISSING: "image_missing", errors.FLAVOR_MISSING: "flavor_missing",
            errors.SERVER_ERROR: "server_error", errors.TIMEOUT: "timeout",
            errors.CLOUD_UNAVAILABLE: "cloud_unavailable", errors.REJECTED_BY_CLOUD: "rejected"}


FAILURE_REASONS = _failure_reasons()


def _histogram(name, doc, values, bounds):
    buckets = [[str(float(b)), sum(1 for v in values if v <= b)] for b in bounds]
    buckets.append(["+Inf", len(values)])
    family = HistogramMetricFamily(name, doc)
    family.add_metric([], buckets, sum(values))
    return family


def _escape(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value):
    if value == INF:
        return "+Inf"
    if value == -INF:
        return "-Inf"
    if value != value:
        return "NaN"
    return repr(float(value))


INF = float("inf")


def render_families(families):
    """Write families in the text exposition format 0.0.4 (a plain loop: several times faster than
    the client's generic writer, which validates every name again on each scrape)."""
    out = []
    for family in families:
        counter = family.type == "counter"
        name = family.name + ("_total" if counter else "")
        out.append(f"# HELP {name} {family.documentation}\n# TYPE {name} {family.type}\n")
        if isinstance(family, Family):
            keys = [f'{label}="' for label in family.labels]
            for values, value in family.samples:
                if keys:
                    labels = ",".join(k + _escape(v) + '"' for k, v in zip(keys, values))
                    out.append(f"{name}{{{labels}}} {_number(value)}\n")
                else:
                    out.append(f"{name} {_number(value)}\n")
            continue
        for sample in family.samples:  # the client's families (histograms)
            if sample.labels:
                labels = ",".join(f'{k}="{_escape(v)}"' for k, v in sample.labels.items())
                out.append(f"{sample.name}{{{labels}}} {_number(sample.value)}\n")
            else:
                out.append(f"{sample.name} {_number(sample.value)}\n")
    return "".join(out).encode("utf-8")


class MetricsEndpoint:
    """What /metrics serves: the database families plus the web workers' own metrics, rendered
    once per cycle of cycle_seconds (and after this process commits a change), served as bytes."""

    def __init__(self, engine, cycle_seconds=0, render_process=None):
        # Built at the first scrape, when the worker has loaded the whole application: move what
        # exists now out of the collector's view, so the garbage collections that the thousands of
        # samples of a rendering trigger do not walk the application's heap every time.
        gc.freeze()
        self.database = DatabaseCollector(engine)
        self.process = CollectorRegistry(auto_describe=False)
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            MultiProcessCollector(self.process)
        else:
            self.process.register(SCRAPES)
            self.process.register(SCRAPE_SECONDS)
        self.render_process = render_process  # a RenderProcess: the database's families rendered there
        self.cache = ExpositionCache(self.render, cycle_seconds)

    def render(self):
        """Return the exposition text (the scrape counters as of this rendering); with a render
        process, [(the database's text, its gzip), (this process's text, None)]."""
        from prometheus_client import generate_latest
        if self.render_process is None:
            return render_families(self.database.collect()) + generate_latest(self.process)
        return [self.render_process.render(), (generate_latest(self.process), None)]

    def close(self):
        """End the render process (if any)."""
        if self.render_process is not None:
            self.render_process.close()

    def serve(self):
        """Return the current rendering (a Rendered: body, gzipped), counting the scrape."""
        started = time.perf_counter()
        rendered = self.cache.get()
        SCRAPES.inc()
        SCRAPE_SECONDS.observe(time.perf_counter() - started)
        return rendered


# ---------------------------------------------------------------------------------------------
# backups (issue 7): labels are the artifact kind (snapshot, volume) or the run state, never ids
# ---------------------------------------------------------------------------------------------
def backup_families(session, now):
    """Last success and size of the current backups per kind, failures, verification age, restores."""
    from portal.models.backups import ArtifactStatus, BackupArtifact, BackupRun, RestoreJob, RunState
    last = _gauge("govcloud_backup_run_last_success_timestamp_seconds",
                  "Completion of the newest available backup per kind (snapshot, volume).", ["kind"])
    size = _gauge("govcloud_backup_size_bytes", "Size of the newest backup of every source, per kind.", ["kind"])
    age = _gauge("govcloud_backup_verification_age_seconds", "Longest time since the newest backup of a source "
                 "was verified (never verified: since it was made), per kind.", ["kind"])
    newest = {}
    for kind, source, dept, completed, created, size_gb, size_bytes, verified in session.execute(
            select(BackupArtifact.kind, BackupArtifact.source_key, BackupArtifact.department_id,
                   BackupArtifact.completed_at, BackupArtifact.created_at, BackupArtifact.size_gb,
                   BackupArtifact.size_bytes, BackupArtifact.verified_at)
            .where(BackupArtifact.status == ArtifactStatus.AVAILABLE)
            .order_by(BackupArtifact.created_at.desc(), BackupArtifact.id.desc())):
        newest.setdefault((kind, dept, source), (completed or created, size_bytes or size_gb * 1024 ** 3,
                                                 verified or created))
    for kind in ("snapshot", "volume"):
        rows = [v for (k, _d, _s), v in newest.items() if k == kind]
        if not rows:
            continue
        last.add_metric([kind], max(_utc(r[0]).timestamp() for r in rows))
        size.add_metric([kind], sum(r[1] for r in rows))
        age.add_metric([kind], max((now - _utc(r[2])).total_seconds() for r in rows))
    yield last
    yield size
    yield age
    failures = CounterMetricFamily("govcloud_backup_failures", "Backup attempts that failed (retried or not), "
                                   "by what the run backs up (snapshot, volume, both).", labels=["kind"])
    for kinds, attempts, state, n in session.execute(
            select(BackupRun.kinds, BackupRun.attempts, BackupRun.state, func.count())
            .where(BackupRun.attempts > 0).group_by(BackupRun.kinds, BackupRun.attempts, BackupRun.state)):
        failed = attempts if state in (RunState.FAILED, RunState.QUEUED) else attempts - 1
        if failed > 0:
            failures.add_to([kinds], failed * n)
    yield failures
    runs = _gauge("govcloud_backup_runs", "Backup runs by state.", ["state"])
    for state, n in session.execute(select(BackupRun.state, func.count()).group_by(BackupRun.state)):
        runs.add_metric([state], n)
    yield runs
    restores = _gauge("govcloud_backup_restores", "Restores by mode and state.", ["mode", "state"])
    for mode, state, n in session.execute(select(RestoreJob.mode, RestoreJob.state, func.count())
                                          .group_by(RestoreJob.mode, RestoreJob.state)):
        restores.add_metric([mode, state], n)
    yield restores


def _utc(value):
    from datetime import timezone
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)

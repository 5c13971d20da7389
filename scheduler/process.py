"""The scheduler process: `python -m scheduler` or `govcloud scheduler`.

Any number of scheduler processes may run on one PostgreSQL database; one leads (scheduler/leader.py:
a lease row with a fencing token), the others stand by and take over within the lease (10 s by
default) when it dies or stalls. Only the leader runs jobs. Every job's times come from its trigger
(interval jobs anchored at 2020-01-01 Beijing, so every process computes the same times); the leader
claims each scheduled time once (job_run's run key, unique), runs it in a thread pool (one run of a
job at a time) and, after a takeover, runs the times its predecessor left (up to the catch-up window,
JOB_MISFIRE_GRACE_SECONDS or four leases; older ones are skipped and logged). On SQLite it is the
same process alone.
"""
import argparse
import logging
import signal
import threading
from dataclasses import dataclass
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backup import jobs as backup_jobs
from monitoring import jobs as monitoring_jobs
from portal.database import utcnow
from portal.errors import ConfigError
from portal.models.operations import JobRun, ScheduledJob

from . import billing_jobs, housekeeping, project_jobs, reconcile_jobs, report_jobs, runtime, trust_jobs
from .history import ANCHOR, claimed
from .leader import DEFAULT_LEASE_SECONDS, Leadership, NotLeader

log = logging.getLogger(__name__)
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class JobSpec:
    job_id: str
    func: object
    description: str
    interval_setting: str | None = None  # seconds between runs, from the settings
    default_seconds: int = 60
    cron: dict | None = None             # or a daily time (Beijing)

    def trigger(self, settings):
        if self.cron is not None:
            return CronTrigger(timezone="Asia/Shanghai", **self.cron)
        seconds = int(settings.get(self.interval_setting) or self.default_seconds)
        return IntervalTrigger(seconds=seconds, start_date=ANCHOR, timezone="Asia/Shanghai")


JOBS = (
    JobSpec("run_probes", monitoring_jobs.run_probes, "Availability probes", "PROBE_INTERVAL_SECONDS", 60),
    JobSpec("deliver_notifications", housekeeping.deliver_notifications, "Notifications to department contacts",
            "NOTIFY_INTERVAL_SECONDS", 30),
    JobSpec("collect_inventory", monitoring_jobs.collect_inventory, "Cloud inventory collector",
            "COLLECT_INTERVAL_SECONDS", 300),
    # issue 18: the live inventory, what changed every minute and all of it nightly
    JobSpec("sync_inventory", monitoring_jobs.sync_inventory, "Live inventory: changes",
            "INVENTORY_SYNC_INTERVAL_SECONDS", 60),
    JobSpec("resync_inventory", monitoring_jobs.resync_inventory, "Live inventory: full resync",
            cron={"hour": 3, "minute": 30}),
    JobSpec("sync_probe_targets", monitoring_jobs.sync_probe_targets, "Probe targets for delivered servers",
            "COLLECT_INTERVAL_SECONDS", 300),
    # issue 22: Alertmanager silences the alerts of approved maintenance windows
    JobSpec("sync_alert_silences", monitoring_jobs.sync_alert_silences, "Alertmanager silences of maintenance windows",
            "ALERT_SILENCE_INTERVAL_SECONDS", 60),
    JobSpec("prune_history", housekeeping.prune_history, "Prune probe results and job runs",
            cron={"hour": 3, "minute": 17}),
    # issue 16: accounts unused for ACCOUNT_MAX_IDLE_DAYS are disabled
    JobSpec("disable_unused_accounts", housekeeping.disable_unused_accounts,
            "Disable accounts unused too long", cron={"hour": 2, "minute": 41}),
    # issue 9: usage metering (用量) and, on the 1st, last month's statements and 月度汇总报备
    JobSpec("collect_usage", billing_jobs.collect_usage, "Usage metering for the statements",
            "METERING_INTERVAL_SECONDS", 300),
    JobSpec("monthly_summary", billing_jobs.monthly_summary, "Monthly statements and summary report",
            cron={"day": 1, "hour": 1, "minute": 5}),
    # issue 8: vendor access grants end on time; the audit chain's head is signed hourly
    JobSpec("expire_grants", trust_jobs.expire_grants, "End vendor access grants that are over",
            "GRANT_EXPIRY_INTERVAL_SECONDS", 60),
    JobSpec("audit_digest", trust_jobs.audit_digest, "Signed digest of the audit log",
            "AUDIT_DIGEST_INTERVAL_SECONDS", 3600),
    # issue 7: backups run when due, the newest are verified daily, restores are followed closely
    JobSpec("run_due_backups", backup_jobs.run_due_backups, "Backups of due policies (retries included)",
            "BACKUP_DUE_INTERVAL_SECONDS", 60),
    JobSpec("verify_backups", backup_jobs.verify_backups, "Verification that the newest backups restore",
            cron={"hour": 4, "minute": 7}),
    JobSpec("track_restores", backup_jobs.track_restores, "Restores and backup extractions in progress",
            "BACKUP_TRACK_INTERVAL_SECONDS", 15),
    # issue 5: the reconciler (orphans, drift, quota vs approved allocation)
    # issue 17: time limits (办理时限): reminders before, escalation after
    JobSpec("time_limits", housekeeping.time_limits, "Time limits: reminders and escalations",
            "TIME_LIMIT_INTERVAL_SECONDS", 3600),
    # issue 20: contacts confirmed every CONTACT_CONFIRM_MONTHS months, agreements renewed in time
    JobSpec("contact_confirmations", housekeeping.contact_confirmations,
            "Contacts confirmations and confidentiality agreements: reminders", cron={"hour": 8, "minute": 13}),
    JobSpec("reconcile", reconcile_jobs.reconcile, "Reconciler: cloud against the database",
            "RECONCILE_INTERVAL_SECONDS", 900),
    # issue 20: emergency drills and rectification notices, what is late flagged once
    JobSpec("drill_reminders", housekeeping.drill_reminders, "Emergency drills and rectification: reminders, overdue",
            "DRILL_REMINDER_INTERVAL_SECONDS", 3600),
    # issue 20: each department's security monitoring report (第六条(五)) of the period that ended
    JobSpec("security_reports", report_jobs.security_reports_job, "Security monitoring reports to departments",
            cron={"day": 1, "hour": 2, "minute": 15}),
    # issue 19: reminders before an informatization project's warranty ends (附件1 第十六条)
    JobSpec("warranty_reminders", project_jobs.warranty_reminders, "Reminders before project warranties end",
            cron={"hour": 8, "minute": 20}),
)
JOB_DESCRIPTIONS = {spec.job_id: spec.description for spec in JOBS}


def selected_jobs(settings):
    """The JOBS this scheduler runs: SCHEDULER_JOBS (comma-separated ids), empty for all."""
    wanted = [j.strip() for j in (settings.get("SCHEDULER_JOBS") or "").split(",") if j.strip()]
    unknown = set(wanted) - {spec.job_id for spec in JOBS}
    if unknown:
        raise ConfigError("SCHEDULER_JOBS", f"unknown job(s) {', '.join(sorted(unknown))}")
    return tuple(spec for spec in JOBS if not wanted or spec.job_id in wanted)


class Scheduler:
    """One scheduler process: leadership ticks, and while leading, claims and runs the due runs."""

    def __init__(self, settings, engine, *, specs=None, holder=None, lease_seconds=None, threads=4):
        self.engine = engine
        self.specs = specs if specs is not None else selected_jobs(settings)
        self.triggers = {spec.job_id: spec.trigger(settings) for spec in self.specs}
        lease_seconds = int(lease_seconds or settings.get("SCHEDULER_LEASE_SECONDS") or DEFAULT_LEASE_SECONDS)
        self.leadership = Leadership(engine, holder, lease_seconds)
        self.renew_seconds = lease_seconds / 3
        self.catch_up = timedelta(seconds=max(int(settings.get("JOB_MISFIRE_GRACE_SECONDS") or 30),
                                              4 * lease_seconds))
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="job")
        self.running = {}   # job_id -> Future of its run in progress
        self.cursor = {}    # job_id -> the last scheduled time handled under the current token
        self.pending = {}   # job_id -> its next scheduled time, until claimed
        self.loaded_token = None
        self.stopping = threading.Event()

    # -- the plan
    def load(self):
        """On taking the lead: continue after the last claimed run of each job; publish the plan."""
        ids = [spec.job_id for spec in self.specs]
        self.pending = {}
        with Session(self.engine) as session:
            self.cursor = dict(session.execute(select(JobRun.job_id, func.max(JobRun.scheduled_for))
                                               .where(JobRun.job_id.in_(ids), JobRun.scheduled_for.is_not(None))
                                               .group_by(JobRun.job_id)).all())
            now = utcnow()
            for spec in self.specs:
                plan = session.get(ScheduledJob, spec.job_id) or ScheduledJob(job_id=spec.job_id)
                plan.trigger = str(self.triggers[spec.job_id])[:255]
                plan.next_run_at, plan.updated_at = self.next_time(spec.job_id, now), now
                session.add(plan)
            session.commit()
        self.loaded_token = self.leadership.token

    def next_time(self, job_id, now):
        """The next scheduled time of job_id to claim (possibly past: due); kept until claimed."""
        if job_id not in self.pending:
            self.pending[job_id] = self._next_time(job_id, now)
        return self.pending[job_id]

    def _next_time(self, job_id, now):
        trigger, last = self.triggers[job_id], self.cursor.get(job_id)
        if last is not None:
            last = _aware(last)
            nxt = trigger.get_next_fire_time(last, now)
            if nxt is None or nxt >= now - self.catch_up:
                return nxt
            log.warning("job %s: runs between %s and %s are older than the catch-up window; skipped",
                        job_id, last.isoformat(), (now - self.catch_up).isoformat())
        return trigger.get_next_fire_time(None, now if last is None else now - self.catch_up)

    # -- the loop
    def dispatch(self):
        """Claim and start every due run whose job is not running; False when no longer leading."""
        now = utcnow()
        for spec in self.specs:
            job_id = spec.job_id
            future = self.running.get(job_id)
            if future is not None and not future.done():
                continue  # one run of a job at a time; its next times wait for it
            due = self.next_time(job_id, now)
            if due is None or due > now:
                continue
            after = self.triggers[job_id].get_next_fire_time(due, now)
            try:
                run = self.leadership.claim_run(job_id, due, after)
            except NotLeader:
                return False
            self.cursor[job_id] = due
            self.pending.pop(job_id, None)
            if run is None:
                log.info("job %s at %s was claimed before", job_id, due.isoformat())
                continue
            self.running[job_id] = self.pool.submit(self._execute, spec, run)
        return True

    def _execute(self, spec, run):
        with claimed(run):
            try:
                spec.func()
            except Exception:  # recorded as errored by scheduler.history; the loop goes on
                pass

    def run(self):
        last_tick = 0.0
        while not self.stopping.is_set():
            if time.monotonic() - last_tick >= self.renew_seconds or not self.leadership.leading:
                last_tick = time.monotonic()
                self.leadership.tick()
            if self.leadership.leading:
                try:
                    if self.loaded_token != self.leadership.token:
                        self.load()
                    self.dispatch()
                except Exception as exc:  # the database: try again at the next tick
                    log.warning("scheduler=%s dispatch failed: %s", self.leadership.holder,
                                str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            else:
                self.loaded_token = None
            self.stopping.wait(POLL_SECONDS if self.leadership.leading else min(1.0, self.renew_seconds))
        self.pool.shutdown(wait=True, cancel_futures=True)
        try:
            self.leadership.release()
        except Exception as exc:
            log.warning("scheduler=%s could not release the lease: %s", self.leadership.holder, exc)

    def stop(self):
        self.stopping.set()


def _aware(at):
    from datetime import timezone
    return at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)


def planned_jobs(session, settings=None):
    """Return (job id, description, schedule (schedule_of), next run) of every job as the leader plans it.

    Used by the portal's job page: it reads the plan, it does not run a scheduler.
    """
    plans = {p.job_id: p for p in session.scalars(select(ScheduledJob))}
    settings = settings or {}
    return [(spec.job_id, spec.description,
             schedule_from_text(plans[spec.job_id].trigger) if spec.job_id in plans
             else schedule_of(spec.trigger(settings)),
             plans[spec.job_id].next_run_at if spec.job_id in plans else None) for spec in JOBS]


def schedule_from_text(text):
    """schedule_of for a trigger as the leader stored it (str of the trigger: `interval[0:05:00]`,
    `interval[1 day, 0:00:00]`, `cron[day='1', hour='1', minute='5']`)."""
    import re
    interval = re.fullmatch(r"interval\[(?:(\d+) days?, )?(\d+):(\d+):(\d+)\]", text or "")
    if interval:
        days, hours, minutes, seconds = (int(g or 0) for g in interval.groups())
        return {"every_seconds": ((days * 24 + hours) * 60 + minutes) * 60 + seconds}
    cron = re.fullmatch(r"cron\[(.*)\]", text or "")
    if cron:
        fields = dict(re.findall(r"(\w+)='([^']*)'", cron.group(1)))
        return {"cron": {k: v for k, v in fields.items() if k in ("month", "day", "day_of_week", "hour", "minute")}}
    return {"other": text or ""}


def schedule_of(trigger):
    """Return a stored trigger as plain data: {"every_seconds": n}, or {"cron": {field: value}} of
    the fields a JobSpec sets (month, day, day_of_week, hour, minute), Beijing time."""
    if isinstance(trigger, IntervalTrigger):
        return {"every_seconds": int(trigger.interval.total_seconds())}
    if isinstance(trigger, CronTrigger):
        return {"cron": {f.name: str(f) for f in trigger.fields
                         if f.name in ("month", "day", "day_of_week", "hour", "minute") and not f.is_default}}
    return {"other": str(trigger)}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="govcloud scheduler", description=__doc__.splitlines()[0])
    parser.add_argument("--run-once", metavar="JOB_ID", help="run one job now and exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        rt = runtime.configure_from_settings()
    except ConfigError as exc:
        log.error("%s", exc)
        return 2
    if args.run_once:
        spec = next((s for s in JOBS if s.job_id == args.run_once), None)
        if spec is None:
            parser.error(f"unknown job {args.run_once}; known: {', '.join(s.job_id for s in JOBS)}")
        spec.func()
        return 0
    try:
        scheduler = Scheduler(rt.settings, rt.engine)
    except ConfigError as exc:
        log.error("%s", exc)
        return 2

    def _stop(signum, _frame):
        log.info("signal %s: stopping the scheduler", signum)
        scheduler.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("scheduler=%s starting with jobs %s", scheduler.leadership.holder,
             ", ".join(s.job_id for s in scheduler.specs))
    scheduler.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

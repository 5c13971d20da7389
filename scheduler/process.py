"""The scheduler process: `python -m scheduler` or `govcloud scheduler`.

APScheduler 3.x BlockingScheduler in its own process (never inside web workers), its job store
in the portal's database; each job has an explicit id, replace_existing, coalesce and
max_instances=1, so a slow run is never doubled and missed runs collapse into one.
"""
import argparse
import logging
import signal
from dataclasses import dataclass

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from backup import jobs as backup_jobs
from monitoring import jobs as monitoring_jobs
from portal.errors import ConfigError

from . import billing_jobs, housekeeping, reconcile_jobs, runtime, trust_jobs

log = logging.getLogger(__name__)


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
        return IntervalTrigger(seconds=seconds)


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
    JobSpec("reconcile", reconcile_jobs.reconcile, "Reconciler: cloud against the database",
            "RECONCILE_INTERVAL_SECONDS", 900),
)
JOB_DESCRIPTIONS = {spec.job_id: spec.description for spec in JOBS}


def build_scheduler(settings, engine, scheduler_class=BlockingScheduler):
    """Return a scheduler with the database job store and every job of JOBS (replaced if stored)."""
    scheduler = scheduler_class(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")},
        executors={"default": ThreadPoolExecutor(4)},
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": int(settings.get("JOB_MISFIRE_GRACE_SECONDS") or 30)},
        timezone="Asia/Shanghai")
    for spec in JOBS:
        scheduler.add_job(spec.func, spec.trigger(settings), id=spec.job_id, name=spec.description,
                          replace_existing=True, coalesce=True, max_instances=1)
    return scheduler


def stored_jobs(engine):
    """Return (job id, description, trigger text, next run) of the jobs in the database job store.

    Used by the portal's job page: it reads the store, it does not run a scheduler.
    """
    store = SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")
    store.start(None, "default")
    try:
        stored = {job.id: job for job in store.get_all_jobs()}
    except LookupError:  # a job whose function no longer imports
        stored = {}
    out = []
    for spec in JOBS:
        job = stored.get(spec.job_id)
        out.append((spec.job_id, spec.description, schedule_of(job.trigger) if job else {},
                    job.next_run_time if job else None))
    return out


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
    scheduler = build_scheduler(rt.settings, rt.engine)

    def _stop(signum, _frame):
        log.info("signal %s: stopping the scheduler", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("scheduler starting with jobs %s", ", ".join(s.job_id for s in JOBS))
    scheduler.start()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The provisioning worker process: `python -m provisioner.worker` (or `govcloud worker`).

It claims durable jobs from the database with a lease and runs them; jobs survive a restart of the
portal or of the worker, and an expired lease is taken over.
"""
import argparse
import logging
import signal
import threading
import time

from sqlalchemy.orm import Session

from portal import runtime
from portal.errors import ConfigError
from portal.workflow import JobAction

from .jobs import LEASE_SECONDS, Lease, claim_job, default_worker_id, release_dead_leases, settle
from .naming import DEFAULT_PREFIX
from .rollback import RollbackRunner
from .runner import JobRunner

log = logging.getLogger(__name__)
RUNNERS = {JobAction.PROVISION: JobRunner, JobAction.ROLLBACK: RollbackRunner}


def run_job(session, cloud, job, *, worker_id="", name_prefix=DEFAULT_PREFIX, lease_seconds=LEASE_SECONDS):
    """Run a claimed job with the runner of its action and settle it (jobs.settle)."""
    runner = RUNNERS[job.action](session, cloud, job, worker_id=worker_id, name_prefix=name_prefix,
                                 lease_seconds=lease_seconds)
    return settle(session, runner)


class Worker:
    """Claim and run jobs until stopped (or, with once=True, until no job is left)."""

    def __init__(self, engine, cloud, *, worker_id=None, name_prefix=DEFAULT_PREFIX, poll_seconds=2.0,
                 concurrency=1, lease_seconds=LEASE_SECONDS):
        self.engine = engine
        self.cloud = cloud
        self.worker_id = worker_id or default_worker_id()
        self.name_prefix = name_prefix
        self.poll_seconds = poll_seconds
        self.lease_seconds = lease_seconds
        # jobs run side by side in threads (each with its own database session, claims go through the
        # database as between processes); SQLite allows one writer, so it runs one job at a time
        self.concurrency = max(1, concurrency) if engine.dialect.name != "sqlite" else 1
        self.stopping = False

    def run_one(self):
        """Claim and run one job; return its final state, or None when there was none."""
        with Session(self.engine, expire_on_commit=False) as session:
            lease_started = time.monotonic()
            job = claim_job(session, self.worker_id, self.lease_seconds)
            if job is None:
                return None
            log.info("worker=%s claimed job=%s request=%s token=%s failures=%s", self.worker_id, job.id,
                     job.request_id, job.lease_token, job.attempts)
            lease = Lease(self.engine, job, self.lease_seconds, started=lease_started)
            with lease.held(session):
                return run_job(session, self.cloud, job, worker_id=self.worker_id, name_prefix=self.name_prefix,
                               lease_seconds=self.lease_seconds)

    def run(self, once=False):
        with Session(self.engine, expire_on_commit=False) as session:
            released = release_dead_leases(session)
        if released:
            log.info("worker=%s took over %d job(s) of dead local workers", self.worker_id, released)
        if self.concurrency == 1:
            return self._loop(once)
        threads = [threading.Thread(target=self._loop, args=(once,), name=f"jobs-{n}", daemon=True)
                   for n in range(self.concurrency)]
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):  # the main thread stays free for signals
            for thread in threads:
                thread.join(0.5)
        return None

    def _loop(self, once):
        while not self.stopping:
            state = self.run_one()
            if state is None:
                if once:
                    return
                time.sleep(self.poll_seconds)




def main(argv=None):
    parser = argparse.ArgumentParser(description="govcloud provisioning worker")
    parser.add_argument("--once", action="store_true", help="run the due jobs, then exit")
    parser.add_argument("--poll", type=float, default=2.0, help="seconds between looks for new jobs")
    parser.add_argument("--lease", type=int, default=LEASE_SECONDS,
                        help="seconds a claimed job is held without renewal (renewed every third of it)")
    parser.add_argument("--concurrency", type=int, default=1,
                        help="jobs run at the same time by this process (PostgreSQL; one per department)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        rt = runtime.build(needs_cloud=True)  # settings: defaults, GOVCLOUD_CONFIG, GOVCLOUD_* variables
    except ConfigError as exc:
        log.error("%s", exc)
        return 2
    worker = Worker(rt.engine, rt.cloud(), name_prefix=rt.name_prefix, poll_seconds=args.poll,
                    concurrency=args.concurrency, lease_seconds=args.lease)

    def _stop(signum, _frame):
        log.info("worker=%s stopping on signal %s", worker.worker_id, signum)
        worker.stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        worker.run(once=args.once)
    finally:
        rt.close()


if __name__ == "__main__":
    raise SystemExit(main())

"""gunicorn settings of the govcloud portal (the image's ./gunicorn.conf.py; bench/api_load.py uses
the same file). Environment: GOVCLOUD_BIND (0.0.0.0:8080), GOVCLOUD_WEB_WORKERS, GOVCLOUD_WEB_THREADS.

Worker class and counts by measurement (bench/api_load.py, 50 clients on 2 cores, docs/production.md):
threads let a worker answer while another request waits on PostgreSQL; processes use the cores.
"""
import os
import shutil
import tempfile

bind = os.environ.get("GOVCLOUD_BIND", "0.0.0.0:8080")
workers = int(os.environ.get("GOVCLOUD_WEB_WORKERS", "3"))
worker_class = "gthread"
threads = int(os.environ.get("GOVCLOUD_WEB_THREADS", "4"))
keepalive = 5
timeout = 60
graceful_timeout = 30
max_requests = 5000          # a leak cannot grow for ever; jitter keeps workers from restarting together
max_requests_jitter = 500
accesslog = "-"
errorlog = "-"


# prometheus-client's multiprocess mode: the workers share their counters through this folder
# (set here, before the workers start, so that only the portal's processes use it)
MULTIPROC_DIR = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR",
                                      os.path.join(tempfile.gettempdir(), f"govcloud-metrics-{os.getpid()}"))


def on_starting(server):
    """Start with an empty multiprocess folder (counters of an earlier run are not this one's)."""
    shutil.rmtree(MULTIPROC_DIR, ignore_errors=True)
    os.makedirs(MULTIPROC_DIR, mode=0o700)


def child_exit(server, worker):
    """Drop the exited worker's prometheus-client files."""
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid, MULTIPROC_DIR)

"""The scheduler: one APScheduler process that runs govcloud's periodic jobs (probes, inventory,
notifications, metering and statements, grant expiry, audit digests, backups, the reconciler).

process.py holds the table of jobs and the process; runtime.py what the jobs run with; history.py
records every run. The jobs live with their domain (monitoring/jobs.py, backup/jobs.py) or here.
"""

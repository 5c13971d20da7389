"""API of what is kept: backups (policies, runs, artifacts, restores, extractions), grants, the audit log."""

"""govcloud backup (第十九条, issue 7): the engine that backs up departments' systems, verifies,
prunes and restores; the web pages and the approval flows live in the portal and call this API.

Models: portal/backup_models.py (BackupPolicy, BackupRun, BackupArtifact, RestoreJob,
BackupExtraction; state machines as data there). Cloud calls only through provisioner/cloud.py
(section "# -- backups"), errors translated to provisioner.errors. Nothing here imports Flask.

API for the portal (ctx is a portal.services.audit.RequestInfo; the functions audit and commit;
user-facing errors are portal.errors.ValidationFailed with Chinese-translatable msgids). Roles are
checked by the portal's services before calling these.

backup.policies
    validate(data) -> dict                    check and normalize the form fields of a policy
    create_policy(session, ctx, department_id, data, now=None) -> BackupPolicy
    update_policy(session, ctx, policy, data, now=None) -> BackupPolicy
    set_enabled(session, ctx, policy, enabled, now=None) -> BackupPolicy
    policy_for_system(session, system_id) -> BackupPolicy | None   (its own, else the department default)
backup.schedule
    next_fire(cron, after) -> datetime (UTC)  the next time a 5-field cron fires, in Asia/Shanghai
backup.engine
    queue_run(session, ctx, policy, trigger="manual", requested_by=None) -> BackupRun
    request_final_backup(session, ctx, system_id, requested_by=None) -> BackupRun
        a final backup before a decommission (both kinds; hooks of the system's policy)
    final_backup_succeeded(session, system_id, since=None) -> BackupRun | None
        the newest succeeded final run of the system (the decommission guard's test)
    run_policy(session, cloud, policy, trigger="manual", settings=None, ctx=None) -> BackupRun
        queue a run and execute it now (one attempt)
    run_due(session, cloud, settings, now=None) -> dict   (the scheduler's run_due_backups)
    prune_policy(session, ctx, cloud, policy, now=None) -> int
backup.verify
    verify_policy(session, ctx, cloud, policy, now=None) -> list[BackupArtifact]
backup.restore
    start_restore(session, ctx, cloud, artifact, mode, *, urgent=False, reason="", requested_by=None,
                  target_name="") -> RestoreJob
        the cloud call is made before returning (第十九条: restore starts at once)
    track_restores(session, cloud, now=None) -> (finished, failed)
backup.export (the cloud side of an approved extraction)
    start_export(session, ctx, cloud, extraction) -> BackupExtraction    call right after "approve"
    track_exports(session, cloud, now=None) -> int        approved -> ready (file prepared) or failed
    open_export(cloud, extraction) -> (size_bytes or None, iterator of bytes)   stream the file
    expire_export(session, ctx, cloud, extraction, now=None)   -> expired, scratch resources removed
"""

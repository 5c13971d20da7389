"""govcloud backup (第十九条, issue 7): the engine that backs up departments' systems, verifies,
prunes and restores; the web pages and the approval flows live in the portal and call this API.

Models: portal/models/backups.py (BackupPolicy, BackupRun, BackupArtifact, RestoreJob,
BackupExtraction; state machines as data there). Cloud calls only through provisioner/cloud (methods of Cloud)
(section "# -- backups"), errors translated to provisioner.errors. Nothing here imports Flask.

API for the portal (ctx is a portal.services.audit.RequestInfo; the functions audit and commit;
user-facing errors are portal.errors.ValidationFailed with Chinese-translatable msgids). Roles are
checked by the portal's services before calling these.

backup.policies
    validate(data) -> dict                    check and normalize the form fields of a policy
    check_key(session, department_id, key_id) refuse a key not a live key of the department (第十八条)
    approve_hooks(session, ctx, policy)       the department's administrator approves the hook configuration
    create_policy(session, ctx, department_id, data, now=None) -> BackupPolicy
    update_policy(session, ctx, policy, data, now=None) -> BackupPolicy
    set_enabled(session, ctx, policy, enabled, now=None) -> BackupPolicy
    policy_for_system(session, system_id) -> BackupPolicy | None   (its own, else the department default)
backup.schedule
    next_fire(cron, after) -> datetime (UTC)  the next time a 5-field cron fires, in Asia/Shanghai
backup.engine
    queue_run(session, ctx, policy, trigger="manual", requested_by=None) -> BackupRun
        a manual run ("备份") is queued; the due-runner (every BACKUP_DUE_INTERVAL_SECONDS) executes it
    request_final_backup(session, ctx, system_id, requested_by=None) -> BackupRun
        a final backup before a decommission (both kinds; hooks of the system's policy; never pruned)
    final_backup_succeeded(session, system_id, since=None) -> BackupRun | None
        the newest succeeded final run of the system (the decommission guard's test)
    run_policy(session, cloud, policy, trigger="manual", settings=None, ctx=None) -> BackupRun
        queue a run and execute its first attempt now (scripts, tests)
    run_due(session, cloud, settings, now=None) -> {"queued", "succeeded", "retrying", "failed"}
    prune_policy(session, ctx, cloud, policy, now=None) -> int
    Run.error_message / RestoreJob.error_message / BackupExtraction.error_message are msgids of
    backup/errors.py (translated in messages.po): show them with gettext; error_detail is for the vendor.
backup.verify
    verify_policy(session, ctx, cloud, policy, now=None, settings=None) -> list[BackupArtifact]
backup.restore
    start_restore(session, ctx, cloud, artifact, mode, *, urgent=False, reason="", requested_by=None,
                  target_name="", settings=None, grant_id=None) -> RestoreJob
        modes by artifact kind: RESTORE_MODES_BY_KIND; the first cloud call is made before it returns
        (第十九条: restore starts at once); a refusal returns the job failed with error_message
    start_requested(session, ctx, cloud, job, settings=None) -> RestoreJob
        the vendor (ctx.actor) carries out a restore the department requested (state requested): as above,
        audited with the request; the portal checks the vendor's warrant (a live grant, or this request)
    track_restores(session, cloud, now=None) -> (finished, failed)     (scheduler, every 15 s)
backup.export (the cloud side of an approved extraction; the portal owns apply/approve/reject,
               the link token (token_hash) and the audit of each download)
    start_export(session, ctx, cloud, extraction, settings=None)   call right after "approve"
    track_exports(session, cloud, settings=None, now=None) -> int  (scheduler job track_restores):
        approved -> ready when the file is prepared (expires_at = now + BACKUP_EXTRACTION_LINK_HOURS),
        approved -> failed, ready -> expired once expires_at passed (scratch image removed)
    advance_export(session, ctx, cloud, extraction, settings=None, now=None)   one step of the above
    open_export(session, cloud, extraction) -> (size_bytes or None, iterator of bytes)
        the file of a ready extraction, streamed from Glance (a snapshot: the image itself; a volume
        backup: a raw image of the restored volume)
    expire_export(session, ctx, cloud, extraction, now=None)
"""

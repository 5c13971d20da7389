"""The one place the pages get display labels from: the audit log's actions and objects (below) and
every state, kind and role table, each kept next to its enum (models, workflow); `template_labels()`
hands them all to the templates."""
from .models.accounts import LEVEL_LABELS, ROLE_LABELS
from .models.backups import (ARTIFACT_KIND_LABELS, ARTIFACT_STATUS_LABELS, EXTRACTION_STATE_LABELS, KINDS_LABELS,
                             RESTORE_MODE_LABELS, RESTORE_STATE_LABELS, RUN_STATE_LABELS, TRIGGER_LABELS)
from .models.billing import STATEMENT_STATE_LABELS
from .models.grants import GRANT_STATE_LABELS
from .models.operations import (INCIDENT_EVENT_LABELS, INCIDENT_KIND_LABELS, INCIDENT_STATE_LABELS,
                                JOB_OUTCOME_LABELS, MAINTENANCE_ANSWER_LABELS, MAINTENANCE_KIND_LABELS,
                                MAINTENANCE_STATE_LABELS, PROBE_KIND_LABELS, PROBE_STATE_LABELS)
from .models.projects import (ACCEPTANCE_OUTCOME_LABELS, CONSTRUCTION_KIND_LABELS, DECISION_BODY_LABELS,
                              DECISION_OUTCOME_LABELS, DECISION_STAGE_LABELS, DOCUMENT_PURPOSE_LABELS,
                              EXPERT_CONCLUSION_LABELS, FUNDING_SOURCE_LABELS, PROJECT_STATE_LABELS,
                              PROJECT_TYPE_LABELS, REVIEW_CHECKLIST_LABELS)
from .models.requests import TOKEN_SCOPE_LABELS, TOKEN_STATE_LABELS
from .models.timelimits import STEP_LABELS
from .text import LazyText, _l
from .workflow import JOB_ACTION_LABELS, JOB_STATE_LABELS, KIND_LABELS, STATE_LABELS, state_label

ACTION_LABELS = {
    "auth.login": _l("Login"),
    "auth.logout": _l("Logout"),
    "auth.login_failed": _l("Failed login"),
    "auth.login_locked": _l("Login while locked"),
    "auth.login_rate_limited": _l("Login rate limited"),
    "auth.lockout": _l("Account locked"),
    "auth.password_change": _l("Password change"),
    "auth.login_password_ok": _l("Password accepted, second factor asked"),
    "auth.totp_enrol": _l("Second factor set up"),
    "auth.totp_recovery_codes": _l("New recovery codes"),
    "user.disable_unused": _l("Unused account disabled"),
    "user.totp_reset": _l("Second factor reset"),
    "user.create": _l("User created"),
    "user.update": _l("User changed"),
    "user.role_changed": _l("Role changed"),
    "department.create": _l("Department registered"),
    "department.update": _l("Department changed"),
    "department.contacts_update": _l("Contacts changed"),
    "department.contacts_confirm": _l("Contacts confirmed"),
    "contacts.person_add": _l("Contact added"),
    "contacts.person_remove": _l("Contact removed"),
    "contacts.system_important": _l("System marked important"),
    "contacts.agreement_add": _l("Confidentiality agreement recorded"),
    # monitoring (issue 6)
    "maintenance.apply": _l("Maintenance window applied for"),
    "maintenance.approve": _l("Maintenance window approved"),
    "maintenance.reject": _l("Maintenance window rejected"),
    "maintenance.cancel": _l("Maintenance window cancelled"),
    "maintenance.respond": _l("Maintenance window answered by a department"),
    "incident.open": _l("Incident opened"),
    "incident.acknowledge": _l("Incident acknowledged"),
    "incident.resolve": _l("Incident resolved"),
    "incident.root_cause": _l("Incident root cause recorded"),
    "incident.escalate": _l("Incident escalated"),
    "incident.kind": _l("Incident type changed"),
    "notification.preferences": _l("Notification preferences changed"),
    "probe_target.create": _l("Probe target added"),
    "probe_target.update": _l("Probe target changed"),
    "audit.export": _l("Audit log exported"),
    "audit.verify": _l("Audit log verified"),
    "audit.archive": _l("Audit log archived"),
    "audit.purge": _l("Archived audit events removed"),
    "access.denied": _l("Access denied"),
    "document.downloaded": _l("Document downloaded"),
    "grant.apply": _l("Access applied for"),
    "grant.approve": _l("Access granted"),
    "grant.refuse": _l("Access refused"),
    "grant.revoke": _l("Access revoked"),
    "grant.expire": _l("Access expired"),
    "grant.withdraw": _l("Access application withdrawn"),
    "access.console": _l("Console log read"),
    "access.ssh": _l("Command run on a host"),
    # a department's (or a granted vendor's) actions on its servers (issue 18)
    "server.start": _l("Server started"),
    "server.stop": _l("Server stopped"),
    "server.reboot_soft": _l("Server rebooted"),
    "server.reboot_hard": _l("Server rebooted by force"),
    "server.console": _l("Server console log read"),
    "server.snapshot": _l("On-demand backup of a server"),
    **{f"access.server.{a}": _l("Server action refused") for a in ("start", "stop", "reboot_soft",
                                                                    "reboot_hard", "console", "snapshot", "action")},
    "calendar.save": _l("Working-day calendar entered"),
    "calendar.revert": _l("Working-day calendar entry removed"),
    # informatization projects (issue 19, regulation 1)
    "project.create": _l("Project drafted"),
    "project.update": _l("Project declaration form changed"),
    "project.attach": _l("Project document uploaded"),
    "project.declare": _l("Project declared"),
    "project.withdraw": _l("Project withdrawn"),
    "project.start_review": _l("Preliminary review started"),
    "project.return": _l("Project returned for revision"),
    "project.reject": _l("Project not approved"),
    "project.pass_review": _l("Preliminary review passed"),
    "project.assign_expert": _l("Expert asked for an opinion"),
    "project.expert_opinion": _l("Expert opinion given"),
    "project.add_to_plan": _l("Project put in the annual plan"),
    "project.remove_from_plan": _l("Project taken out of the annual plan"),
    "project.admit_urgent": _l("Urgent project admitted"),
    "project.plan_approve": _l("Annual plan approved by the city government"),
    "project.plan_approved": _l("Project approved in the annual plan"),
    "project.plan_refused": _l("Project refused in the annual plan"),
    "project.feasibility_approved": _l("Project approved by the development and reform commission"),
    "project.feasibility_refused": _l("Project refused by the development and reform commission"),
    "project.submit_design": _l("Design and estimate submitted for review"),
    "project.design_passed": _l("Design and estimate approved"),
    "project.design_returned": _l("Design and estimate returned"),
    "project.record_procurement": _l("Procurement recorded"),
    "project.start_construction": _l("Construction started"),
    "project.milestone": _l("Milestone recorded"),
    "project.milestone_done": _l("Milestone reached"),
    "project.request_acceptance": _l("Acceptance requested"),
    "project.accept": _l("Acceptance passed"),
    "project.require_rectification": _l("Rectification required at acceptance"),
    "project.evaluate": _l("Performance evaluated"),
    "request.in_use": _l("System put in use"),
}
OBJECT_LABELS = {"user": _l("User"), "department": _l("Department"), "audit_log": _l("Audit log"),
                 "vendor_grant": _l("Vendor access grant"), "server": _l("Server")}
OBJECT_LABELS.update({"maintenance_window": _l("Maintenance window"), "incident": _l("Incident"),
                      "probe_target": _l("Probe target"), "work_calendar": _l("Working-day calendar"),
                      "project": _l("Informatization project"), "annual_plan": _l("Annual plan")})
PROBLEM_LABELS = {"altered": _l("Event changed after it was written"), "deleted": _l("Events missing"),
                  "inserted": _l("Event outside the chain"), "reordered": _l("Events out of order"),
                  "digest": _l("Signed digest does not match")}
OUTCOME_LABELS = {"success": _l("Success"), "failure": _l("Failure"), "denied": _l("Denied")}
# the money, warranty and evaluation of informatization projects (issue 19, 附件1 第十二、十六、十七条)
ACTION_LABELS.update({
    "investment_change.request": _l("Investment change recorded"),
    "investment_change.approve": _l("Investment change approved"),
    "investment_change.reject": _l("Investment change rejected"),
    "investment_change.withdraw": _l("Investment change withdrawn"),
    "project_contract.create": _l("Project contract recorded"),
    "project_contract.amend": _l("Project contract amended"),
    "project_payment.create": _l("Project payment recorded"),
    "performance_evaluation.open": _l("Performance evaluation opened"),
    "performance_evaluation.score": _l("Expert scores given"),
    "performance_evaluation.self_assess": _l("Self-assessment written"),
    "performance_evaluation.complete": _l("Performance evaluation completed"),
})
OBJECT_LABELS.update({"investment_change": _l("Investment change"), "project_contract": _l("Project contract"),
                      "project_payment": _l("Project payment"),
                      "performance_evaluation": _l("Performance evaluation")})
# resource requests, provisioning, receipts, API tokens (issue 4)
ACTION_LABELS.update({
    "request.create": _l("Request created"),
    "request.update": _l("Request edited"),
    "request.attach": _l("Document uploaded"),
    "request.submit": _l("Request submitted"),
    "request.cancel": _l("Request cancelled"),
    "request.start_review": _l("Review started"),
    "request.approve": _l("Request approved"),
    "request.reject": _l("Request rejected"),
    "request.return": _l("Request returned for revision"),
    "request.green_channel": _l("Green channel provisioning"),
    "request.green_approval": _l("Green channel approval completed"),
    "request.start_provisioning": _l("Provisioning started"),
    "request.retry": _l("Provisioning retried"),
    "request.finish": _l("Resources provisioned"),
    "request.fail": _l("Provisioning failed"),
    "request.confirm_receipt": _l("Receipt confirmed"),
    "request.confirm_migration": _l("Data migration confirmed"),
    "receipt.confirm": _l("Receipt confirmed"),
    "api_token.create": _l("API token created"),
    "api_token.revoke": _l("API token revoked"),
    "api_token.use": _l("API token used"),
    "api_token.refused": _l("Expired or revoked API token refused"),
    "cloud.create": _l("Cloud resource created"),
    "cloud.adopt": _l("Cloud resource found and recorded"),
    "cloud.delete": _l("Cloud resource deleted"),
    "cloud.resize": _l("Server resized"),
    "cloud.extend": _l("Volume extended"),
    "cloud.attach": _l("Volume attached"),
    "cloud.set_quotas": _l("Quotas set"),
    "cloud.grant_role": _l("Role granted in the project"),
    "cloud.add_router_interface": _l("Network connected to the router"),
    "provisioning.retry_later": _l("Provisioning will be retried"),
    "provisioning.resume": _l("Provisioning resumed after a transient cloud error"),
})
OBJECT_LABELS.update({
    "resource_request": _l("Resource request"), "delivery_receipt": _l("Delivery receipt"), "endpoint": _l("Page"),
    "api_token": _l("API token"), "provisioning_job": _l("Provisioning job"), "project": _l("Project"),
    "server": _l("Server"), "volume": _l("Volume"), "network": _l("Network"), "subnet": _l("Subnet"),
    "router": _l("Router"), "security_group": _l("Security group"),
    "security_group_rule": _l("Security group rule"), "keypair": _l("Key pair"), "floating_ip": _l("Floating IP"),
})


# usage, rate card, statements, monthly reports (issue 9)
ACTION_LABELS.update({
    "rate.create": _l("Price added to the rate card"),
    "statement.rate": _l("Statement rated"),
    "statement.rerate": _l("Statement draft rated again"),
    "statement.new_version": _l("Statement rated again as a new version"),
    "statement.review": _l("Statement reviewed"),
    "statement.reopen": _l("Statement reopened"),
    "statement.freeze": _l("Statement frozen"),
    "monthly_report.generate": _l("Monthly summary report generated"),
})
OBJECT_LABELS.update({"rate": _l("Rate card"), "statement": _l("Statement"),
                      "monthly_report": _l("Monthly summary reports")})
# operator actions on failed provisioning (issue 5)
ACTION_LABELS.update({
    "request.roll_back": _l("Rollback queued"),
    "request.finish_rollback": _l("Request rolled back"),
    "request.rollback_failed": _l("Rollback failed"),
    "request.resolve": _l("Failure marked as resolved"),
})
# backup and recovery (issue 7, 第十九条)
ACTION_LABELS.update({
    "backup.policy.create": _l("Backup policy created"),
    "backup.policy.update": _l("Backup policy changed"),
    "backup.run.queue": _l("Backup queued"),
    "backup.run.start": _l("Backup started"),
    "backup.run.succeeded": _l("Backup succeeded"),
    "backup.run.retry": _l("Backup will be retried"),
    "backup.run.failed": _l("Backup failed"),
    "backup.run.interrupted": _l("Backup interrupted"),
    "backup.prune": _l("Old backup pruned"),
    "backup.verify": _l("Backup verified"),
    "backup.restore.start": _l("Restore started"),
    "backup.restore.succeeded": _l("Restore succeeded"),
    "backup.restore.failed": _l("Restore failed"),
    "backup.extraction.apply": _l("Extraction applied for"),
    "backup.extraction.approve": _l("Extraction approved"),
    "backup.extraction.reject": _l("Extraction rejected"),
    "backup.extraction.prepare": _l("Extraction file being prepared"),
    "backup.extraction.ready": _l("Extraction file ready"),
    "backup.extraction.fail": _l("Extraction failed"),
    "backup.extraction.expire": _l("Extraction link expired"),
    "backup.extraction.link": _l("Download link made"),
    "backup.extraction.download": _l("Backup downloaded"),
})
# what runs on a department's hosts (issue 16, 第十八条)
ACTION_LABELS.update({
    "backup.restore.request": _l("Restore requested of the vendor"),
    "backup.restore.withdraw": _l("Restore request withdrawn"),
    "backup_policy.hooks_approved": _l("Backup commands approved by the department"),
    "backup_policy.hooks_pending": _l("Backup commands awaiting the department's approval"),
    "backup.hooks.not_approved": _l("Backup ran without unapproved commands"),
    "backup.hook.run": _l("Backup command run on a host"),
    "backup.hook.refused": _l("Backup commands refused (key not of the department)"),
    "department_ssh_key.generate": _l("SSH key generated"),
    "department_ssh_key.upload": _l("SSH key uploaded"),
    "department_ssh_key.revoke": _l("SSH key revoked"),
})
OBJECT_LABELS.update({"backup_policy": _l("Backup policy"), "backup_run": _l("Backup run"),
                      "backup_artifact": _l("Backup"), "restore_job": _l("Restore"),
                      "backup_extraction": _l("Extraction"), "department_ssh_key": _l("SSH key")})
# emergency plans and drills, rectification, key changes (issue 20, 第二十三条, 第二十条, 第二十一条)
ACTION_LABELS.update({
    "emergency_plan.create": _l("Emergency plan drawn up"),
    "emergency_plan.edit": _l("Emergency plan version changed"),
    "emergency_plan.new_version": _l("Emergency plan revision started"),
    "emergency_plan.submit": _l("Emergency plan submitted for approval"),
    "emergency_plan.approve": _l("Emergency plan approved"),
    "emergency_plan.return": _l("Emergency plan returned"),
    "emergency_plan.supersede": _l("Emergency plan version superseded"),
    "drill.schedule": _l("Drill scheduled"),
    "drill.start": _l("Drill started"),
    "drill.cancel": _l("Drill cancelled"),
    "drill.step": _l("Drill step recorded"),
    "drill.restore_start": _l("Drill restore started"),
    "drill.restore_recorded": _l("Drill restore time recorded"),
    "drill.finish": _l("Drill completed"),
    "drill.close": _l("Drill closed"),
    "drill.follow_up": _l("Drill follow-up action recorded"),
    "drill_follow_up.close": _l("Drill follow-up action closed"),
    "rectification.issue": _l("Rectification notice issued"),
    "rectification.answer": _l("Rectification answered"),
    "rectification.accept": _l("Rectification accepted"),
    "rectification.return": _l("Rectification returned"),
    "rectification.withdraw": _l("Rectification notice withdrawn"),
    "key_change.apply": _l("Key change applied for"),
    "key_change.approve": _l("Key change approved"),
    "key_change.reject": _l("Key change rejected"),
    "key_change.cancel": _l("Key change cancelled"),
    "key_change.complete": _l("Key change carried out"),
})
OBJECT_LABELS.update({"emergency_plan": _l("Emergency plan"), "emergency_plan_version": _l("Emergency plan version"),
                      "drill": _l("Drill"), "drill_follow_up": _l("Drill follow-up action"),
                      "rectification": _l("Rectification notice"), "key_change": _l("Key change")})

# the vendor's evaluation, annual assessment and security monitoring reports (issue 20)
ACTION_LABELS.update({
    "rating.submit": _l("Vendor rated for a quarter"),
    "assessment.compute": _l("Annual assessment computed"),
    "assessment.recompute": _l("Annual assessment recomputed"),
    "assessment.sign": _l("Annual assessment signed"),
    "security_report.generate": _l("Security monitoring report delivered"),
})
OBJECT_LABELS.update({"vendor_rating": _l("Vendor rating"), "vendor_assessment": _l("Annual assessment"),
                      "security_report": _l("Security monitoring report")})
OBJECT_LABELS.update({"contact_person": _l("Contact"), "confidentiality_agreement": _l("Confidentiality agreement"),
                      "contacts_export": _l("Contacts export")})


# the scheduler's jobs, their schedules and the figures of their runs (issue 17)
JOB_LABELS = {
    "run_probes": _l("Availability probes"),
    "deliver_notifications": _l("Notifications to department contacts"),
    "collect_inventory": _l("Cloud inventory collector"),
    "sync_probe_targets": _l("Probe targets for delivered servers"),
    "prune_history": _l("Prune probe results and job runs"),
    "disable_unused_accounts": _l("Disable accounts unused too long"),
    "collect_usage": _l("Usage metering for the statements"),
    "monthly_summary": _l("Monthly statements and summary report"),
    "expire_grants": _l("End vendor access grants that are over"),
    "audit_digest": _l("Signed digest of the audit log"),
    "run_due_backups": _l("Backups of due policies (retries included)"),
    "verify_backups": _l("Verification that the newest backups restore"),
    "track_restores": _l("Restores and backup extractions in progress"),
    "reconcile": _l("Reconciler: cloud against the database"),
    "sync_inventory": _l("Live inventory: what changed in the cloud"),
    "resync_inventory": _l("Live inventory: the whole cloud read again"),
    "sync_alert_silences": _l("Alertmanager silences for maintenance windows"),
    "time_limits": _l("Reminders and escalation of time limits"),
    "drill_reminders": _l("Emergency drills and rectification: reminders and overdue"),
    "security_reports": _l("Security monitoring reports to departments"),
    "contact_confirmations": _l("Reminders of contacts confirmations and agreements"),
    "warranty_reminders": _l("Reminders before project warranties end"),
}
JOB_FIGURE_LABELS = {
    "checked": _l("%(n)s checked"), "failing": _l("%(n)s failing"), "servers": _l("%(n)s servers"),
    "API_calls": _l("%(n)s API calls"), "added": _l("%(n)s added"), "switched_off": _l("%(n)s switched off"),
    "resources": _l("%(n)s resources metered"), "unknown_projects": _l("%(n)s unknown projects"),
    "metering_gap": _l("%(n)s metering gaps"),
    "interval_taken": _l("interval already recorded by another collector"),
    "month": _l("month %(n)s"), "departments": _l("%(n)s departments"), "queued": _l("%(n)s queued"),
    "succeeded": _l("%(n)s succeeded"), "retrying": _l("%(n)s retrying"), "failed_runs": _l("%(n)s failed"),
    "policies": _l("%(n)s policies"), "backups_checked": _l("%(n)s backups checked"),
    "failed_checks": _l("%(n)s failed"), "restores_finished": _l("%(n)s restores finished"),
    "restores_failed": _l("%(n)s restores failed"), "extractions_changed": _l("%(n)s extractions moved on"),
    "findings": _l("%(n)s findings"), "skipped_requests": _l("%(n)s requests skipped (provisioning)"),
    "sent": _l("%(n)s sent"), "failed_to_send": _l("%(n)s failed"), "rows_removed": _l("%(n)s rows removed"),
    "accounts_disabled": _l("%(n)s accounts disabled"), "grants_ended": _l("%(n)s grants ended"),
    "audit_log_empty": _l("audit log empty"), "seq_signed": _l("signed up to event %(n)s"),
    "alertmanager_not_set": _l("no Alertmanager configured"), "silences_created": _l("%(n)s silences created"),
    "expired": _l("%(n)s expired"), "changed": _l("%(n)s changed"), "gone": _l("%(n)s gone"),
    "incidents": _l("%(n)s incidents opened"), "objects": _l("%(n)s objects read"),
    "reminded": _l("%(n)s reminded"), "escalated": _l("%(n)s escalated"),
    "closed_before": _l("closed before"), "signed_before": _l("signed before"),
    "restores_recorded": _l("%(n)s drill restores recorded"), "drills_reminded": _l("%(n)s drills announced"),
    "drills_overdue": _l("%(n)s drills overdue"), "plans_overdue": _l("%(n)s plans without a drill in time"),
    "follow_ups_overdue": _l("%(n)s follow-ups overdue"),
    "rectifications_overdue": _l("%(n)s rectification notices overdue"),
    "period": _l("period %(n)s"), "reports": _l("%(n)s reports delivered"),
    "delivered_before": _l("%(n)s delivered before"),
    "confirmations_reminded": _l("%(n)s confirmations reminded"),
    "confirmations_overdue": _l("%(n)s confirmations overdue"),
    "agreements_reminded": _l("%(n)s agreements reminded"), "agreements_expired": _l("%(n)s agreements expired"),
    "projects_checked": _l("%(n)s projects checked"),
}


def job_figures(figures):
    """Return the translated figures of a job run ({name: number}), in the job's order."""
    return [LazyText(JOB_FIGURE_LABELS[name].msgid, n=value) for name, value in (figures or {}).items()
            if name in JOB_FIGURE_LABELS]


def schedule_text(schedule):
    """Return a job's schedule ({"every_seconds": n} or {"cron": {...}}) in words: 每分钟, 每 5 分钟,
    每天 03:17, 每月 1 日 01:05; "" when the job is not in the store."""
    if "every_seconds" in schedule:
        seconds = schedule["every_seconds"]
        if seconds % 3600 == 0:
            return _l("every hour") if seconds == 3600 else _l("every %(n)d hours", n=seconds // 3600)
        if seconds % 60 == 0:
            return _l("every minute") if seconds == 60 else _l("every %(n)d minutes", n=seconds // 60)
        return _l("every %(n)d seconds", n=seconds)
    cron = schedule.get("cron")
    if cron is not None and set(cron) <= {"day", "hour", "minute"} and all(v.isdigit() for v in cron.values()):
        at = f"{int(cron.get('hour', 0)):02d}:{int(cron.get('minute', 0)):02d}"
        if "day" in cron:
            return _l("monthly on day %(day)s at %(time)s", day=cron["day"], time=at)
        return _l("daily at %(time)s", time=at)
    return ""


# OpenStack's service types (the catalog's names and the inventory's), Nova's server states, the
# collector's capacity figures (issue 17)
SERVICE_LABELS = {
    "compute": _l("Compute service"), "block-storage": _l("Block storage service"),
    "volumev3": _l("Block storage service"), "volumev2": _l("Block storage service"),
    "volume": _l("Block storage service"), "network": _l("Network service"), "image": _l("Image service"),
    "identity": _l("Identity service"), "placement": _l("Placement service"),
}
SERVER_STATUS_LABELS = {
    "ACTIVE": _l("Running"), "SHUTOFF": _l("Shut off"), "ERROR": _l("Error"), "BUILD": _l("Building"),
    "PAUSED": _l("Paused"), "SUSPENDED": _l("Suspended"), "REBOOT": _l("Rebooting"),
    "HARD_REBOOT": _l("Rebooting"), "RESIZE": _l("Resizing"), "VERIFY_RESIZE": _l("Resize to confirm"),
    "MIGRATING": _l("Migrating"), "RESCUE": _l("Rescue mode"), "SHELVED": _l("Shelved"),
    "SHELVED_OFFLOADED": _l("Shelved"), "DELETED": _l("Deleted"), "SOFT_DELETED": _l("Deleted"),
    "UNKNOWN": _l("Unknown"),
}
# capacity figure -> (label, divisor to its unit)
CAPACITY_LABELS = {"vcpus": (_l("vCPU (cores)"), 1), "memory_bytes": (_l("Memory (GB)"), 1024 ** 3),
                   "disk_bytes": (_l("Disk (GB)"), 1024 ** 3)}
# Placement's resource classes (the review's capacity check) -> (label, divisor to its unit)
PLACEMENT_LABELS = {"VCPU": (_l("vCPU (cores)"), 1), "MEMORY_MB": (_l("Memory (GB)"), 1024),
                    "DISK_GB": (_l("Disk (GB)"), 1)}
GENERATED_BY_LABELS = {"scheduler": _l("Scheduled job")}


def services_text(types, sep="、"):
    """Return OpenStack service types ("block-storage/volumev3" or a list) as their names, each once,
    joined by sep (the template's SEP)."""
    if isinstance(types, str):
        types = types.split("/")
    names = []
    for t in types:
        name = str(SERVICE_LABELS.get(t, t))
        if name not in names:
            names.append(name)
    return sep.join(names)


def probe_name(target, sep="、"):
    """Return a probe target's name for people: an OpenStack API endpoint by its services' names."""
    if target.kind == "openstack_api" and target.department_id is None:
        return services_text(target.name, sep)
    return target.name


# fields of the audit log's before/after values (the 变更内容 column); others are shown as code
AUDIT_FIELD_LABELS = {
    "state": _l("State"), "count": _l("Count"), "endpoint": _l("Page"), "method": _l("Method"), "path": _l("Address"),
    "system_name": _l("System name"), "system": _l("System"), "purpose": _l("Purpose"), "spec": _l("Resources"),
    "number": _l("Number"), "name": _l("Name"), "role": _l("Role"), "username": _l("Username"),
    "full_name": _l("Full name"), "reason": _l("Reason"), "note": _l("Note"), "comment": _l("Comment"),
    "title": _l("Title"), "kind": _l("Kind"), "department": _l("Department"), "department_id": _l("Department"),
    "enabled": _l("Enabled"), "receipt": _l("Delivery receipt"), "version": _l("Version"), "total": _l("Total"),
    "year": _l("Year"), "month": _l("Month"), "outcome": _l("Outcome"), "action": _l("Action"),
    "request_id": _l("Trace ID"), "code": _l("Code"), "level": _l("Level"), "email": _l("E-mail"),
    "phone": _l("Phone"), "size_gb": _l("Size (GB)"), "flavor": _l("Flavor"), "image": _l("Image"),
    "servers": _l("Servers"), "volumes": _l("Volumes"), "rules": _l("Security group rules"),
    "network": _l("Network"), "floating_ips": _l("Floating IPs"), "attempt": _l("Attempt"), "trigger": _l("Trigger"), "security_level": _l("Security protection level"),
    # issue 20: contacts and agreements
    "contacts_confirmed_at": _l("Last confirmed"), "important": _l("Important"), "parties": _l("Parties"),
    "signed_on": _l("Date signed"), "expires_on": _l("Expires on"), "filename": _l("File"), "system_id": _l("System"),
}


def size_text(size):
    """Return a file's size for people: 16 字节, 3.2 KB, 1.5 MB."""
    if size < 1024:
        return _l("%(n)d bytes", n=size)
    if size < 1024 ** 2:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 ** 2:.1f} MB"


def label(mapping, value):
    """Return the translated label of value, or value itself when unknown."""
    return mapping.get(value, value)


def run_state_label(state):
    """Return the translated name of a backup run state."""
    return RUN_STATE_LABELS.get(state, state)


def template_labels():
    """Every label table and the helpers, for the templates (registered once by the app)."""
    return {
        "ROLE_LABELS": ROLE_LABELS, "LEVEL_LABELS": LEVEL_LABELS, "ACTION_LABELS": ACTION_LABELS,
        "OUTCOME_LABELS": OUTCOME_LABELS, "OBJECT_LABELS": OBJECT_LABELS, "PROBLEM_LABELS": PROBLEM_LABELS,
        "STATE_LABELS": STATE_LABELS, "KIND_LABELS": KIND_LABELS, "JOB_STATE_LABELS": JOB_STATE_LABELS,
        "JOB_ACTION_LABELS": JOB_ACTION_LABELS, "state_label": state_label,
        "MAINTENANCE_KIND_LABELS": MAINTENANCE_KIND_LABELS, "MAINTENANCE_STATE_LABELS": MAINTENANCE_STATE_LABELS,
        "INCIDENT_STATE_LABELS": INCIDENT_STATE_LABELS, "INCIDENT_EVENT_LABELS": INCIDENT_EVENT_LABELS,
        "INCIDENT_KIND_LABELS": INCIDENT_KIND_LABELS, "MAINTENANCE_ANSWER_LABELS": MAINTENANCE_ANSWER_LABELS,
        "PROBE_KIND_LABELS": PROBE_KIND_LABELS, "PROBE_STATE_LABELS": PROBE_STATE_LABELS,
        "JOB_OUTCOME_LABELS": JOB_OUTCOME_LABELS, "GRANT_STATE_LABELS": GRANT_STATE_LABELS,
        "STATEMENT_STATE_LABELS": STATEMENT_STATE_LABELS,
        "RUN_STATE_LABELS": RUN_STATE_LABELS, "TRIGGER_LABELS": TRIGGER_LABELS, "KINDS_LABELS": KINDS_LABELS,
        "ARTIFACT_KIND_LABELS": ARTIFACT_KIND_LABELS, "ARTIFACT_STATUS_LABELS": ARTIFACT_STATUS_LABELS,
        "RESTORE_MODE_LABELS": RESTORE_MODE_LABELS, "RESTORE_STATE_LABELS": RESTORE_STATE_LABELS,
        "EXTRACTION_STATE_LABELS": EXTRACTION_STATE_LABELS,
        "TOKEN_SCOPE_LABELS": TOKEN_SCOPE_LABELS, "TOKEN_STATE_LABELS": TOKEN_STATE_LABELS,
        "STEP_LABELS": STEP_LABELS,
        "label": label, "run_state_label": run_state_label,
        "JOB_LABELS": JOB_LABELS, "job_figures": job_figures, "schedule_text": schedule_text,
        "SERVICE_LABELS": SERVICE_LABELS, "SERVER_STATUS_LABELS": SERVER_STATUS_LABELS,
        "CAPACITY_LABELS": CAPACITY_LABELS, "PLACEMENT_LABELS": PLACEMENT_LABELS, "GENERATED_BY_LABELS": GENERATED_BY_LABELS,
        "probe_name": probe_name, "services_text": services_text, "AUDIT_FIELD_LABELS": AUDIT_FIELD_LABELS,
        "size_text": size_text,
        "PROJECT_STATE_LABELS": PROJECT_STATE_LABELS, "PROJECT_TYPE_LABELS": PROJECT_TYPE_LABELS,
        "CONSTRUCTION_KIND_LABELS": CONSTRUCTION_KIND_LABELS, "FUNDING_SOURCE_LABELS": FUNDING_SOURCE_LABELS,
        "DOCUMENT_PURPOSE_LABELS": DOCUMENT_PURPOSE_LABELS, "DECISION_BODY_LABELS": DECISION_BODY_LABELS,
        "DECISION_STAGE_LABELS": DECISION_STAGE_LABELS, "DECISION_OUTCOME_LABELS": DECISION_OUTCOME_LABELS,
        "EXPERT_CONCLUSION_LABELS": EXPERT_CONCLUSION_LABELS, "ACCEPTANCE_OUTCOME_LABELS": ACCEPTANCE_OUTCOME_LABELS,
        "REVIEW_CHECKLIST_LABELS": REVIEW_CHECKLIST_LABELS,
    }

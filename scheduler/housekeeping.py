"""The scheduler's own jobs: notifications delivered to departments' contacts, old history pruned."""
from sqlalchemy import delete

from portal.database import utcnow
from portal.models.api import IDEMPOTENCY_KEEP, IdempotencyKey
from portal.models.operations import JobRun
from portal.services import accounts, contacts, drills, notifications, probes, sessions, timelimits
from portal.services.audit import RequestInfo

from . import runtime
from .history import JobResult, recorded
from .notify import DeliveryError, send_email, send_webhook


def deliver_pending(session, settings):
    """Send queued e-mails and webhook messages; return (sent, failed)."""
    max_attempts = int(settings.get("NOTIFY_MAX_ATTEMPTS") or 5)
    sent = failed = 0
    for item in notifications.pending(session):
        try:
            if item.channel == "email":
                send_email(settings, item.recipient, item.subject, item.body)
            else:
                payload = {"topic": item.topic, "subject": item.subject, "text": item.body,
                           "department": item.department_id, "link": item.link}
                if item.recipient:  # a person's SMS: the gateway needs the phone
                    payload["phone"] = item.recipient
                send_webhook(settings, settings.get("NOTIFY_WEBHOOK_URL") or "", payload)
        except DeliveryError as exc:
            notifications.mark_failed(item, exc, max_attempts)
            failed += 1
        else:
            notifications.mark_sent(item)
            sent += 1
        session.commit()
    return sent, failed


@recorded("deliver_notifications")
def deliver_notifications():
    """Send queued e-mails and webhook messages (inbox messages are delivered when written)."""
    rt = runtime.current()
    with runtime.session_scope() as session:
        sent, failed = deliver_pending(session, rt.settings)
    return JobResult.counted(sent=sent, failed_to_send=failed, failed=failed > 0)


@recorded("prune_history")
def prune_history():
    """Delete probe results and job runs older than the retention period, the API's
    Idempotency-Key answers older than a day, and login sessions that ended over a day ago."""
    with runtime.session_scope() as session:
        now = utcnow()
        cutoff = now - probes.RETENTION
        removed = probes.prune_results(session, cutoff)
        removed += session.execute(delete(JobRun).where(JobRun.started_at < cutoff)).rowcount
        removed += session.execute(delete(IdempotencyKey).where(
            IdempotencyKey.created_at < now - IDEMPOTENCY_KEEP)).rowcount
        removed += sessions.prune(session, now)
        session.commit()
    return JobResult.counted(rows_removed=removed)


@recorded("disable_unused_accounts")
def disable_unused_accounts():
    """Disable accounts without a login for ACCOUNT_MAX_IDLE_DAYS (each audited; an administrator
    can enable them again)."""
    days = int(runtime.current().settings.get("ACCOUNT_MAX_IDLE_DAYS") or 0)
    with runtime.session_scope() as session:
        disabled = accounts.disable_unused(session, RequestInfo(correlation_id="scheduler"), days)
    return JobResult.counted(accounts_disabled=disabled)


@recorded("time_limits")
def time_limits():
    """Remind whoever must act before a step's time limit (办理时限) ends, and escalate overdue steps
    to the bureau, once each (the deliver_notifications job sends them)."""
    with runtime.session_scope() as session:
        reminded, escalated = timelimits.send_notices(session, runtime.current().settings, utcnow())
    return JobResult.counted(reminded=reminded, escalated=escalated)


@recorded("drill_reminders")
def drill_reminders():
    """Emergency drills (第二十三条) and rectification (第二十条): record drill restores that ended,
    announce drills coming within a week, flag once each what is late (scheduled drills past their
    day, plans without a drill in their interval, follow-ups and rectification notices past their
    due day) to whoever must act and the bureau."""
    rt = runtime.current()
    with runtime.session_scope() as session:
        figures = drills.send_reminders(session, RequestInfo(correlation_id="scheduler:drill_reminders"),
                                        rt.settings, utcnow())
    return JobResult.counted(**figures)


@recorded("contact_confirmations")
def contact_confirmations():
    """第二十六条, 第十七条: remind departments before their contacts confirmation is due and tell the
    bureau once it is overdue; remind before a confidentiality agreement expires and tell the bureau
    once it has; each once per threshold (duty_notice)."""
    with runtime.session_scope() as session:
        counts = contacts.send_notices(session, runtime.current().settings, utcnow())
    return JobResult.counted(confirmations_reminded=counts["confirm_remind"],
                             confirmations_overdue=counts["confirm_overdue"],
                             agreements_reminded=counts["agreement_remind"],
                             agreements_expired=counts["agreement_expired"])

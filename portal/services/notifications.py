"""Queue messages to a department's contacts (第二十六条); a scheduler job delivers them."""
from sqlalchemy import select

from ..database import utcnow
from ..models.accounts import Department, User
from ..models.operations import Notification, NotificationChannel, NotificationState


def department_recipients(session, department):
    """Return the e-mail addresses of a department's contacts: IT lead, then its administrators."""
    addresses = []
    if department.it_lead_email:
        addresses.append(department.it_lead_email)
    admins = session.scalars(select(User.email).where(
        User.department_id == department.id, User.is_department_admin.is_(True),
        User.is_active_account.is_(True), User.email != ""))
    for email in admins:
        if email not in addresses:
            addresses.append(email)
    return addresses


def notify_department(session, settings, department_id, *, subject, body, topic):
    """Queue e-mails to the department's contacts and a webhook message; return the rows."""
    department = session.get(Department, department_id)
    if department is None:
        return []
    rows = []
    if settings.get("SMTP_HOST"):
        for address in department_recipients(session, department):
            rows.append(Notification(department_id=department.id, channel=NotificationChannel.EMAIL,
                                     recipient=address, subject=subject, body=body, topic=topic))
    if settings.get("NOTIFY_WEBHOOK_URL"):
        rows.append(Notification(department_id=department.id, channel=NotificationChannel.WEBHOOK,
                                 recipient=settings["NOTIFY_WEBHOOK_URL"], subject=subject, body=body,
                                 topic=topic))
    session.add_all(rows)
    return rows


def pending(session, limit=100):
    """Return queued notifications, oldest first."""
    return list(session.scalars(select(Notification)
                                .where(Notification.state == NotificationState.PENDING)
                                .order_by(Notification.id).limit(limit)))


def mark_sent(notification):
    notification.state = NotificationState.SENT
    notification.attempts += 1
    notification.sent_at = utcnow()
    notification.last_error = ""


def mark_failed(notification, error, max_attempts):
    """Count a failed attempt; after max_attempts the notification stays failed."""
    notification.attempts += 1
    notification.last_error = str(error)[:255]
    if notification.attempts >= max_attempts:
        notification.state = NotificationState.FAILED

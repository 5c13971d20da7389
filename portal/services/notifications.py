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


def _queue(session, settings, department_id, addresses, *, subject, body, topic):
    """Queue an e-mail to each address (when SMTP is set) and one webhook message (when set)."""
    rows = []
    if settings.get("SMTP_HOST"):
        for address in addresses:
            rows.append(Notification(department_id=department_id, channel=NotificationChannel.EMAIL,
                                     recipient=address, subject=subject, body=body, topic=topic))
    if settings.get("NOTIFY_WEBHOOK_URL"):
        rows.append(Notification(department_id=department_id, channel=NotificationChannel.WEBHOOK,
                                 recipient=settings["NOTIFY_WEBHOOK_URL"], subject=subject, body=body,
                                 topic=topic))
    session.add_all(rows)
    return rows


def notify_department(session, settings, department_id, *, subject, body, topic):
    """Queue e-mails to the department's contacts and a webhook message; return the rows."""
    department = session.get(Department, department_id)
    if department is None:
        return []
    addresses = department_recipients(session, department) if settings.get("SMTP_HOST") else []
    return _queue(session, settings, department.id, addresses, subject=subject, body=body, topic=topic)


def notify_role(session, settings, role, *, subject, body, topic, department_id=None):
    """Queue e-mails to the active users of a role (the bureau, the vendor) that have an address, and
    a webhook message; return the rows. department_id: the department the message is about."""
    users = session.scalars(select(User).where(User.role == role, User.is_active_account.is_(True))
                            .order_by(User.id)) if settings.get("SMTP_HOST") else []
    addresses = list(dict.fromkeys(u.email for u in users if u.email))
    return _queue(session, settings, department_id, addresses, subject=subject, body=body, topic=topic)


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

"""Notifications: every user has an inbox in the portal; e-mail and SMS (through the webhook of an SMS
gateway) go out as each user chose, and e-mail to a department's IT lead (第二十六条). Inbox messages
are delivered when written; a scheduler job sends the e-mails and webhook messages.

Addresses and phones are personal data: sealed in the notification row, masked in any message
about them (crypto.masking), never written to a log in clear.
"""
from dataclasses import dataclass

from sqlalchemy import func, select, update

from ..crypto.masking import mask_email, mask_phone
from ..database import utcnow
from ..errors import NotFound
from ..models.accounts import Department, User
from ..models.operations import Notification, NotificationChannel, NotificationPreference, NotificationState
from ..pagination import paginate
from ..text import _l
from .audit import record_event

C = NotificationChannel


@dataclass(frozen=True)
class Preferences:
    email: bool = True
    sms: bool = False


@dataclass(frozen=True)
class Channels:
    """Which outgoing channels the operator configured (settings)."""
    email: bool
    webhook: bool

    @classmethod
    def of(cls, settings):
        return cls(email=bool(settings.get("SMTP_HOST")), webhook=bool(settings.get("NOTIFY_WEBHOOK_URL")))


def masked(channel, recipient):
    """The recipient as it may appear in a message or a log line."""
    if channel == C.EMAIL:
        return mask_email(recipient)
    return mask_phone(recipient) if recipient else ""


def preferences_of(session, user_id):
    row = session.get(NotificationPreference, user_id)
    return Preferences() if row is None else Preferences(email=row.email, sms=row.sms)


def set_preferences(session, ctx, user, *, email, sms):
    """Save user's choice of e-mail and SMS (the inbox is always on); audited, committed."""
    row = session.get(NotificationPreference, user.id)
    before = preferences_of(session, user.id)
    if row is None:
        row = NotificationPreference(user_id=user.id)
        session.add(row)
    row.email, row.sms = bool(email), bool(sms)
    record_event(session, ctx, "notification.preferences", object_type="user", object_id=user.id,
                 department_id=user.department_id, before=before.__dict__,
                 after={"email": row.email, "sms": row.sms})
    session.commit()
    return preferences_of(session, user.id)


def _outgoing(user, prefs, channels):
    """(channel, recipient) pairs to send to user besides the inbox."""
    out = []
    if channels.email and prefs.email and user.email:
        out.append((C.EMAIL, user.email))
    if channels.webhook and prefs.sms and user.phone:
        out.append((C.WEBHOOK, user.phone))
    return out


def notify_users(session, settings, users, *, subject, body, topic, link="", department_id=None):
    """Write an inbox message for each active user and queue their e-mail / SMS; return the rows."""
    channels = Channels.of(settings)
    rows, now, seen = [], utcnow(), set()
    for user in users:
        if user.id in seen or not user.is_active_account:
            continue
        seen.add(user.id)
        common = dict(department_id=department_id if department_id is not None else user.department_id,
                      user_id=user.id, subject=subject, body=body, topic=topic, link=link)
        rows.append(Notification(channel=C.INBOX, state=NotificationState.SENT, sent_at=now, **common))
        for channel, recipient in _outgoing(user, preferences_of(session, user.id), channels):
            rows.append(Notification(channel=channel, recipient=recipient, **common))
    session.add_all(rows)
    return rows


def department_users(session, department_id):
    return list(session.scalars(select(User).where(User.department_id == department_id,
                                                   User.is_active_account.is_(True)).order_by(User.id)))


def users_with_roles(session, *roles):
    return list(session.scalars(select(User).where(User.role.in_(roles),
                                                   User.is_active_account.is_(True)).order_by(User.id)))


def notify_department(session, settings, department_id, *, subject, body, topic, link=""):
    """Notify every user of the department (inbox, and their own choices), e-mail its IT lead and
    post to the webhook once for the department; return the rows."""
    department = session.get(Department, department_id)
    if department is None:
        return []
    rows = notify_users(session, settings, department_users(session, department.id), subject=subject,
                        body=body, topic=topic, link=link, department_id=department.id)
    channels = Channels.of(settings)
    addresses = {r.recipient for r in rows if r.channel == C.EMAIL}
    common = dict(department_id=department.id, subject=subject, body=body, topic=topic, link=link)
    extra = []
    if channels.email and department.it_lead_email and department.it_lead_email not in addresses:
        extra.append(Notification(channel=C.EMAIL, recipient=department.it_lead_email, **common))
    if channels.webhook:  # the department's message to the gateway or group robot, no phone
        extra.append(Notification(channel=C.WEBHOOK, recipient="", **common))
    session.add_all(extra)
    return rows + extra


def notify_roles(session, settings, roles, *, subject, body, topic, link="", department_id=None):
    """Notify every active user of roles (e.g. the bureau); return the rows."""
    return notify_users(session, settings, users_with_roles(session, *roles), subject=subject, body=body,
                        topic=topic, link=link, department_id=department_id)


def summary(rows):
    """How many people got an inbox message and how many e-mails / webhook messages were queued."""
    return {"people": sum(1 for r in rows if r.channel == C.INBOX),
            "email": sum(1 for r in rows if r.channel == C.EMAIL),
            "webhook": sum(1 for r in rows if r.channel == C.WEBHOOK)}


# --- the inbox ----------------------------------------------------------------------------

def _inbox(user):
    return select(Notification).where(Notification.user_id == user.id, Notification.channel == C.INBOX)


def unread_count(session, user):
    return session.scalar(select(func.count()).select_from(
        _inbox(user).where(Notification.read_at.is_(None)).subquery()))


def list_inbox(session, user, *, unread=False, page=1, per_page=20):
    """One page of user's inbox, newest first."""
    stmt = _inbox(user)
    if unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    return paginate(session, stmt.order_by(Notification.created_at.desc(), Notification.id.desc()),
                    page, per_page)


def get_message(session, user, message_id):
    message = session.scalars(_inbox(user).where(Notification.id == message_id)).one_or_none()
    if message is None:
        raise NotFound(_l("Inbox message"), message_id)
    return message


def mark_read(session, user, message_id):
    """Mark one of user's messages read (again: no change); committed."""
    message = get_message(session, user, message_id)
    if message.read_at is None:
        message.read_at = utcnow()
        session.commit()
    return message


def mark_all_read(session, user):
    """Mark every unread message of user read; return how many; committed."""
    count = session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.channel == C.INBOX,
        Notification.read_at.is_(None)).values(read_at=utcnow())).rowcount
    session.commit()
    return count


# --- the delivery job's side ----------------------------------------------------------------

def pending(session, limit=100):
    """Return queued e-mails and webhook messages, oldest first."""
    return list(session.scalars(select(Notification)
                                .where(Notification.state == NotificationState.PENDING,
                                       Notification.channel != C.INBOX)
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

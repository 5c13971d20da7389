"""Deliver notifications: e-mail over SMTP and JSON webhooks (no Flask, no database)."""
import json
import smtplib
import urllib.error
import urllib.request
from email.message import EmailMessage

from portal.crypto.fields import read_secret
from portal.services.notifications import masked


class DeliveryError(Exception):
    """A notification could not be delivered; the message says why, the address or phone masked
    (the message is stored and may be logged)."""

    def __init__(self, channel, recipient, reason):
        self.channel = channel
        shown = masked(channel, recipient) if channel == "email" else "webhook"
        reason = str(reason)
        if recipient:
            reason = reason.replace(recipient, shown)
        super().__init__(f"{channel} to {shown} failed: {reason}")


def send_email(settings, recipient, subject, body):
    """Send one plain-text e-mail through the configured SMTP server."""
    message = EmailMessage()
    message["From"] = settings.get("SMTP_FROM") or "govcloud@localhost"
    message["To"] = recipient
    message["Subject"] = subject
    message.set_content(body)
    try:
        with smtplib.SMTP(settings["SMTP_HOST"], int(settings.get("SMTP_PORT") or 25),
                          timeout=float(settings.get("SMTP_TIMEOUT_SECONDS") or 10)) as smtp:
            if settings.get("SMTP_STARTTLS"):
                smtp.starttls()
            if settings.get("SMTP_USERNAME"):
                smtp.login(settings["SMTP_USERNAME"], read_secret(settings, "SMTP_PASSWORD") or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError("email", recipient, exc) from exc


def send_webhook(settings, url, payload):
    """POST payload as JSON to url; any 2xx answer counts as delivered."""
    if not url:
        raise DeliveryError("webhook", "", "NOTIFY_WEBHOOK_URL is not set")
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=float(settings.get("WEBHOOK_TIMEOUT_SECONDS") or 10)) as resp:
            if not 200 <= resp.status < 300:
                raise DeliveryError("webhook", url, f"HTTP {resp.status}")
    except urllib.error.HTTPError as exc:
        exc.close()
        raise DeliveryError("webhook", url, f"HTTP {exc.code}") from None
    except OSError as exc:  # URLError is an OSError
        raise DeliveryError("webhook", url, exc) from exc

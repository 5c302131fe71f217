"""Sending e-mail: through the configured SMTP server, or into the log in development. Here, below
the portal and the jobs, because both send mail (the scheduled statement finalization mails
sellers from a worker).

The account mails (portal/auth/account_mail.py: reset links, verification links, "you already
have an account") use it, from the mail outbox's thread (portal/mail_outbox.py), never on a
request's path. Without SMTP_HOST nothing is sent and the whole message (with its link) is
logged, so a developer can follow the link from the log.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import Protocol

_log = logging.getLogger(__name__)
_TIMEOUT_SECONDS = 10


class MailConfig(Protocol):
    """What sending needs of the configuration (settings.Settings has it; models/ does not
    import the settings, callers pass them in)."""

    smtp_host: str
    smtp_port: int
    smtp_username: str
    smtp_password: str
    smtp_starttls: bool
    mail_from: str


def send_mail(settings: MailConfig, *, to: str, subject: str, body: str) -> None:
    """Send a plain-text mail; raises OSError / smtplib.SMTPException when the server refuses it."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    if not settings.smtp_host:
        _log.info("SMTP_HOST is not set; this mail was not sent:\n%s", message.as_string())
        return
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=_TIMEOUT_SECONDS) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(message)

"""The "statement final" mail (§13), one text for the portal's finalization (console, API:
portal/statements/actions.py, through the mail outbox) and the scheduled one (jobs/statements.py,
from the worker), so a seller is told the same way whoever finalized the month."""

from __future__ import annotations

import logging
import smtplib
from datetime import date
from typing import Protocol

from sqlalchemy import Engine, text

from models.formatting import won
from models.mailer import MailConfig, send_mail
from models.money.months import month_label

_log = logging.getLogger(__name__)


class NoticeConfig(MailConfig, Protocol):
    """The mail server and where links point (settings.Settings has both)."""

    def public_url(self, path: str) -> str: ...


def statement_path(month: str) -> str:
    """Where a seller reads the statement of `month` (YYYY-MM): portal/statements' detail page."""
    return f"/statements/{month}"


def statement_final_text(month: str, earnings: int, link: str) -> tuple[str, str]:
    """(subject, text after the greeting) of the mail that tells a seller their statement of
    `month` is final."""
    return (f"Your PaySystem statement for {month} is final",
            f"your statement for {month} is final: earnings {won(earnings)}.\n\nSee it (and its PDF) here:\n\n{link}\n")


def mail_statements_final(settings: NoticeConfig, engine: Engine, month: date) -> int:
    """Mail every seller with a final statement of `month` that still has an address; how many
    were sent. A mail the server refuses is logged and the others still go."""
    label = month_label(month)
    link = settings.public_url(statement_path(label))
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT u.email, u.display_name, s.earnings FROM statements s JOIN users u ON u.id = s.seller_id "
            "WHERE s.month = :m AND u.email IS NOT NULL ORDER BY s.seller_id"), {"m": month}).all()
    sent = 0
    for address, name, earnings in rows:
        subject, body = statement_final_text(label, int(earnings), link)
        try:
            send_mail(settings, to=address, subject=subject, body=f"Hello {name},\n\n{body}")
            sent += 1
        except (OSError, smtplib.SMTPException) as exc:
            _log.error("could not mail the final statement of %s to %s: %s", label, address, exc)
    return sent

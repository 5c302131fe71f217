"""The §13 mails (statement final, payout paid, payout failed, payout details changed),
composed and sent as outbox work (portal/mail_outbox.py) like the account mails: each
function runs off the request, in the app context, reads the address from the database and
sends one plain-text mail. A failure of the mail server is logged by the outbox."""

from __future__ import annotations

from datetime import datetime

from models.accounts.users import User
from models.formatting import won
from models.mailer import send_mail
from models.money.notices import statement_final_text
from portal.database import session_factory
from portal.presentation import local_time
from portal.settings import settings


def _mail_seller(seller_id: int, subject: str, text: str) -> None:
    """Mail `text` (after a greeting) to the seller's address, if they still have one."""
    with session_factory()() as db:
        user = db.get(User, seller_id)
        if user is None or not user.email:
            return
        address, name = user.email, user.display_name
    send_mail(settings(), to=address, subject=subject, body=f"Hello {name},\n\n{text}")


def send_details_changed_mail(seller_id: int, fields: tuple[str, ...], when: datetime) -> None:
    """Tell the seller their payout details changed (which fields, never the values), so a
    change they did not make does not go unnoticed."""
    names = ", ".join(f.replace("_", " ") for f in fields)
    _mail_seller(seller_id, "Your PaySystem payout details were changed", (
        f"the payout details of your PaySystem account were changed at {local_time(when)}: {names}.\n\n"
        "If you did not make this change, change your password now (that signs out every other session) "
        "and tell us: payouts go to the account on file."))


def send_statement_final_mail(seller_id: int, month: str, earnings: int, link: str) -> None:
    _mail_seller(seller_id, *statement_final_text(month, earnings, link))


def send_payout_paid_mail(seller_id: int, reference: str, net: int) -> None:
    _mail_seller(seller_id, "Your PaySystem payout was paid", (
        f"your payout {reference} of {won(net)} (after withholding) was paid to your bank account.\n"))


def send_payout_failed_mail(seller_id: int, reference: str, net: int, reason: str) -> None:
    _mail_seller(seller_id, "Your PaySystem payout failed", (
        f"your payout {reference} of {won(net)} could not be paid: {reason}.\n\n"
        "The amount is back in your balance and will be paid with a later run. Please check your payout details.\n"))

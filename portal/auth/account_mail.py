"""The mails about accounts, composed and sent as work for the outbox (portal/mail_outbox.py):
each function runs off the request path, inside the app context, and decides there — from
the database — whether and what to send, so the request that handed it over did the same
work for every address. A failure of the mail server is logged by the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models import Role
from models.accounts.email_change import EMAIL_CHANGE
from models.accounts.recovery import RESET_TOKEN_LIFETIME, request_reset
from models.accounts.verification import VERIFY_LINK_LIFETIME, register
from models.mailer import send_mail
from portal.database import session_factory
from portal.settings import settings


def _hours(lifetime_seconds: float) -> str:
    minutes = int(lifetime_seconds // 60)
    return f"{minutes // 60} hours" if minutes >= 120 else f"{minutes} minutes"


def send_reset_mail(email: str, token: str, link: str, now: datetime) -> None:
    """Store the reset link for an active account under its hourly limit, and mail it."""
    with session_factory()() as db:
        user = request_reset(db, email, token, now)
        if user is None or not user.email:
            return
        address, name = user.email, user.display_name
    send_mail(settings(), to=address, subject="Reset your PaySystem password", body=(
        f"Hello {name},\n\nsomeone (hopefully you) asked to reset the password of your PaySystem account. "
        f"Open this link within {_hours(RESET_TOKEN_LIFETIME.total_seconds())} to choose a new one:\n\n{link}\n\n"
        "The link works once. If you did not ask for it, ignore this mail: your password stays as it is."
    ))


def send_verification_mail(address: str, name: str, link: str) -> None:
    """The link that proves `address` is its owner's (sign-up, or "send it again")."""
    send_mail(settings(), to=address, subject="Confirm your PaySystem e-mail address", body=(
        f"Hello {name},\n\nplease confirm that this is your e-mail address by opening this link within "
        f"{_hours(VERIFY_LINK_LIFETIME.total_seconds())}:\n\n{link}\n\n"
        "The link works once. If you did not sign up for PaySystem, ignore this mail."
    ))


@dataclass(frozen=True)
class SignUpLinks:
    """The absolute links a sign-up mail may hold (from PUBLIC_BASE_URL, made in the request)."""

    verify: str
    sign_in: str
    forgot: str


def sign_up_and_mail(*, email: str, password: str, role: Role, display_name: str | None, token: str,
                     links: SignUpLinks, now: datetime) -> None:
    """Sign-up's work: a new account gets its verification link; a registered address gets a
    note that it already has an account (the page said the same to both)."""
    with session_factory()() as db:
        user, created = register(db, email=email, password=password, role=role, display_name=display_name,
                                 token=token, now=now)
        address, name = user.email or email, user.display_name
    if created:
        send_verification_mail(address, name, links.verify)
        return
    send_mail(settings(), to=address, subject="You already have a PaySystem account", body=(
        f"Hello {name},\n\nsomeone (hopefully you) tried to sign up for PaySystem with this e-mail address, "
        f"but you already have an account. Sign in here:\n\n{links.sign_in}\n\n"
        f"Forgot your password? Choose a new one here:\n\n{links.forgot}\n\n"
        "If it was not you, ignore this mail: nothing has changed."
    ))


def send_email_change_mails(*, new_address: str, old_address: str | None, name: str, link: str) -> None:
    """The confirmation link to the new address, and a note to the old one (so an account taken
    over through an open session does not move without its owner hearing of it)."""
    send_mail(settings(), to=new_address, subject="Confirm your new PaySystem e-mail address", body=(
        f"Hello {name},\n\nyou asked to use this address for your PaySystem account. Open this link within "
        f"{_hours(EMAIL_CHANGE.lifetime.total_seconds())} to make the change:\n\n{link}\n\n"
        "The link works once. If you did not ask for it, ignore this mail: nothing changes."
    ))
    if old_address:
        send_mail(settings(), to=old_address, subject="Your PaySystem e-mail address is being changed", body=(
            f"Hello {name},\n\nsomeone signed in to your PaySystem account asked to move it to {new_address}. "
            "It moves only when the link we sent there is opened. If this was not you, change your password "
            "now: that signs out every other session."
        ))

"""Changing an account's e-mail address (issue 21, item 14): the new address must prove itself.

The account page asks for the new address (and the password, for an account that has one);
a single-use link goes to the new address (models/accounts/mailed_links.py, purpose "email"), and only
following it moves the account, marking the address verified. Until then the old address
stays the account's, for sign-in and mail. An address that belongs to another account gets the
same answer on the page and no link: the form does not tell who is registered.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.accounts.mailed_links import LinkPurpose, reserve_link, spend_link_row
from models.accounts.passwords import verify_password
from models.accounts.service import AccountError, normalize_email
from models.accounts.users import User

EMAIL_CHANGE = LinkPurpose("email", "confirmation link", timedelta(hours=24), 3)


def request_email_change(db: Session, user: User, new_email: str, password: str, token: str,
                         now: datetime) -> str | None:
    """Check the request and store `token` as the link that moves `user` to `new_email`
    (committed). Returns the normalized address to mail the link to, or None when no link is
    to be sent (the address is another account's, or the hourly limit is reached): the caller
    answers the same either way. Raises AccountError for a wrong password or a bad address."""
    if user.password_hash and not verify_password(user.password_hash, password):
        raise AccountError("That is not your current password.", code="wrong_password")
    address = normalize_email(new_email)
    if address == user.email:
        raise AccountError("That is already your address.", code="same_email")
    taken = db.scalar(select(User.id).where(User.email == address))
    db.rollback()  # the limit's lock comes first in its own transaction
    if taken is not None:
        return None
    return address if reserve_link(db, user.id, token, EMAIL_CHANGE, now, new_email=address) else None


def confirm_email_change(db: Session, token: str, now: datetime) -> User:
    """Follow the link: the account takes the new address, verified (committed). LinkError for
    an unknown, spent or expired link; AccountError when the address was taken meanwhile."""
    link, user = spend_link_row(db, token, EMAIL_CHANGE, now)
    user.email, user.email_verified_at = link.new_email, now
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise AccountError("That address now belongs to another account; the change was not made.",
                           kind="conflict", code="email_taken") from None
    return user

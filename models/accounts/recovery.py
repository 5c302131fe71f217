"""Account recovery: single-use, expiring password-reset links (issue 14, item 6), on the
mailed-link machinery of models/accounts/mailed_links.py.

Using a link changes the password through models.accounts.service.change_password, the one function
that also ends the account's other sessions and API tokens.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from models.accounts.mailed_links import (
    LinkError,
    LinkPurpose,
    MailedLink,
    link_owner,
    new_link_token,
    reserve_link,
    spend_link,
    store_link,
)
from models.accounts.service import AccountError, change_password, find_user_by_email
from models.accounts.users import User

# How long a reset link works: long enough to reach the mailbox, short enough to be safe.
RESET_TOKEN_LIFETIME = timedelta(hours=1)
# At most this many reset links per account per hour: the form cannot be used to flood a mailbox.
RESET_MAILS_PER_HOUR = 3
RESET = LinkPurpose("reset", "reset link", RESET_TOKEN_LIFETIME, RESET_MAILS_PER_HOUR)

# A reset link that cannot be used (unknown, spent, expired); the message is safe to show.
RecoveryError = LinkError
new_reset_token = new_link_token

__all__ = ["RESET", "AccountError", "MailedLink", "RecoveryError", "create_reset_token", "new_reset_token",
           "request_reset", "reset_password", "user_for_reset_token"]


def create_reset_token(db: Session, user: User, now: datetime) -> str:
    """A new reset token for `user` (committed), whatever the hourly limit; earlier unused ones
    stop working. The "forgot password" form goes through `request_reset` instead."""
    token = new_link_token()
    store_link(db, user.id, token, RESET, now)
    db.commit()
    return token


def request_reset(db: Session, email: str, token: str, now: datetime) -> User | None:
    """Store `token` as `email`'s reset link if that is an active account under its hourly
    limit (committed): the account to mail the link to, or None (no such account, switched
    off, or `RESET_MAILS_PER_HOUR` links sent in the last hour; models/accounts/mailed_links.py
    `reserve_link` keeps the limit under parallel requests)."""
    user = find_user_by_email(db, email)
    user_id = user.id if user is not None and user.is_active and user.email else None
    db.rollback()  # reserve_link takes its lock first, in a transaction of its own
    if user_id is None or not reserve_link(db, user_id, token, RESET, now):
        return None
    return db.get(User, user_id)


def user_for_reset_token(db: Session, token: str, now: datetime) -> tuple[MailedLink, User]:
    """The link row and its active user, or RecoveryError (unknown, used, expired)."""
    return link_owner(db, token, RESET, now)


def reset_password(db: Session, token: str, new_password: str, now: datetime) -> User:
    """Use a reset link: spend it and set the new password, in one unit of work (committed).

    Of several submissions of one link at the same moment only one spends it (`spend_link`);
    a refused new password rolls the spending back with it, so the link still works.
    """
    user = spend_link(db, token, RESET, now)
    change_password(db, user, new_password)  # commits both, or rolls back both on a bad password
    return user

"""E-mail verification (issue 18, item 16): sign-up makes an unverified account and mails a
single-use, expiring link (models/accounts/mailed_links.py, like password resets); following it marks
the address verified. Unverified accounts can sign in and watch; payouts need a verified
address (SPEC §13: `User.is_verified`).

Sign-up answers the same whether or not the address is registered; which mail goes out —
the link, or a note that the account exists — is decided here, off the request path.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from models.accounts.mailed_links import LinkPurpose, reserve_link, spend_link, store_link
from models.accounts.service import EmailTaken, create_user, find_user_by_email
from models.accounts.users import Role, User

# Long enough for a mail that lands in the spam folder over a weekend.
VERIFY_LINK_LIFETIME = timedelta(hours=48)
# Links (sign-up's and the account page's "send it again") per account per hour.
VERIFY_MAILS_PER_HOUR = 3
VERIFY = LinkPurpose("verify", "verification link", VERIFY_LINK_LIFETIME, VERIFY_MAILS_PER_HOUR)


def register(db: Session, *, email: str, password: str, role: Role, display_name: str | None, token: str,
             now: datetime) -> tuple[User, bool]:
    """Sign-up: a new, unverified account with `token` as its verification link (committed),
    and True; or the account that already has this address, and False (nothing changed).

    Raises AccountError for input the account rules refuse (bad address, short password)."""
    try:
        user = create_user(db, email=email, password=password, role=role, display_name=display_name,
                           verified=False)
    except EmailTaken:
        db.rollback()
        existing = find_user_by_email(db, email)
        if existing is None:  # deleted in between: nothing to tell anyone
            raise
        return existing, False
    store_link(db, user.id, token, VERIFY, now)
    db.commit()
    return user, True


def request_verification(db: Session, user_id: int, token: str, now: datetime) -> bool:
    """Store `token` as the account's new verification link unless it had VERIFY_MAILS_PER_HOUR
    in the last hour (committed); whether it was stored. Ends the caller's open transaction
    first (the limit's lock must come first in its own)."""
    db.rollback()
    return reserve_link(db, user_id, token, VERIFY, now)


def verify_email(db: Session, token: str, now: datetime) -> User:
    """Follow a verification link: spend it and mark the address verified (committed), or
    LinkError (unknown, used, expired)."""
    user = spend_link(db, token, VERIFY, now)
    if user.email_verified_at is None:
        user.email_verified_at = now
    db.commit()
    return user

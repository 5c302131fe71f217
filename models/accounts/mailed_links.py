"""Single-use, expiring links sent by mail: password reset (models/accounts/recovery.py) and e-mail
verification (models/accounts/verification.py), one machinery for both.

Only a SHA-256 of the token is stored, so a leaked database cannot be used to follow a link.
Each purpose has its lifetime and an hourly limit per account (so a form cannot flood a
mailbox); only the newest link of an account and purpose works; spending a link is one
conditional UPDATE whose row count decides, so a link submitted several times at once works
exactly once, on MariaDB and SQLite alike.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.accounts.users import User
from models.base import TABLE_ARGS, Base, BigId, UTCDateTime, utcnow
from models.db import sqlite_write_lock
from models.errors import DomainError


@dataclass(frozen=True)
class LinkPurpose:
    """What a kind of link is for, how long it works and how many an account gets an hour."""

    name: str  # stored in mailed_links.purpose
    noun: str  # "reset link", in the messages shown to people
    lifetime: timedelta
    per_hour: int


class MailedLink(Base):
    """One mailed link (its token's digest) of one account, for one purpose."""

    # The table was made for password resets (migration 0003) and keeps its name.
    __tablename__ = "password_reset_tokens"
    __table_args__ = (TABLE_ARGS,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # LinkPurpose.name: "reset", "verify" (migration 0008) or "email" (migration 0009).
    purpose: Mapped[str] = mapped_column(String(16), default="reset", server_default="reset")
    # The address an "email" link moves the account to once followed (migration 0009).
    new_email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LinkError(DomainError, ValueError):
    """A mailed link that cannot be used (unknown, spent, expired); the message is safe to show."""

    kind = "conflict"
    code = "link_unusable"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_link_token() -> str:
    """A fresh random token for a link (only its digest is ever stored)."""
    return secrets.token_urlsafe(32)


def store_link(db: Session, user_id: int, token: str, purpose: LinkPurpose, now: datetime, *,
               new_email: str | None = None) -> None:
    """Add `token` as the account's link for `purpose` (not committed); earlier unused ones stop
    working, so a mailbox holding several cannot be used with an old one."""
    db.execute(update(MailedLink)
               .where(MailedLink.user_id == user_id, MailedLink.purpose == purpose.name,
                      MailedLink.used_at.is_(None))
               .values(used_at=now))
    db.add(MailedLink(user_id=user_id, token_hash=_digest(token), purpose=purpose.name, created_at=now,
                      expires_at=now + purpose.lifetime, new_email=new_email))


def reserve_link(db: Session, user_id: int, token: str, purpose: LinkPurpose, now: datetime, *,
                 new_email: str | None = None) -> bool:
    """Store `token` as the account's link for `purpose` unless it has had `purpose.per_hour`
    links in the last hour (committed); whether it was stored.

    Call with no transaction open: the count and the insert happen under the account row's
    lock (a locking read on MariaDB, the write lock on SQLite, taken first), so parallel
    requests count each other's links and the limit holds.
    """
    sqlite_write_lock(db)
    db.execute(select(User.id).where(User.id == user_id).with_for_update())
    sent = db.scalar(select(func.count()).select_from(MailedLink)
                     .where(MailedLink.user_id == user_id, MailedLink.purpose == purpose.name,
                            MailedLink.created_at >= now - timedelta(hours=1))
                     .with_for_update()) or 0
    if sent >= purpose.per_hour:
        db.rollback()
        return False
    store_link(db, user_id, token, purpose, now, new_email=new_email)
    db.commit()
    return True


def link_owner(db: Session, token: str, purpose: LinkPurpose, now: datetime) -> tuple[MailedLink, User]:
    """The link row and its active account, or LinkError (unknown, used, expired, switched off)."""
    if not token or len(token) > 200:
        raise LinkError(f"This {purpose.noun} is not valid.")
    row = db.execute(select(MailedLink, User).join(User, User.id == MailedLink.user_id)
                     .where(MailedLink.token_hash == _digest(token), MailedLink.purpose == purpose.name)
                     .execution_options(populate_existing=True)).one_or_none()
    if row is None:
        raise LinkError(f"This {purpose.noun} is not valid. Ask for a new one.")
    link, user = row
    if link.used_at is not None:
        raise _spent(purpose)
    if link.expires_at <= now:
        minutes = int(purpose.lifetime.total_seconds() // 60)
        raise LinkError(f"This {purpose.noun} has expired (links work for {minutes} minutes). Ask for a new one.")
    if not user.is_active:
        raise LinkError("This account is switched off; contact an administrator.")
    return link, user


def _spent(purpose: LinkPurpose) -> LinkError:
    return LinkError(f"This {purpose.noun} has already been used, or a newer one was sent. Ask for a new one.")


def spend_link(db: Session, token: str, purpose: LinkPurpose, now: datetime) -> User:
    """`spend_link_row` for callers that need only the account."""
    return spend_link_row(db, token, purpose, now)[1]


def spend_link_row(db: Session, token: str, purpose: LinkPurpose, now: datetime) -> tuple[MailedLink, User]:
    """Mark the link used and return it with its account, inside the caller's unit of work (not
    committed: the caller commits it with what the link was for), or roll back and raise
    LinkError. Of several callers at once only one gets past the conditional UPDATE: the
    database serialises the UPDATEs (MariaDB's row lock, SQLite's write lock)."""
    try:
        link, user = link_owner(db, token, purpose, now)
        spent = db.execute(update(MailedLink)
                           .where(MailedLink.id == link.id, MailedLink.used_at.is_(None))
                           .values(used_at=now).execution_options(synchronize_session=False))
        if spent.rowcount != 1:  # type: ignore[attr-defined]
            raise _spent(purpose)
    except LinkError:
        db.rollback()
        raise
    return link, user

"""Account recovery: single-use, expiring password-reset links (issue 14, item 6).

Only a SHA-256 of the token is stored, so a leaked database cannot be used to reset
passwords. Using a link changes the password through models.accounts.change_password, the
one function that also ends the account's other sessions.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.accounts import AccountError, change_password, find_user_by_email
from models.base import TABLE_ARGS, Base, BigId, UTCDateTime, utcnow
from models.db import sqlite_write_lock
from models.errors import DomainError
from models.users import User

# How long a reset link works: long enough to reach the mailbox, short enough to be safe.
RESET_TOKEN_LIFETIME = timedelta(hours=1)
# At most this many reset links per account per hour: the form cannot be used to flood a mailbox.
RESET_MAILS_PER_HOUR = 3


class PasswordResetToken(Base):
    __tablename__ = "password_reset_tokens"
    __table_args__ = (TABLE_ARGS,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


__all__ = ["AccountError", "PasswordResetToken", "RecoveryError", "create_reset_token", "new_reset_token",
           "request_reset", "reset_password", "user_for_reset_token"]


class RecoveryError(DomainError, ValueError):
    """A reset link that cannot be used (unknown, spent, expired); the message is safe to show."""

    kind = "conflict"
    code = "reset_link_unusable"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_reset_token() -> str:
    """A fresh random reset token (only its digest is ever stored)."""
    return secrets.token_urlsafe(32)


def _store_reset_token(db: Session, user_id: int, token: str, now: datetime) -> None:
    # Only the newest link works, so a mailbox holding several cannot be used with an old one.
    db.execute(update(PasswordResetToken)
               .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
               .values(used_at=now))
    db.add(PasswordResetToken(user_id=user_id, token_hash=_digest(token), created_at=now,
                              expires_at=now + RESET_TOKEN_LIFETIME))


def create_reset_token(db: Session, user: User, now: datetime) -> str:
    """A new reset token for `user` (committed), whatever the hourly limit; earlier unused ones
    stop working. The "forgot password" form goes through `request_reset` instead."""
    token = new_reset_token()
    _store_reset_token(db, user.id, token, now)
    db.commit()
    return token


def request_reset(db: Session, email: str, token: str, now: datetime) -> User | None:
    """Store `token` as `email`'s reset link if that is an active account under its hourly
    limit (committed): the account to mail the link to, or None (no such account, switched
    off, or `RESET_MAILS_PER_HOUR` links sent in the last hour).

    The limit holds under parallel requests: the count and the insert happen under the
    account row's lock (a locking read on MariaDB, the write lock on SQLite), in a transaction
    of their own, so a second request counts the first one's link.
    """
    user = find_user_by_email(db, email)
    user_id = user.id if user is not None and user.is_active and user.email else None
    db.rollback()  # the lock must come first in its transaction (models/db.py sqlite_write_lock)
    if user_id is None:
        return None
    sqlite_write_lock(db)
    db.execute(select(User.id).where(User.id == user_id).with_for_update())
    sent = db.scalar(select(func.count()).select_from(PasswordResetToken)
                     .where(PasswordResetToken.user_id == user_id,
                            PasswordResetToken.created_at >= now - timedelta(hours=1))
                     .with_for_update()) or 0
    if sent >= RESET_MAILS_PER_HOUR:
        db.rollback()
        return None
    _store_reset_token(db, user_id, token, now)
    db.commit()
    return db.get(User, user_id)


def user_for_reset_token(db: Session, token: str, now: datetime) -> tuple[PasswordResetToken, User]:
    """The token row and its active user, or RecoveryError (unknown, used, expired)."""
    if not token or len(token) > 200:
        raise RecoveryError("This reset link is not valid.")
    row = db.execute(select(PasswordResetToken, User).join(User, User.id == PasswordResetToken.user_id)
                     .where(PasswordResetToken.token_hash == _digest(token))
                     .execution_options(populate_existing=True)).one_or_none()
    if row is None:
        raise RecoveryError("This reset link is not valid. Ask for a new one.")
    reset, user = row
    if reset.used_at is not None:
        raise _spent()
    if reset.expires_at <= now:
        minutes = int(RESET_TOKEN_LIFETIME.total_seconds() // 60)
        raise RecoveryError(f"This reset link has expired (links work for {minutes} minutes). Ask for a new one.")
    if not user.is_active:
        raise RecoveryError("This account is switched off; contact an administrator.")
    return reset, user


def _spent() -> RecoveryError:
    return RecoveryError("This reset link has already been used, or a newer one was sent. Ask for a new one.")


def reset_password(db: Session, token: str, new_password: str, now: datetime) -> User:
    """Use a reset link: spend it and set the new password, in one unit of work (committed).

    Spending is one conditional UPDATE (`used_at IS NULL`) whose row count decides, in the same
    transaction as the password change: of several submissions of one link at the same moment,
    only the one whose UPDATE matched goes on — the database serialises the UPDATEs (MariaDB's
    row lock, SQLite's write lock) and the others find the link spent. A refused new password
    rolls the spending back with it, so the link still works.
    """
    try:
        reset, user = user_for_reset_token(db, token, now)
        spent = db.execute(update(PasswordResetToken)
                           .where(PasswordResetToken.id == reset.id, PasswordResetToken.used_at.is_(None))
                           .values(used_at=now).execution_options(synchronize_session=False))
        if spent.rowcount != 1:  # type: ignore[attr-defined]
            raise _spent()
    except RecoveryError:
        db.rollback()
        raise
    change_password(db, user, new_password)  # commits both, or rolls back both on a bad password
    return user

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

from models.accounts import AccountError, change_password
from models.base import TABLE_ARGS, Base, BigId, UTCDateTime, utcnow
from models.errors import DomainError
from models.users import User

# How long a reset link works: long enough to reach the mailbox, short enough to be safe.
RESET_TOKEN_LIFETIME = timedelta(hours=1)


class PasswordResetToken(Base):
    __tablename__ = "password_reset_tokens"
    __table_args__ = (TABLE_ARGS,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


__all__ = ["AccountError", "PasswordResetToken", "RecoveryError", "create_reset_token", "reset_password",
           "user_for_reset_token"]


class RecoveryError(DomainError, ValueError):
    """A reset link that cannot be used (unknown, spent, expired); the message is safe to show."""

    kind = "conflict"
    code = "reset_link_unusable"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_reset_token(db: Session, user: User, now: datetime) -> str:
    """A new reset token for `user` (committed); earlier unused ones stop working.

    Only the newest link works, so a mailbox holding several cannot be used with an old one.
    """
    db.execute(update(PasswordResetToken)
               .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
               .values(used_at=now))
    token = secrets.token_urlsafe(32)
    db.add(PasswordResetToken(user_id=user.id, token_hash=_digest(token), created_at=now,
                              expires_at=now + RESET_TOKEN_LIFETIME))
    db.commit()
    return token


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


def reset_requests_since(db: Session, user_id: int, since: datetime) -> int:
    """How many reset links `user_id` was sent since `since` (to throttle the form)."""
    return db.scalar(select(func.count()).select_from(PasswordResetToken)
                     .where(PasswordResetToken.user_id == user_id, PasswordResetToken.created_at >= since)) or 0

"""Account recovery: single-use, expiring password-reset links (issue 14, item 6).

Only a SHA-256 of the token is stored, so a leaked database cannot be used to reset
passwords. Using a link changes the password through models.accounts.change_password, the
one function that also ends the account's other sessions.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TABLE_ARGS, Base, BigId, UTCDateTime, utcnow

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

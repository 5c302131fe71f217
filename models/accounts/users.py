"""Accounts: users with one role each, and the social identities that sign them in."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    bindparam,
    event,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import TABLE_ARGS, Base, BigId, UTCDateTime, enum_column_type, utcnow


class Role(enum.StrEnum):
    VIEWER = "viewer"
    SELLER = "seller"
    ADMIN = "admin"


class User(UserMixin, Base):
    __tablename__ = "users"
    # Changing a role locks the active admins through this index (models/accounts/service.py).
    __table_args__ = (Index(None, "role", "is_active"), TABLE_ARGS)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Lower-cased on write; NULL only for a social account whose provider gave no e-mail.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    # argon2 hash; NULL for accounts that only ever sign in socially.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(enum_column_type(Role, "user_role"), default=Role.VIEWER)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped by sign-out, a password change and deactivation: every cookie session and
    # remember-me token made under an older version stops working (models/accounts/sign_in_sessions.py).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When the owner proved the address is theirs (the mailed link, models/accounts/verification.py), or
    # the provider of a social sign-up vouched for it; NULL: not verified yet (or no address).
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    identities: Mapped[list[SocialIdentity]] = relationship(back_populates="user")

    # flask-login reads is_active as an attribute; the column above provides it.
    def get_id(self) -> str:
        return str(self.id)

    @property
    def is_verified(self) -> bool:
        """The account's e-mail address is proven theirs (payouts need it: SPEC §13)."""
        return self.email is not None and self.email_verified_at is not None

    @property
    def is_seller(self) -> bool:
        return self.role in (Role.SELLER, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class SocialIdentity(Base):
    """A (provider, subject) pair; the subject is the provider's stable id for the person."""

    __tablename__ = "social_identities"
    __table_args__ = (UniqueConstraint("provider", "subject"), TABLE_ARGS)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="identities")


def is_active_account(user: User | None) -> bool:
    """The one check that an account may act: it exists and has not been switched off.

    Sign-in (password and social), the session loader and the API's token check all ask
    this. The progress paths check the same column in SQL, inside the statement that writes
    (models/playback/service.py, models/playback/progress_recorder.py), so a switched-off account
    cannot slip between a check and the write.
    """
    return user is not None and bool(user.is_active)


def active_user(session: Session, user_id: int) -> User | None:
    """The user with this id if `is_active_account`, else None."""
    user = session.get(User, user_id)
    return user if is_active_account(user) else None


# Built once: the API asks it on every request (a prebuilt Core statement costs a third of an
# ORM `get`, which builds a User and its identity-map entry the request mostly never needs).
# A bearer token carries the account's session_version from when it was issued; a later bump
# (sign-out, password change, deactivation) makes it worthless, as it does cookie sessions.
_ACTIVE_ROLE = select(User.role).where(User.id == bindparam("user_id"), User.is_active.is_(True),
                                       User.session_version == bindparam("session_version"))
# The same rule as raw MySQL for the API's read fast path, which asks it together with other
# columns (`{columns}`: ", (SELECT …)" items) in one round trip on a DB-API cursor; the user id
# and the token's session version are the last parameters. tests/test_models.py checks that it
# agrees with `active_role`.
ACTIVE_ROLE_SQL = "SELECT role{columns} FROM users WHERE id = %s AND is_active = 1 AND session_version = %s"


def active_role(session: Session, user_id: int, session_version: int) -> Role | None:
    """The role of the user with this id if `is_active_account` and its sessions have not been
    ended since `session_version` (a bearer token's `sv`), else None: the API's per-request
    token check, which needs only the role."""
    return session.execute(_ACTIVE_ROLE, {"user_id": user_id,
                                          "session_version": session_version}).scalar_one_or_none()


@event.listens_for(User.is_active, "set")
def _deactivation_ends_sessions(user: User, active: bool, was_active: object, _initiator: object) -> None:
    """Switching an account off ends its sessions for good: reactivating it revives none."""
    if active is False and was_active is True:
        user.session_version = (user.session_version or 0) + 1


class RememberToken(Base):
    """A "keep me signed in" token: random, stored only as its SHA-256 digest, expiring."""

    __tablename__ = "remember_tokens"
    __table_args__ = (TABLE_ARGS,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The user's session_version when issued; a later bump makes the token worthless.
    session_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

"""Creating and finding accounts: shared by sign-up, the CLI and the demo seed."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.passwords import hash_password
from models.users import Role, User

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(ValueError):
    """An account request that cannot be honoured; the message is safe to show."""


def normalize_email(email: str) -> str:
    value = email.strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise AccountError(f"{email!r} is not a valid e-mail address")
    return value


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(
    session: Session,
    *,
    email: str,
    password: str | None,
    role: Role,
    display_name: str | None = None,
) -> User:
    """Add a user (not committed). Refuses a taken e-mail and passwords that are too short."""
    address = normalize_email(email)
    if find_user_by_email(session, address) is not None:
        raise AccountError(f"an account with e-mail {address} already exists")
    try:
        password_hash = hash_password(password) if password is not None else None
    except ValueError as exc:
        raise AccountError(str(exc)) from exc
    user = User(
        email=address,
        password_hash=password_hash,
        role=role,
        display_name=(display_name or address.split("@")[0]).strip()[:100],
        is_active=True,
    )
    session.add(user)
    session.flush()
    return user

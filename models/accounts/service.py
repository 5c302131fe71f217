"""Creating, finding and administering accounts: shared by the portal, the API and the CLI."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from models.accounts.passwords import hash_password, needs_rehash, verify_password
from models.accounts.sign_in_sessions import end_sessions_in
from models.accounts.users import Role, User, is_active_account
from models.base import utcnow
from models.db import sqlite_write_lock
from models.errors import DomainError
from models.listing import Paged, contains_pattern

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Roles a person may pick at sign-up; admins are made from the command line or by an admin.
SIGNUP_ROLES = (Role.VIEWER, Role.SELLER)
# The most users one page of the admin listing shows.
MAX_USERS_PAGE = 200


class AccountError(DomainError, ValueError):
    """An account request that cannot be honoured; the message is safe to show."""


class EmailTaken(AccountError):
    """The e-mail belongs to an account already (sign-up must not say so to strangers)."""


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
    verified: bool = True,
) -> User:
    """Add a user; committed. Refuses a taken e-mail and passwords that are too short.

    `verified`: whether the address counts as proven (an admin or the command line vouches
    for it); sign-up makes unverified accounts and mails a link (models/accounts/verification.py).
    """
    address = normalize_email(email)
    # Hashed first, so a taken e-mail costs the same argon2 time as a new account.
    try:
        password_hash = hash_password(password) if password is not None else None
    except ValueError as exc:
        raise AccountError(str(exc)) from exc
    if find_user_by_email(session, address) is not None:
        raise EmailTaken(f"an account with e-mail {address} already exists")
    user = User(
        email=address,
        password_hash=password_hash,
        role=role,
        display_name=(display_name or address.split("@")[0]).strip()[:100],
        is_active=True,
        email_verified_at=utcnow() if verified else None,
    )
    session.add(user)
    try:
        session.commit()
    except IntegrityError as exc:  # the same e-mail signed up at the same instant
        session.rollback()
        raise EmailTaken(f"an account with e-mail {address} already exists", kind="conflict") from exc
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None; a successful sign-in is recorded
    and committed (`record_sign_in`).

    Unknown e-mail, wrong password, social-only and deactivated accounts all give None and
    cost the same argon2 work, so callers can answer them with one message. A hash made
    with older argon2 parameters is upgraded on the way.
    """
    user = find_user_by_email(session, email)
    if not verify_password(user.password_hash if user is not None else None, password):
        return None
    if not is_active_account(user):
        return None
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return record_sign_in(session, user)


def record_sign_in(session: Session, user: User) -> User:
    """Note when the user signed in (password or social); committed."""
    user.last_login_at = utcnow()
    session.commit()
    return user


def locked_active_admins(session: Session) -> set[int]:
    """Ids of the active admins as committed now, locked until the transaction ends.

    MariaDB: a locking read (current rows, not the request's snapshot) through the role
    index, in index order so concurrent callers cannot deadlock. SQLite ignores FOR UPDATE,
    so a write that changes nothing first takes its database write lock.
    """
    sqlite_write_lock(session)
    return set(session.scalars(
        select(User.id).where(User.role == Role.ADMIN, User.is_active.is_(True)).order_by(User.id).with_for_update()
    ))


def change_role(session: Session, user: User, role: Role, *, actor: User | None = None) -> User:
    """Give `user` another role; committed.

    An admin cannot change their own role (another admin must), and the last active admin
    cannot be demoted: either would leave nobody able to run the platform. The active admins
    are read locked until commit, so two admins demoting each other at the same moment are
    decided one after the other and the second finds the first is the last admin.
    """
    if actor is not None and actor.id == user.id and role != user.role:
        raise AccountError("you cannot change your own role; ask another admin", kind="conflict",
                           code="conflict")
    admins = locked_active_admins(session)
    if role != Role.ADMIN and user.id in admins and not admins - {user.id}:
        raise AccountError("the last admin cannot be demoted; make another admin first", kind="conflict",
                           code="conflict")
    user.role = role
    session.commit()
    return user


def set_active(session: Session, user: User, active: bool, *, actor: User | None = None) -> User:
    """Switch an account off or on again; committed.

    Switching off ends every cookie session and remember-me token (models/accounts/users.py bumps the
    session version) and the API refuses its tokens from the next request (the per-request
    active-account check). Views and money already recorded stay: figures describe what was
    watched (§8). Nobody switches themselves off, and the last active admin stays (the active
    admins are read locked, as for a demotion).
    """
    if user.is_active == active:
        return user
    if not active:
        if actor is not None and actor.id == user.id:
            raise AccountError("you cannot deactivate your own account; ask another admin", kind="conflict",
                               code="conflict")
        admins = locked_active_admins(session)
        if user.id in admins and not admins - {user.id}:
            raise AccountError("the last active admin cannot be deactivated; make another admin first", kind="conflict",
                               code="conflict")
    user.is_active = active
    session.commit()
    return user


@dataclass(frozen=True)
class UserPage(Paged):
    users: list[User]
    total: int
    page: int
    per_page: int


def list_users(
    session: Session,
    *,
    search: str = "",
    role: Role | None = None,
    page: int = 1,
    per_page: int = 50,
) -> UserPage:
    """Users, newest first, filtered by e-mail / name fragment and role, with their identities."""
    page = max(1, page)
    per_page = min(max(1, per_page), MAX_USERS_PAGE)
    conditions = []
    if search.strip():
        pattern = contains_pattern(search.strip().lower())
        conditions.append(
            or_(User.email.like(pattern, escape="\\"), func.lower(User.display_name).like(pattern, escape="\\"))
        )
    if role is not None:
        conditions.append(User.role == role)
    total = session.scalar(select(func.count()).select_from(User).where(*conditions)) or 0
    users = session.scalars(
        select(User)
        .where(*conditions)
        .options(selectinload(User.identities))
        .order_by(User.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return UserPage(users=list(users), total=total, page=page, per_page=per_page)


def change_password(session: Session, user: User, new_password: str) -> None:
    """Give `user` a new password and end every session of the account; committed together.

    The one place a password changes (account page and reset link alike). The account's
    session version is bumped and its remember-me tokens deleted in the same unit of work
    (models/accounts/sign_in_sessions.py), so every cookie made with the old password stops working;
    the portal re-stamps the one session that made the change, which stays signed in.
    """
    try:
        user.password_hash = hash_password(new_password)
    except ValueError as exc:
        session.rollback()
        raise AccountError(str(exc)) from exc
    end_sessions_in(session, user)
    session.commit()
    session.refresh(user)  # the new session version, for the session that stays signed in


def rename(session: Session, user: User, display_name: str) -> None:
    """Change the name shown to others; committed. 1–100 characters after trimming."""
    name = (display_name or "").strip()
    if not name or len(name) > 100:
        raise AccountError("A name needs 1 to 100 characters.")
    user.display_name = name
    session.commit()

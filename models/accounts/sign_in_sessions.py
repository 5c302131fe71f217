"""Server-side control over sign-in sessions: a per-user session version and remember-me tokens.

A signed cookie proves only that the server once issued it; without server state, a cookie
copied before sign-out would sign in forever. So every cookie session carries the account's
`session_version` from when it was made and is accepted only while the account still has
that version, and "keep me signed in" is a random token whose digest is stored with an
expiry. Ending the account's sessions (sign-out, password change or reset, deactivation)
bumps the version and deletes its tokens: every copy of every cookie stops working at once.
The session that changed the password takes the new version and stays signed in
(portal/auth/server_sessions.py `keep_this_session`).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from models.accounts.users import RememberToken, User, is_active_account

REMEMBER_DAYS = 30


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def end_sessions_in(db: Session, user: User) -> None:
    """Invalidate every cookie session and remember-me token of `user` inside the caller's
    unit of work (not committed): for a change that must end the sessions with it, such as a
    new password (models/accounts/service.py change_password). Refresh `user` after the commit.

    The bump is done in SQL so two concurrent calls both count and neither is lost.
    """
    db.execute(update(User).where(User.id == user.id).values(session_version=User.session_version + 1)
               .execution_options(synchronize_session=False))
    db.execute(delete(RememberToken).where(RememberToken.user_id == user.id))


def end_all_sessions(db: Session, user: User) -> None:
    """Invalidate every cookie session and remember-me token of `user`; committed.

    Called by sign-out; a password change ends them in its own unit of work
    (`end_sessions_in`) and deactivation bumps the version itself (models/accounts/users.py).
    """
    end_sessions_in(db, user)
    db.commit()
    db.refresh(user)


def issue_remember_token(db: Session, user: User, now: datetime, days: int = REMEMBER_DAYS) -> str:
    """A new random remember-me token for `user`, valid `days` (committed); only its digest is kept."""
    token = secrets.token_urlsafe(32)
    db.execute(delete(RememberToken).where(RememberToken.user_id == user.id, RememberToken.expires_at <= now))
    db.add(RememberToken(user_id=user.id, token_hash=_digest(token), session_version=user.session_version,
                         created_at=now, expires_at=now + timedelta(days=days)))
    db.commit()
    return token


def user_for_remember_token(db: Session, token: str, now: datetime) -> User | None:
    """The active user a remember-me token still signs in, or None (unknown, expired, ended)."""
    if not token or len(token) > 200:
        return None
    row = db.execute(
        select(RememberToken, User).join(User, User.id == RememberToken.user_id)
        .where(RememberToken.token_hash == _digest(token))
    ).one_or_none()
    if row is None:
        return None
    remembered, user = row
    if remembered.expires_at <= now or not is_active_account(user) or remembered.session_version != user.session_version:
        return None
    return user


def forget_remember_token(db: Session, token: str) -> None:
    """Delete one remember-me token (this browser's), if it exists; committed."""
    db.execute(delete(RememberToken).where(RememberToken.token_hash == _digest(token)))
    db.commit()

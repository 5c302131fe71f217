"""A changed password ends the account's other sessions (issue 14, item 6).

Each browser session remembers a fingerprint of the password hash it signed in with (as
Django's session auth hash does). When the password changes, every session holding the old
fingerprint is signed out on its next request; the session that made the change re-stamps
itself and stays signed in. A session from before this check existed has no fingerprint and
is left alone.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Flask, flash, session
from flask_login import current_user, logout_user, user_logged_in

from models import User

_KEY = "paysystem.password_fingerprint"


def fingerprint(user: User) -> str:
    return hashlib.sha256(("paysystem-session:" + (user.password_hash or "")).encode()).hexdigest()[:32]


def stamp(user: User) -> None:
    """Tie the current browser session to `user`'s current password."""
    session[_KEY] = fingerprint(user)


def _stamp_on_sign_in(_app: Flask, user: User) -> None:
    stamp(user)


def _check() -> None:
    stamped = session.get(_KEY)
    if stamped is None or not current_user.is_authenticated:
        return
    if not hmac.compare_digest(str(stamped), fingerprint(current_user)):
        logout_user()
        session.pop(_KEY, None)
        flash("Your password was changed, so you were signed out here. Sign in with the new password.", "info")


def init_app(app: Flask) -> None:
    user_logged_in.connect(_stamp_on_sign_in, app)
    app.before_request(_check)

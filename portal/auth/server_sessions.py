"""The portal's side of models/accounts/sign_in_sessions.py: the session version in the cookie session
and the remember-me cookie.

flask-login's own remember cookie is the signed user id, the same at every sign-in and valid
until the secret key changes; it is switched off here (its cookie name is moved aside) and
replaced by a random, expiring token looked up by flask-login's request loader.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask, Response, current_app, g, request, session
from flask_login import login_user

from models import User
from models.accounts.sign_in_sessions import (
    REMEMBER_DAYS,
    end_all_sessions,
    forget_remember_token,
    issue_remember_token,
    user_for_remember_token,
)
from portal.database import db_session
from portal.extensions import login_manager

REMEMBER_COOKIE = "remember_token"
# The cookie session's copy of the account's session_version (models/accounts/users.py).
SESSION_VERSION_KEY = "_sv"
_SET, _CLEAR = "paysystem_remember_set", "paysystem_remember_clear"


def session_is_current(user: User) -> bool:
    """Whether the cookie session was made under the account's current session version."""
    return session.get(SESSION_VERSION_KEY) == user.session_version


def start_session(user: User, *, remember: bool) -> None:
    """Sign `user` in on this browser; with `remember`, also hand out a new remember-me token."""
    login_user(user, remember=False)
    session[SESSION_VERSION_KEY] = user.session_version
    if remember:
        g.setdefault(_SET, issue_remember_token(db_session(), user, datetime.now(UTC)))


def keep_this_session(user: User) -> None:
    """After `user`'s sessions were ended by a change made here (a new password), this browser
    stays signed in: it takes the new session version, and a new remember-me token if it had one."""
    session[SESSION_VERSION_KEY] = user.session_version
    if request.cookies.get(REMEMBER_COOKIE):
        g.pop(_CLEAR, None)
        g.setdefault(_SET, issue_remember_token(db_session(), user, datetime.now(UTC)))


def end_sessions(user: User | None) -> None:
    """Sign-out: end every session and remember-me token of the account, on every browser."""
    if user is not None and user.is_authenticated:
        end_all_sessions(db_session(), db_session().merge(user))
    session.pop(SESSION_VERSION_KEY, None)
    token = request.cookies.get(REMEMBER_COOKIE)
    if token:
        forget_remember_token(db_session(), token)
    g.setdefault(_CLEAR, True)


@login_manager.request_loader
def _load_remembered(req) -> User | None:  # type: ignore[no-untyped-def]
    token = req.cookies.get(REMEMBER_COOKIE)
    if not token:
        return None
    user = user_for_remember_token(db_session(), token, datetime.now(UTC))
    if user is None:
        g.setdefault(_CLEAR, True)
        return None
    login_user(user, remember=False, fresh=False)
    session[SESSION_VERSION_KEY] = user.session_version
    return user


def _write_cookie(response: Response) -> Response:
    config = current_app.config
    token = g.get(_SET)
    if token:
        response.set_cookie(REMEMBER_COOKIE, token, max_age=int(timedelta(days=REMEMBER_DAYS).total_seconds()),
                            secure=config["REMEMBER_COOKIE_SECURE"], httponly=True,
                            samesite=config["REMEMBER_COOKIE_SAMESITE"])
    elif g.get(_CLEAR):
        response.delete_cookie(REMEMBER_COOKIE, secure=config["REMEMBER_COOKIE_SECURE"], httponly=True,
                               samesite=config["REMEMBER_COOKIE_SAMESITE"])
    return response


def init_server_sessions(app: Flask) -> None:
    # flask-login's remember cookie (the signed user id) is never read or written under our name.
    app.config["REMEMBER_COOKIE_NAME"] = "paysystem_unused_remember"
    app.after_request(_write_cookie)

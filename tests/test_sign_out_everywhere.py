"""Defect 2 of issue 13: sign-out, a password change and deactivation end every session of
the account on the server; the remember-me token is random and expires server-side."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from models import RememberToken, Role, User
from models.accounts.service import change_password
from models.accounts.sign_in_sessions import end_all_sessions
from models.base import utcnow
from portal.database import session_factory
from tests.support import TEST_PASSWORD, reset_login_limits

SESSION, REMEMBER = "session", "remember_token"


@pytest.fixture(autouse=True)
def _fresh_login_limits(redis_url):  # type: ignore[no-untyped-def]
    yield
    reset_login_limits(redis_url)


def _csrf(client, path: str = "/auth/signin") -> str:  # type: ignore[no-untyped-def]
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def _sign_in(client, email: str, remember: bool = True):  # type: ignore[no-untyped-def]
    data = {"csrf_token": _csrf(client), "email": email, "password": TEST_PASSWORD, "next": ""}
    if remember:
        data["remember"] = "y"
    response = client.post("/auth/signin", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def _cookie(client, name: str) -> str | None:  # type: ignore[no-untyped-def]
    cookie = client.get_cookie(name)
    return cookie.value if cookie is not None else None


def _signed_in_with(app, **cookies: str) -> bool:  # type: ignore[no-untyped-def]
    """Whether a fresh browser holding only these cookies gets the account page."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other.get("/auth/account").status_code == 200


def test_cookies_copied_before_sign_out_do_not_sign_in_afterwards(app, client, make_user):
    user = make_user(Role.VIEWER)
    _sign_in(client, user.email)
    session_cookie, remember_cookie = _cookie(client, SESSION), _cookie(client, REMEMBER)
    assert session_cookie and remember_cookie
    assert _signed_in_with(app, **{SESSION: session_cookie})
    assert _signed_in_with(app, **{REMEMBER: remember_cookie})

    token = _csrf(client, "/auth/account")
    assert client.post("/auth/signout", data={"csrf_token": token}).status_code == 302
    assert not _signed_in_with(app, **{SESSION: session_cookie})
    assert not _signed_in_with(app, **{REMEMBER: remember_cookie})
    assert not _signed_in_with(app, **{SESSION: session_cookie, REMEMBER: remember_cookie})


def test_the_remember_me_token_is_random_and_expires_on_the_server(app, make_user, session_factory):
    user = make_user(Role.VIEWER)
    first, second = app.test_client(), app.test_client()
    _sign_in(first, user.email)
    _sign_in(second, user.email)
    one, two = _cookie(first, REMEMBER), _cookie(second, REMEMBER)
    assert one and two and one != two
    assert not one.startswith(f"{user.id}|")  # not flask-login's signed user id
    with session_factory() as db:
        stored = list(db.scalars(select(RememberToken).where(RememberToken.user_id == user.id)))
        assert len(stored) == 2 and all(one not in t.token_hash for t in stored)  # a digest, not the value
        assert all(t.expires_at > utcnow() for t in stored)
        db.execute(update(RememberToken).where(RememberToken.user_id == user.id)
                   .values(expires_at=utcnow() - timedelta(seconds=1)))
        db.commit()
    assert not _signed_in_with(app, **{REMEMBER: one})
    assert not _signed_in_with(app, **{REMEMBER: two})


def _assert_ended_by(app, user: User, end) -> None:  # type: ignore[no-untyped-def]
    """Both cookies of a fresh sign-in work, and neither does after `end(db, account)`."""
    browser = app.test_client()
    _sign_in(browser, user.email)
    cookies = {SESSION: _cookie(browser, SESSION), REMEMBER: _cookie(browser, REMEMBER)}
    assert _signed_in_with(app, **{SESSION: cookies[SESSION]})
    with session_factory(app)() as db:
        end(db, db.get(User, user.id))
    for name, value in cookies.items():
        assert not _signed_in_with(app, **{name: value}), name


def _switch_off(db, account: User) -> None:  # type: ignore[no-untyped-def]
    db.execute(update(User).where(User.id == account.id).values(is_active=False))
    db.commit()


def _switch_off_and_on(db, account: User) -> None:  # type: ignore[no-untyped-def]
    account.is_active = False
    db.commit()
    account.is_active = True
    db.commit()


def _change_password(db, account: User) -> None:  # type: ignore[no-untyped-def]
    change_password(db, account, "a-brand-new-password")


@pytest.mark.parametrize("end", [end_all_sessions, _change_password, _switch_off, _switch_off_and_on],
                         ids=["sign_out_everywhere", "password_change", "deactivation", "off_and_on_again"])
def test_a_password_change_or_deactivation_ends_every_session(app, make_user, end):  # type: ignore[no-untyped-def]
    _assert_ended_by(app, make_user(Role.VIEWER), end)


def test_a_password_change_on_the_account_page_keeps_only_this_browser(app, make_user):
    """The other browser's session and remember-me cookies stop working; this browser stays
    signed in, and its remember-me cookie is replaced by one that still works."""
    user = make_user(Role.VIEWER)
    here, elsewhere = app.test_client(), app.test_client()
    _sign_in(here, user.email)
    _sign_in(elsewhere, user.email)
    theirs = {SESSION: _cookie(elsewhere, SESSION), REMEMBER: _cookie(elsewhere, REMEMBER)}
    old_remember = _cookie(here, REMEMBER)
    changed = here.post("/auth/account/password", data={
        "csrf_token": _csrf(here, "/auth/account"), "current": TEST_PASSWORD,
        "password": "a-brand-new-password", "confirm": "a-brand-new-password"})
    assert changed.status_code == 302, changed.get_data(as_text=True)[:300]
    assert here.get("/auth/account").status_code == 200
    for name, value in theirs.items():
        assert not _signed_in_with(app, **{name: value}), name
    new_remember = _cookie(here, REMEMBER)
    assert new_remember and new_remember != old_remember
    assert _signed_in_with(app, **{REMEMBER: new_remember})
    assert not _signed_in_with(app, **{REMEMBER: old_remember})

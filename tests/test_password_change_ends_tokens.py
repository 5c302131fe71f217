"""Issue 18, item 3: a new password — by reset link or on the account page — ends the account's
API tokens, as sign-out (everywhere) does: a bearer token obtained before the change is refused
after it, by the API's checks (`api_auth`) and by the progress fast path alike."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from models import Role, User
from models.accounts.recovery import create_reset_token
from tests.support import TEST_PASSWORD
from tests.watching_support import add_video

NEW_PASSWORD = "a brand new passphrase"


def _csrf(client, path: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def _token(client, email: str, password: str = TEST_PASSWORD) -> dict[str, str]:  # type: ignore[no-untyped-def]
    issued = client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert issued.status_code == 200, issued.get_json()
    return {"Authorization": f"Bearer {issued.get_json()['access_token']}"}


def _by_reset_link(app, user: User, session_factory) -> None:  # type: ignore[no-untyped-def]
    with session_factory() as db:
        token = create_reset_token(db, db.get(User, user.id), datetime.now(UTC))
    browser, path = app.test_client(), f"/auth/reset/{token}"
    done = browser.post(path, data={"csrf_token": _csrf(browser, path), "password": NEW_PASSWORD,
                                    "confirm": NEW_PASSWORD})
    assert done.status_code == 302, done.get_data(as_text=True)[:300]


def _on_the_account_page(app, user: User, session_factory) -> None:  # type: ignore[no-untyped-def]
    browser = app.test_client()
    signed = browser.post("/auth/signin", data={"csrf_token": _csrf(browser, "/auth/signin"), "email": user.email,
                                                "password": TEST_PASSWORD})
    assert signed.status_code == 302
    done = browser.post("/auth/account/password", data={
        "csrf_token": _csrf(browser, "/auth/account"), "current": TEST_PASSWORD,
        "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302, done.get_data(as_text=True)[:300]
    assert browser.get("/auth/account").status_code == 200  # this browser stays signed in


def _sign_out(app, user: User, session_factory) -> None:  # type: ignore[no-untyped-def]
    """Sign-out ends every session of the account (sign-out everywhere): the same function."""
    browser = app.test_client()
    signed = browser.post("/auth/signin", data={"csrf_token": _csrf(browser, "/auth/signin"), "email": user.email,
                                                "password": TEST_PASSWORD})
    assert signed.status_code == 302
    assert browser.post("/auth/signout", data={"csrf_token": _csrf(browser, "/auth/account")}).status_code == 302


@pytest.mark.parametrize("change", [_by_reset_link, _on_the_account_page, _sign_out],
                         ids=["reset_link", "account_page", "sign_out_everywhere"])
def test_a_token_from_before_a_password_change_is_refused_after_it(
        app, make_user, session_factory, change: Callable[..., None]):
    seller, viewer = make_user(Role.SELLER), make_user(Role.VIEWER)
    video = add_video(session_factory, seller, seconds=720)
    api = app.test_client()
    before = _token(api, viewer.email)
    base = f"/api/v1/videos/{video.id}"
    opened = api.post(f"{base}/sessions", headers=before)
    assert opened.status_code == 201
    progress = f"{base}/sessions/{opened.get_json()['session_id']}/progress"
    assert api.get("/api/v1/me", headers=before).status_code == 200
    assert api.post(progress, json={"position_ms": 1000}, headers=before).status_code == 200

    change(app, viewer, session_factory)

    assert api.get("/api/v1/me", headers=before).status_code == 401
    refused = api.post(progress, json={"position_ms": 2000}, headers=before)  # the fast path in front of Flask
    assert (refused.status_code, refused.get_json()["error"]) == (401, "token_revoked")
    # A token obtained afterwards (with the new password, if it changed) works.
    after = _token(api, viewer.email, TEST_PASSWORD if change is _sign_out else NEW_PASSWORD)
    assert api.get("/api/v1/me", headers=after).status_code == 200
    assert api.post(progress, json={"position_ms": 2000}, headers=after).status_code == 200


def test_a_token_without_the_session_version_claim_is_refused(app, make_user, settings):
    """Tokens issued before `sv` existed cannot be checked against a password change: refused."""
    import jwt

    from portal.api.tokens import ISSUER

    user = make_user(Role.VIEWER)
    now = int(datetime.now(UTC).timestamp())
    legacy = jwt.encode({"iss": ISSUER, "sub": str(user.id), "role": "viewer", "jti": "x" * 32, "iat": now,
                         "exp": now + 600}, settings.secret_key, algorithm="HS256")
    refused = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {legacy}"})
    assert refused.status_code == 401

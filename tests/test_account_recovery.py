"""Account recovery and the account page (issue 14, item 6), with a real SMTP server in-process."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from models import Role, User
from models.accounts.passwords import verify_password
from models.accounts.recovery import RecoveryError, create_reset_token, reset_password
from portal import create_app
from tests.mail_support import Inbox, smtp_server
from tests.support import TEST_PASSWORD, unique_email

NEW_PASSWORD = "a brand new passphrase"


def csrf(client, path: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def sign_in(client, email: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/auth/signin", data={"csrf_token": csrf(client, "/auth/signin"), "email": email,
                                             "password": password})


def signed_in(client) -> bool:  # type: ignore[no-untyped-def]
    return client.get("/auth/account").status_code == 200


@pytest.fixture
def mail_app(settings):  # type: ignore[no-untyped-def]
    with smtp_server() as (inbox, port):
        yield create_app(replace(settings, smtp_host="127.0.0.1", smtp_port=port)), inbox


def test_reset_link_by_mail_sets_a_new_password_once_and_ends_other_sessions(mail_app, make_user, session_factory):
    app, inbox = mail_app
    user = make_user(Role.VIEWER)
    old_browser, new_browser = app.test_client(), app.test_client()
    assert sign_in(old_browser, user.email, TEST_PASSWORD).status_code == 302 and signed_in(old_browser)

    # The form answers the same for a known and an unknown address; only the known one gets mail.
    for address in (user.email, unique_email("nobody")):
        sent = new_browser.post("/auth/forgot", data={"csrf_token": csrf(new_browser, "/auth/forgot"),
                                                      "email": address.upper()})
        assert sent.status_code == 200 and "Check your e-mail" in sent.get_data(as_text=True)
    mail = inbox.wait_for(user.email)
    assert [m["To"] for m in inbox.messages] == [user.email]
    assert mail["Subject"] == "Reset your PaySystem password"
    path = urlsplit(Inbox.link(mail)).path

    form = new_browser.get(path)
    assert form.status_code == 200 and user.email in form.get_data(as_text=True)
    short = new_browser.post(path, data={"csrf_token": csrf(new_browser, path), "password": "short",
                                         "confirm": "short"})
    assert short.status_code == 400 and "at least 8 characters" in short.get_data(as_text=True)
    done = new_browser.post(path, data={"csrf_token": csrf(new_browser, path), "password": NEW_PASSWORD,
                                        "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/auth/signin")
    with session_factory() as db:
        assert verify_password(db.get(User, user.id).password_hash, NEW_PASSWORD)

    # Single use; the old session is signed out; the new password signs in.
    reused = new_browser.get(path)
    assert reused.status_code == 410 and "already been used" in reused.get_data(as_text=True)
    assert not signed_in(old_browser)
    assert sign_in(new_browser, user.email, TEST_PASSWORD).status_code == 401
    assert sign_in(new_browser, user.email, NEW_PASSWORD).status_code == 302 and signed_in(new_browser)


def test_the_reset_link_comes_from_public_base_url_never_from_the_host_header(settings, make_user):
    """Issue 18, item 1: a forged Host header must not point the mailed link at the attacker's host."""
    with smtp_server() as (inbox, port):
        app = create_app(replace(settings, smtp_host="127.0.0.1", smtp_port=port,
                                 public_base_url="https://pay.example.com/portal"))
        user = make_user(Role.VIEWER)
        client = app.test_client()
        forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
        page = client.get("/auth/forgot", headers=forged).get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        sent = client.post("/auth/forgot", data={"csrf_token": token, "email": user.email}, headers=forged)
        assert sent.status_code == 200
        link = Inbox.link(inbox.wait_for(user.email))
    assert "evil.example" not in link
    assert link.startswith("https://pay.example.com/portal/auth/reset/")


def test_reset_links_expire_and_only_the_newest_works(db, make_user):
    user = db.merge(make_user(Role.SELLER))
    now = datetime(2026, 5, 1, tzinfo=UTC)
    first = create_reset_token(db, user, now)
    second = create_reset_token(db, user, now + timedelta(minutes=1))
    with pytest.raises(RecoveryError, match="newer one"):
        reset_password(db, first, NEW_PASSWORD, now + timedelta(minutes=2))
    with pytest.raises(RecoveryError, match="expired"):
        reset_password(db, second, NEW_PASSWORD, now + timedelta(hours=2))
    with pytest.raises(RecoveryError, match="not valid"):
        reset_password(db, "made-up", NEW_PASSWORD, now)
    assert verify_password(db.get(User, user.id).password_hash, TEST_PASSWORD)


def test_account_page_changes_name_and_password_keeping_this_session_only(app, make_user):
    user = make_user(Role.VIEWER)
    here, elsewhere = app.test_client(), app.test_client()
    for client in (here, elsewhere):
        assert sign_in(client, user.email, TEST_PASSWORD).status_code == 302
    renamed = here.post("/auth/account/name", data={"csrf_token": csrf(here, "/auth/account"),
                                                    "display_name": "  Minji Park  "})
    assert renamed.status_code == 302 and "Minji Park" in here.get("/auth/account").get_data(as_text=True)

    wrong = here.post("/auth/account/password", data={"csrf_token": csrf(here, "/auth/account"),
                                                      "current": "not it", "password": NEW_PASSWORD,
                                                      "confirm": NEW_PASSWORD})
    assert wrong.status_code == 400 and "not your current password" in wrong.get_data(as_text=True)
    changed = here.post("/auth/account/password", data={"csrf_token": csrf(here, "/auth/account"),
                                                        "current": TEST_PASSWORD, "password": NEW_PASSWORD,
                                                        "confirm": NEW_PASSWORD})
    assert changed.status_code == 302
    assert signed_in(here) and not signed_in(elsewhere)


def test_the_sign_in_limit_page_says_the_real_wait_and_links_to_the_reset(settings, make_user):
    from tests.support import reset_login_limits

    reset_login_limits(settings.redis_url)
    app = create_app(replace(settings, login_limit_per_account="2 per 15 minutes"))
    client, user = app.test_client(), make_user(Role.VIEWER)
    for _ in range(2):
        assert sign_in(client, user.email, "wrong password").status_code == 401
    blocked = sign_in(client, user.email, TEST_PASSWORD)
    html = blocked.get_data(as_text=True)
    assert blocked.status_code == 429
    assert re.search(r"try again in 1[45] minutes \(at \d\d:\d\d ", html), html
    assert 'href="/auth/forgot"' in html
    reset_login_limits(settings.redis_url)

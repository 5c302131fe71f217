"""Issue 21, item 14: changing the e-mail address (the new address proves itself by a mailed
link) and deleting one's own account (what goes, what stays, and who cannot)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from models import Role, User
from models.accounts.deletion import delete_account
from models.accounts.service import AccountError, create_user
from models.accounts.users import SocialIdentity
from models.catalog.tables import Video
from models.db import make_engine, make_sessionmaker
from models.money.settlement import VideoDailySettlement
from portal import create_app
from portal.mail_outbox import mail_outbox
from tests.mail_support import smtp_server
from tests.support import TEST_PASSWORD, drop_mysql_database, migrated_mysql_database, unique_email


def _csrf(client, path: str = "/auth/account") -> str:  # type: ignore[no-untyped-def]
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def _signed_in(app, user):  # type: ignore[no-untyped-def]
    client = app.test_client()
    answer = client.post("/auth/signin", data={"csrf_token": _csrf(client, "/auth/signin"), "email": user.email,
                                               "password": TEST_PASSWORD})
    assert answer.status_code == 302
    return client


def _link(message) -> str:  # type: ignore[no-untyped-def]
    body = message.get_payload(decode=True).decode()
    return re.search(r"https?://\S+/auth/email/\S+", body).group(0)  # type: ignore[union-attr]


@pytest.fixture
def mail_app(settings):  # type: ignore[no-untyped-def]
    with smtp_server() as (inbox, port):
        yield create_app(replace(settings, smtp_host="127.0.0.1", smtp_port=port)), inbox


def test_the_new_address_gets_a_link_and_the_account_moves_only_when_it_is_opened(mail_app, make_user,
                                                                                  session_factory):
    app, inbox = mail_app
    user = make_user(Role.VIEWER)
    client = _signed_in(app, user)
    new = unique_email("moved")
    wrong = client.post("/auth/account/email", data={"csrf_token": _csrf(client), "new_email": new,
                                                     "password": "not my password"})
    assert wrong.status_code == 400 and "not your current password" in wrong.get_data(as_text=True)
    same = client.post("/auth/account/email", data={"csrf_token": _csrf(client), "new_email": user.email,
                                                    "password": TEST_PASSWORD})
    assert same.status_code == 400 and "already your address" in same.get_data(as_text=True)
    asked = client.post("/auth/account/email", data={"csrf_token": _csrf(client), "new_email": new.upper(),
                                                     "password": TEST_PASSWORD})
    assert asked.status_code == 302
    link = _link(inbox.wait_for(new))
    assert "is being changed" in inbox.wait_for(user.email)["Subject"]  # the old address hears of it
    with session_factory() as db:
        assert db.get(User, user.id).email == user.email  # nothing moved yet
    opened = client.get(urlsplit(link).path)
    assert opened.status_code == 302
    with session_factory() as db:
        moved = db.get(User, user.id)
        assert moved.email == new and moved.is_verified
    assert client.get(urlsplit(link).path).status_code == 410  # single use


def test_an_address_of_another_account_gets_the_same_answer_and_no_link(mail_app, make_user, session_factory):
    app, inbox = mail_app
    user, other = make_user(Role.VIEWER), make_user(Role.VIEWER)
    client = _signed_in(app, user)
    asked = client.post("/auth/account/email", data={"csrf_token": _csrf(client), "new_email": other.email,
                                                     "password": TEST_PASSWORD})
    assert asked.status_code == 302
    assert "a confirmation link is on its way" in client.get("/auth/account").get_data(as_text=True)
    assert mail_outbox(app).wait_until_idle()
    assert [m for m in inbox.messages if m["To"] == other.email] == []
    with session_factory() as db:
        assert db.get(User, user.id).email == user.email


def test_deleting_an_account_removes_the_person_and_keeps_what_was_watched(app, make_user, session_factory,
                                                                            media_root):
    seller = make_user(Role.SELLER)
    with session_factory() as db:
        (media_root / "gone.webm").write_bytes(b"x")
        video = Video(seller_id=seller.id, title="leaving", media_path="gone.webm", content_type="video/webm", size_bytes=1, duration_seconds=60,
                      is_published=True)
        db.add(video)
        db.add(SocialIdentity(user_id=seller.id, provider="google", subject=unique_email("sub")))
        db.commit()
        video_id = video.id
    client = _signed_in(app, seller)
    page = client.get("/auth/account").get_data(as_text=True)
    assert "Money records stay" in page and "Your videos leave the catalog" in page
    unticked = client.post("/auth/account/delete", data={"csrf_token": _csrf(client), "password": TEST_PASSWORD})
    assert unticked.status_code == 400 and "Tick the box" in unticked.get_data(as_text=True)
    wrong = client.post("/auth/account/delete", data={"csrf_token": _csrf(client), "password": "nope",
                                                      "confirm": "y"})
    assert wrong.status_code == 400 and "not your current password" in wrong.get_data(as_text=True)
    deleted = client.post("/auth/account/delete", data={"csrf_token": _csrf(client), "password": TEST_PASSWORD,
                                                        "confirm": "y"})
    assert deleted.status_code == 302
    assert client.get("/auth/account").status_code == 302  # signed out
    with session_factory() as db:
        gone = db.get(User, seller.id)
        assert (gone.email, gone.password_hash, gone.is_active, gone.display_name) == \
            (None, None, False, "Deleted account")
        assert db.scalars(select(SocialIdentity).where(SocialIdentity.user_id == seller.id)).all() == []
        video = db.get(Video, video_id)
        assert video.deleted_at is not None and not video.is_published  # the row stays for history
    assert not (media_root / "gone.webm").exists()
    stranger = app.test_client()
    again = stranger.post("/auth/signin", data={"csrf_token": _csrf(stranger, "/auth/signin"),
                                                "email": seller.email, "password": TEST_PASSWORD})
    assert again.status_code == 401


def test_an_account_with_earnings_cannot_delete_itself(app, make_user, session_factory):
    seller = make_user(Role.SELLER)
    with session_factory() as db:
        video = Video(seller_id=seller.id, title="earning", media_path="e.webm", content_type="video/webm", size_bytes=1, duration_seconds=60)
        db.add(video)
        db.flush()
        db.add(VideoDailySettlement(day=date(2026, 11, 1), video_id=video.id, seller_id=seller.id, plan_id=1,
                                    basis="daily", views=5, ad_views=0, video_amount=5, ad_amount=0,
                                    total_amount=5))
        db.commit()
    client = _signed_in(app, seller)
    page = client.get("/auth/account").get_data(as_text=True)
    assert "data-has-earnings" in page and "/auth/account/delete" not in page
    refused = client.post("/auth/account/delete", data={"csrf_token": _csrf(client), "password": TEST_PASSWORD,
                                                        "confirm": "y"})
    assert refused.status_code == 409 and "ask an administrator" in refused.get_data(as_text=True)
    with session_factory() as db:
        assert db.get(User, seller.id).email == seller.email


def test_the_last_active_admin_cannot_delete_their_account(tmp_path):
    """On a database of its own: the rule needs every other admin switched off."""
    url = migrated_mysql_database("paysystem_delete")
    try:
        factory = make_sessionmaker(make_engine(url))
        with factory() as db:
            only = create_user(db, email=unique_email("only"), password=TEST_PASSWORD, role=Role.ADMIN)
            db.commit()
            with pytest.raises(AccountError, match="last active admin"):
                delete_account(db, only, TEST_PASSWORD, media_root=tmp_path, now=datetime.now(UTC))
            other = create_user(db, email=unique_email("other"), password=TEST_PASSWORD, role=Role.ADMIN)
            db.commit()
            delete_account(db, only, TEST_PASSWORD, media_root=tmp_path, now=datetime.now(UTC))
            assert db.get(User, only.id).email is None and db.get(User, other.id).is_active
    finally:
        drop_mysql_database(url)


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_the_account_page_in_chromium(page, live_server, make_user, width):
    from tests.browser_support import screenshot, sign_in_browser

    seller = make_user(Role.SELLER)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in_browser(page, live_server.url, seller, "/auth/account")
    page.goto(f"{live_server.url}/auth/account")
    assert page.get_by_role("button", name="Delete my account").is_visible()
    assert page.get_by_label("New e-mail address").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, f"account-page-{width}")

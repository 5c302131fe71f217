"""Issue 18, item 16: e-mail verification — the link (single use, expiring, stored as a
digest), the account page's rate-limited "send it again", social sign-ups the provider
vouched for, and the migration that counts existing accounts as verified."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, select, text, update

from models import MailedLink, Role, User
from models.accounts.mailed_links import LinkError
from models.accounts.social import SocialProfile, create_social_user
from models.accounts.verification import (
    VERIFY_LINK_LIFETIME,
    VERIFY_MAILS_PER_HOUR,
    register,
    verify_email,
)
from paysystem import migrate
from portal import create_app
from portal.mail_outbox import mail_outbox
from tests.mail_support import smtp_server
from tests.support import TEST_PASSWORD, unique_email


def _csrf(client, path: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def test_a_verification_link_is_single_use_expiring_and_stored_as_a_digest(db):
    now = datetime.now(UTC)
    token = "a-verification-token-" + unique_email("t")
    user, created = register(db, email=unique_email("verify"), password=TEST_PASSWORD, role=Role.VIEWER,
                             display_name=None, token=token, now=now)
    assert created and not user.is_verified
    stored = db.scalars(select(MailedLink.token_hash).where(MailedLink.user_id == user.id)).all()
    assert len(stored) == 1 and token not in stored[0]
    with pytest.raises(LinkError, match="expired"):
        verify_email(db, token, now + VERIFY_LINK_LIFETIME + timedelta(seconds=1))
    assert verify_email(db, token, now + timedelta(minutes=5)).is_verified
    with pytest.raises(LinkError, match="already been used"):
        verify_email(db, token, now + timedelta(minutes=6))
    # A reset link is not a verification link, and the other way round.
    with pytest.raises(LinkError, match="not valid"):
        verify_email(db, "no-such-token", now)
    again, created = register(db, email=user.email, password=TEST_PASSWORD, role=Role.SELLER, display_name=None,
                              token="another-token", now=now)
    assert not created and again.id == user.id and again.role == Role.VIEWER  # nothing changed


def test_the_account_page_sends_the_link_again_at_most_three_times_an_hour(settings, make_user, session_factory):
    user = make_user(Role.SELLER)
    with session_factory() as db:
        db.execute(update(User).where(User.id == user.id).values(email_verified_at=None))
        db.commit()
    with smtp_server() as (inbox, port):
        app = create_app(replace(settings, smtp_host="127.0.0.1", smtp_port=port))
        client = app.test_client()
        signed = client.post("/auth/signin", data={"csrf_token": _csrf(client, "/auth/signin"), "email": user.email,
                                                   "password": TEST_PASSWORD})
        assert signed.status_code == 302
        for _ in range(VERIFY_MAILS_PER_HOUR):
            sent = client.post("/auth/account/verify", data={"csrf_token": _csrf(client, "/auth/account")})
            assert sent.status_code == 302
        refused = client.post("/auth/account/verify", data={"csrf_token": _csrf(client, "/auth/account")})
        assert refused.status_code == 429 and "in the last hour" in refused.get_data(as_text=True)
        assert mail_outbox(app).wait_until_idle()
        mails = inbox.to(user.email)
        assert len(mails) == VERIFY_MAILS_PER_HOUR
        links = [re.search(r"https?://\S+/auth/verify/\S+", m.get_payload(decode=True).decode()).group(0)
                 for m in mails]
        # Only the newest link works.
        assert client.get(urlsplit(links[0]).path).status_code == 410
        assert client.get(urlsplit(links[-1]).path).status_code == 302
        page = client.get("/auth/account").get_data(as_text=True)
        assert "data-email-verified" in page and "Send the link again" not in page


def test_a_social_sign_up_is_verified_when_the_provider_vouched_for_the_address(db):
    vouched = create_social_user(db, SocialProfile(provider="github", subject=unique_email("s"),
                                                   email=unique_email("vouched"), email_verified=True,
                                                   name="V"), Role.VIEWER)
    unvouched = create_social_user(db, SocialProfile(provider="github", subject=unique_email("s"),
                                                     email=unique_email("unvouched"), email_verified=False,
                                                     name="U"), Role.VIEWER)
    assert vouched.is_verified and vouched.email_verified_at is not None
    assert not unvouched.is_verified and unvouched.email is None


def test_migration_0008_counts_existing_accounts_as_verified(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(url, "0007")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (email, password_hash, display_name, role, is_active, created_at, "
                          "session_version) VALUES ('old@example.com', NULL, 'Old', 'viewer', 1, "
                          "'2026-01-02 03:04:05', 0), (NULL, NULL, 'No mail', 'viewer', 1, "
                          "'2026-01-02 03:04:05', 0)"))
        conn.execute(text("INSERT INTO password_reset_tokens (user_id, token_hash, created_at, expires_at) "
                          "SELECT id, 'h', created_at, created_at FROM users WHERE email IS NOT NULL"))
    migrate.upgrade(url)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT display_name, email_verified_at FROM users")).all())
        purposes = conn.execute(text("SELECT purpose FROM password_reset_tokens")).scalars().all()
    engine.dispose()
    assert str(rows["Old"]).startswith("2026-01-02 03:04:05") and rows["No mail"] is None
    assert purposes == ["reset"]

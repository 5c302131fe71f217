"""Defect 8 of issue 13 and issue 18, item 16: sign-up does not tell a registered e-mail from
a new one — the same "check your mail" page either way; the mail says which (a verification
link, or "you already have an account") — and is throttled per client address."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from models import Role
from portal import create_app
from portal.mail_outbox import mail_outbox
from tests.mail_support import smtp_server
from tests.support import TEST_PASSWORD, reset_login_limits, unique_email

SIGNUPS_PER_IP = 3


@pytest.fixture(autouse=True)
def _fresh_limits(redis_url):  # type: ignore[no-untyped-def]
    reset_login_limits(redis_url)
    yield
    reset_login_limits(redis_url)


def _sign_up(client, email: str, password: str = TEST_PASSWORD):  # type: ignore[no-untyped-def]
    page = client.get("/auth/signup").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return client.post("/auth/signup", data={"csrf_token": token, "role": "viewer", "display_name": "",
                                             "email": email, "password": password, "confirm": password, "next": ""})


def _unsigned(html: str) -> str:
    """The page with the CSRF token's timestamp and signature masked: the same session's token signed
    a second apart differs there (itsdangerous stamps whole seconds), and that tells nobody anything."""
    return re.sub(r"\b([\w-]{20,})\.[\w-]{4,8}\.[\w-]{20,}", r"\1.<signed>", html)


def test_a_registered_and_a_new_email_get_the_same_page_and_the_mail_tells_them_apart(settings, make_user):
    existing = make_user(Role.VIEWER, email=unique_email("member").replace(".test", ".com"))
    fresh = unique_email("fresh").replace(".test", ".com")
    with smtp_server() as (inbox, port):
        app = create_app(replace(settings, smtp_host="127.0.0.1", smtp_port=port,
                                 public_base_url="https://pay.example.com"))
        client = app.test_client()
        taken, new = _sign_up(client, existing.email.upper()), _sign_up(client, fresh)
        assert taken.status_code == new.status_code == 200
        assert _unsigned(taken.get_data(as_text=True).replace(existing.email.upper(), "@")) == \
            _unsigned(new.get_data(as_text=True).replace(fresh, "@"))
        text = taken.get_data(as_text=True).lower()
        assert "check your e-mail" in text and "already exists" not in text and "taken" not in text
        assert mail_outbox(app).wait_until_idle()
        note, link = inbox.wait_for(existing.email), inbox.wait_for(fresh)
    body = note.get_payload(decode=True).decode()
    assert "already have an account" in body
    assert "https://pay.example.com/auth/signin" in body and "https://pay.example.com/auth/forgot" in body
    assert "/auth/verify/" not in body
    assert re.search(r"https://pay\.example\.com/auth/verify/\S+", link.get_payload(decode=True).decode())


def test_sign_up_is_throttled_per_address(settings):
    app = create_app(replace(settings, signup_limit_per_ip=f"{SIGNUPS_PER_IP} per hour"))
    for _ in range(SIGNUPS_PER_IP):
        assert _sign_up(app.test_client(), unique_email("new").replace(".test", ".com")).status_code == 200
    refused = _sign_up(app.test_client(), unique_email("new").replace(".test", ".com"))
    assert refused.status_code == 429 and "Too many sign-ups" in refused.get_data(as_text=True)
    assert app.test_client().get("/auth/signup").status_code == 200  # the page itself stays open

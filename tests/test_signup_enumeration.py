"""Defect 8 of issue 13: sign-up does not say that an e-mail is registered, costs the same
either way, and is throttled per client address."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from models import Role
from portal import create_app
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


def test_a_taken_email_is_not_named_as_registered(client, make_user):
    existing = make_user(Role.VIEWER, email=unique_email("member").replace(".test", ".com"))
    taken = _sign_up(client, existing.email.upper())
    short = _sign_up(client, unique_email("fresh").replace(".test", ".com"), password="short")
    assert taken.status_code == short.status_code == 400
    text = taken.get_data(as_text=True).lower()
    assert "already exists" not in text and "already registered" not in text and "taken" not in text
    assert "could not create an account" in text


def test_sign_up_is_throttled_per_address(settings):
    app = create_app(replace(settings, signup_limit_per_ip=f"{SIGNUPS_PER_IP} per hour"))
    for _ in range(SIGNUPS_PER_IP):
        assert _sign_up(app.test_client(), unique_email("new").replace(".test", ".com")).status_code == 302
    refused = _sign_up(app.test_client(), unique_email("new").replace(".test", ".com"))
    assert refused.status_code == 429 and "Too many sign-ups" in refused.get_data(as_text=True)
    assert app.test_client().get("/auth/signup").status_code == 200  # the page itself stays open

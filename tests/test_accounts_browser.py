"""Headless Chromium: a seller signs up, confirms the address with the mailed link (issue 18,
item 16), signs in, signs out and signs back in through the pages."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from sqlalchemy import select

from models import Role, User
from portal import create_app
from tests.conftest import LiveServer
from tests.mail_support import smtp_server
from tests.support import free_port, unique_email

pytestmark = pytest.mark.browser


@pytest.fixture
def mail_server(settings):  # type: ignore[no-untyped-def]
    """The portal over HTTP with a real SMTP server; links in mail point at this very server."""
    with smtp_server() as (inbox, smtp_port):
        port = free_port()
        server = LiveServer(create_app(replace(settings, smtp_host="127.0.0.1", smtp_port=smtp_port,
                                               public_base_url=f"http://127.0.0.1:{port}")), port=port).start()
        try:
            yield server, inbox
        finally:
            server.stop()


@pytest.mark.slow
def test_a_seller_signs_up_signs_out_and_signs_back_in(page, mail_server, session_factory):
    live_server, inbox = mail_server
    email = unique_email("browser-seller").replace(".test", ".com")
    password = "a long browser password"

    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Sign up").first.click()
    page.wait_for_url("**/auth/signup")
    page.get_by_label("Seller").check()
    page.get_by_label("Name shown to others").fill("Browser Studio")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Password again").fill(password)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_selector("[data-signup-requested]")
    assert page.locator(".account .who").count() == 0  # not signed in until the address is confirmed

    link = re.search(r"https?://\S+/auth/verify/\S+", inbox.wait_for(email).get_payload(decode=True).decode())
    page.goto(link.group(0))
    page.locator(".flash", has_text="Your e-mail address is verified").wait_for()
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()

    who = page.locator(".account .who")
    who.wait_for()
    assert who.get_attribute("data-role") == "seller"
    assert "Browser Studio" in who.inner_text()
    with session_factory() as session:
        user = session.scalar(select(User).where(User.email == email))
    assert user.role == Role.SELLER and user.password_hash.startswith("$argon2id$") and user.is_verified

    page.get_by_role("button", name="Sign out").click()
    page.locator(".flash", has_text="You are signed out.").wait_for()
    assert page.locator(".account .who").count() == 0

    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill("not my password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.locator(".flash-error", has_text="E-mail or password is not correct.").wait_for()

    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    who.wait_for()
    assert who.get_attribute("data-role") == "seller"
    who.click()
    page.wait_for_url("**/auth/account")
    assert email in page.locator("main").inner_text()

"""Headless Chromium: a seller signs up, signs out and signs back in through the pages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Role, User
from tests.support import unique_email

pytestmark = pytest.mark.browser


def test_a_seller_signs_up_signs_out_and_signs_back_in(page, live_server, session_factory):
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

    who = page.locator(".account .who")
    who.wait_for()
    assert who.get_attribute("data-role") == "seller"
    assert "Browser Studio" in who.inner_text()
    with session_factory() as session:
        user = session.scalar(select(User).where(User.email == email))
    assert user.role == Role.SELLER and user.password_hash.startswith("$argon2id$")

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

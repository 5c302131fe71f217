"""Password reset in headless Chromium: form → real SMTP capture → link → new password;
a browser signed in before the reset is signed out (issue 14 acceptance)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from models import Role
from portal import create_app
from tests.browser_support import screenshot, sign_in_browser
from tests.conftest import LiveServer
from tests.mail_support import Inbox, smtp_server
from tests.support import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NEW_PASSWORD = "correct horse battery staple"


def test_password_reset_through_the_mail_signs_out_the_old_session(browser, settings, make_user):
    user = make_user(Role.VIEWER)
    with smtp_server() as (inbox, port):
        web = free_port()  # the mailed link points at PUBLIC_BASE_URL (issue 18, item 1): this server
        server = LiveServer(create_app(replace(settings, smtp_host="127.0.0.1", smtp_port=port,
                                               public_base_url=f"http://127.0.0.1:{web}")), port=web).start()
        old, new = browser.new_context(), browser.new_context()
        try:
            old_page, page = old.new_page(), new.new_page()
            sign_in_browser(old_page, server.url, user, "/auth/account")
            assert old_page.url.endswith("/auth/account")

            page.goto(f"{server.url}/auth/signin")
            page.click("text=Forgot password?")
            page.fill("#email", user.email)
            page.click("main form button[type=submit]")
            page.wait_for_selector("[data-reset-requested]")
            screenshot(page, "reset-requested")

            page.goto(Inbox.link(inbox.wait_for(user.email)))
            page.fill("#password", NEW_PASSWORD)
            page.fill("#confirm", NEW_PASSWORD)
            screenshot(page, "reset-form")
            page.click("main form button[type=submit]")
            page.wait_for_url("**/auth/signin")
            assert "every other session is signed out" in page.inner_text("main")

            page.fill("#email", user.email)
            page.fill("#password", NEW_PASSWORD)
            page.click("main form button[type=submit]")
            page.wait_for_load_state()
            assert page.locator(".account .who").count() == 1

            # The browser that signed in with the old password is signed out.
            old_page.goto(f"{server.url}/auth/account")
            assert "/auth/signin" in old_page.url
            assert old_page.locator(".account .who").count() == 0
        finally:
            old.close()
            new.close()
            server.stop()

"""Helpers for the browser tests: signing in through the real form, waiting, screenshots."""

from __future__ import annotations

import time
from pathlib import Path

from models import User
from tests.support import TEST_PASSWORD

# Screenshots a person looks at; git-ignored.
ARTIFACTS = Path(__file__).parent / "artifacts"


def sign_in_browser(page, base_url: str, user: User, next_path: str = "/") -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base_url}/auth/signin?next={next_path}")
    page.fill("#email", user.email)
    page.fill("#password", TEST_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


def wait_for(condition, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    """Poll `condition` (a callable) until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def wait_for_js(page, expression: str, timeout: float = 15_000) -> None:  # type: ignore[no-untyped-def]
    """Wait until a JavaScript expression is true in `page` (timeout in ms), polled from Python.

    Playwright's wait_for_function polls by compiling the expression inside the page, which
    the portal's Content-Security-Policy (no 'unsafe-eval') refuses; `page.evaluate` runs
    through the DevTools protocol, outside the page's policy.
    """
    from playwright.sync_api import Error

    def true_now() -> bool:
        try:
            return bool(page.evaluate(expression))
        except Error:  # the page is navigating: its next document is asked next time
            return False

    try:
        wait_for(true_now, timeout / 1000)
    except AssertionError:
        raise AssertionError(f"not true within {timeout / 1000:g} s: {expression}") from None


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_findings(page) -> list[str]:  # type: ignore[no-untyped-def]
    """axe-core's serious and critical findings on the page as it is now (the rule of
    tests/test_pages_browser.py, for a page in a state that test does not set up)."""
    from tests.test_pages_browser import AXE, RUN_AXE

    page.evaluate(AXE.read_text())
    return list(page.evaluate(RUN_AXE))

"""The pages work under the enforced Content-Security-Policy (issue 13, defect 10): Chromium
reports no violation on the main pages or on the player while a video and its pre-roll play."""

from __future__ import annotations

import time

import pytest

from models import Role
from models.catalog_service import create_ad, create_video
from paysystem.config import PROJECT_ROOT
from tests.support import TEST_PASSWORD
from tests.watching_support import add_ad, clip

pytestmark = [pytest.mark.browser]

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
LISTEN = """() => { window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation',
    (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI)); }"""


def _poll(condition, seconds: float = 20) -> None:  # type: ignore[no-untyped-def]
    """Wait for `condition` from Python: wait_for_function would need eval in the page."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.2)


def test_pages_and_the_player_run_under_the_csp(browser, live_server, make_user, session_factory, settings,
                                                tmp_path_factory):
    seller, viewer, admin = make_user(Role.SELLER), make_user(Role.VIEWER), make_user(Role.ADMIN)
    clips = tmp_path_factory.getbasetemp()
    add_ad(session_factory, only=True, active=False)
    with session_factory() as db:
        # The player test's clip (encoded once per session); its slots are at 0:00 and 5:00.
        with clip(clips, 610).open("rb") as upload:
            video = create_video(db, seller=db.merge(seller), title="Under the policy", description="",
                                 upload=upload, filename="csp.webm", media_root=settings.media_root)
        with clip(clips, 2).open("rb") as upload:
            create_ad(db, admin=db.merge(admin), title="Policy ad", upload=upload, filename="ad.webm",
                      media_root=settings.media_root)
        video_id = video.id
    context = browser.new_context()  # the policy enforced, unlike the shared `page` fixture
    page = context.new_page()
    page.set_default_timeout(15_000)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(f"({LISTEN})()")
    try:
        for path in ("/", "/videos", "/auth/signup"):
            page.goto(live_server.url + path)
            assert page.evaluate("window.__cspViolations") == [], path
        page.goto(f"{live_server.url}/auth/signin?next=/videos/{video_id}")
        page.fill("#email", viewer.email)
        page.fill("#password", TEST_PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_url(f"**/videos/{video_id}")
        content = page.locator("video.content")
        _poll(lambda: content.evaluate("v => v.readyState >= 1"))
        content.evaluate("v => v.play()")
        _poll(lambda: page.locator("[data-player]").get_attribute("data-ads-played") == "1")
        assert page.locator("[data-player]").get_attribute("data-ads-played") == "1", (
            console, page.evaluate("window.__cspViolations"))
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "csp-player.png"))
        assert page.evaluate("window.__cspViolations") == []
        assert not [line for line in console if "Content Security Policy" in line], console
    finally:
        context.close()

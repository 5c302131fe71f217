"""The pages work under the enforced Content-Security-Policy (issue 13, defect 10): Chromium
reports no violation on the pages of every role (the player's, the sellers' and the
operations and seller-portal pages included) or on the player while a video and its pre-roll play.

The shared `page` fixture (tests/conftest.py) enforces the policy and fails a test on any
violation, so every browser test checks its own pages too; this one walks the rest.
"""

from __future__ import annotations

import pytest

from models import Role
from models.catalog.service import create_ad, create_video
from settings import PROJECT_ROOT
from tests.browser_support import sign_in_browser, wait_for_js
from tests.watching_support import add_ad, clip

pytestmark = [pytest.mark.browser]

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
PLAYER = "document.querySelector('[data-player]').dataset"
# Pages each role looks at, beyond the player (which is played below).
PAGES = {
    Role.VIEWER: ["/auth/account", "/videos"],
    Role.SELLER: ["/videos/mine", "/videos/upload", "/videos/{video_id}/edit", "/videos/{video_id}/delete",
                  "/dashboard", "/settlements", "/videos/{video_id}/stats"],
    Role.ADMIN: ["/admin/users/", "/admin/ads", "/admin/ads/{ad_id}", "/admin/runs/", "/admin/status/",
                 "/admin/plans/", "/admin/ads/impressions"],
}


def _sign_out(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page.context.clear_cookies()
    page.goto(base_url + "/")


@pytest.mark.slow
def test_pages_and_the_player_run_under_the_csp(page, live_server, make_user, session_factory, settings,
                                                tmp_path_factory):
    users = {role: make_user(role) for role in (Role.VIEWER, Role.SELLER, Role.ADMIN)}
    clips = tmp_path_factory.getbasetemp()
    add_ad(session_factory, only=True, active=False)
    with session_factory() as db:
        # The player test's clip (encoded once per session); its slots are at 0:00 and 5:00.
        with clip(clips, 610).open("rb") as upload:
            video = create_video(db, seller=db.merge(users[Role.SELLER]), title="Under the policy",
                                 description="", upload=upload, filename="csp.webm", media_root=settings.media_root)
        with clip(clips, 2).open("rb") as upload:
            ad = create_ad(db, admin=db.merge(users[Role.ADMIN]), title="Policy ad", upload=upload,
                           filename="ad.webm", media_root=settings.media_root)
        ids = {"video_id": video.id, "ad_id": ad.id}
    for path in ("/", "/videos", "/auth/signup", "/auth/signin", "/auth/forgot", "/no-such-page"):
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")

    for role, paths in PAGES.items():
        sign_in_browser(page, live_server.url, users[role])
        for path in paths:
            response = page.goto(live_server.url + path.format(**ids))
            assert response is not None and response.status == 200, path
            page.wait_for_load_state("networkidle")
        _sign_out(page, live_server.url)

    sign_in_browser(page, live_server.url, users[Role.VIEWER], f"/videos/{ids['video_id']}")
    wait_for_js(page, "document.querySelector('video.content').readyState >= 1")
    page.click(".ctl-play")
    wait_for_js(page, f"{PLAYER}.adsPlayed === '1'", timeout=20_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "csp-player.png"))
    # A violation on any of these pages fails the test in the `page` fixture's teardown.

"""A viewer watches in headless Chromium: pre-roll, a seek past 5:00 and its ad, a report made
by the player's timer while playing, pause, reload and resume.

Real media (a 10:10 WebM video, so slots at 0:00 and 5:00, and a 2-second ad), the real
player script, the real server; afterwards the database must hold one counted session, two ad views and a watch time
within 3 s of what the browser really played.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AdView, PlayHistory, PlaySession, PlayStatus, Role
from models.catalog.service import create_ad, create_video
from tests.browser_support import wait_for, wait_for_js
from tests.support import TEST_PASSWORD
from tests.watching_support import add_ad, clip

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CONTENT = "document.querySelector('video.content')"
PLAYER = "document.querySelector('[data-player]').dataset"
PLAYED_SECONDS = f"""(() => {{
  const ranges = {CONTENT}.played; let total = 0;
  for (let i = 0; i < ranges.length; i++) total += ranges.end(i) - ranges.start(i);
  return total;
}})()"""


def test_viewer_watches_with_ad_breaks_pauses_and_resumes(live_server, page, make_user, session_factory, settings,
                                                          tmp_path_factory):
    seller, viewer, admin = make_user(Role.SELLER), make_user(Role.VIEWER), make_user(Role.ADMIN)
    clips = tmp_path_factory.getbasetemp()
    add_ad(session_factory, only=True, active=False)  # switch every other test's ads off
    with session_factory() as db:
        seller_row, admin_row = db.merge(seller), db.merge(admin)
        with clip(clips, 610).open("rb") as upload:
            video = create_video(db, seller=seller_row, title="Han River at dawn", description="", upload=upload,
                                 filename="river.webm", media_root=settings.media_root)
        with clip(clips, 2).open("rb") as upload:
            ad = create_ad(db, admin=admin_row, title="Spring sale", upload=upload, filename="ad.webm",
                           media_root=settings.media_root)
        video_id, ad_id = video.id, ad.id

    page.goto(f"{live_server.url}/auth/signin?next=/videos/{video_id}")
    page.fill("#email", viewer.email)
    page.fill("#password", TEST_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"**/videos/{video_id}")
    wait_for_js(page, f"{CONTENT}.readyState >= 1")

    # Play: the session opens and the pre-roll (slot 0) plays before the video.
    page.evaluate(f"{CONTENT}.play()")
    wait_for_js(page, f"{PLAYER}.adsPlayed === '1'")
    wait_for_js(page, f"!{CONTENT}.paused && {CONTENT}.currentTime > 0.5")
    page.wait_for_timeout(3_000)

    # Seek past 5:00: the content pauses and the second ad (slot 1) plays, then the video goes on.
    page.evaluate(f"{CONTENT}.currentTime = 305")
    wait_for_js(page, f"{PLAYER}.adsPlayed === '2'")
    wait_for_js(page, f"!{CONTENT}.paused && {CONTENT}.currentTime > 305.5")

    # While it plays, the player reports on its own at least every 10 s.
    def reported_while_playing():  # type: ignore[no-untyped-def]
        with session_factory() as db:
            history = db.get(PlayHistory, (viewer.id, video_id))
            return history.status == PlayStatus.PLAY and history.last_position_ms >= 312_000

    wait_for(reported_while_playing, timeout=15)
    assert not page.evaluate(f"{CONTENT}.paused")
    page.evaluate(f"{CONTENT}.pause()")
    stopped_at = page.evaluate(f"{CONTENT}.currentTime")
    played = page.evaluate(PLAYED_SECONDS)

    def paused_history():  # type: ignore[no-untyped-def]
        with session_factory() as db:
            history = db.get(PlayHistory, (viewer.id, video_id))
            return history if history is not None and history.status == PlayStatus.PAUSE else None

    history = wait_for(paused_history)
    assert abs(history.last_position_ms / 1000 - stopped_at) < 0.3

    # Reload: the player starts where the viewer paused.
    page.reload()
    wait_for_js(page, f"{CONTENT}.readyState >= 1 && {CONTENT}.currentTime > 300")
    assert abs(page.evaluate(f"{CONTENT}.currentTime") - history.last_position_ms / 1000) < 0.01
    assert page.evaluate(f"{CONTENT}.paused")

    with session_factory() as db:
        sessions = db.scalars(select(PlaySession).where(PlaySession.viewer_id == viewer.id,
                                                        PlaySession.video_id == video_id)).all()
        assert len(sessions) == 1
        session = sessions[0]
        assert session.counted and session.reject_reason is None
        views = db.scalars(select(AdView).where(AdView.session_id == session.id).order_by(AdView.slot_index)).all()
        assert [(v.slot_index, v.ad_id) for v in views] == [(0, ad_id), (1, ad_id)]
        assert session.furthest_position_ms >= 305_000
        assert abs(session.watch_ms / 1000 - played) <= 3, (session.watch_ms, played)
        assert 12 <= played <= 22

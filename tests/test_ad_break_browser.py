"""The ad break is a player state (§5, issue 14 items 1–2), in headless Chromium.

A viewer resumes a 12:00 video at 5:22, past both slots: exactly one ad plays (the 5:00
slot's) and one ad view is recorded. The ad is a 20-second clip, so it can be skipped after
5 s. During it: the player container goes full screen with the ad visible on top, the
"Ad 2 of 2 · m:ss" countdown decreases, Space pauses and resumes the ad, Skip appears after
5 s and the skip is recorded on the ad view.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from models import AdView, PlayHistory, PlaySession, PlayStatus, Role
from models.catalog.service import create_ad, create_video
from tests.browser_support import screenshot, sign_in_browser, wait_for, wait_for_js
from tests.watching_support import add_ad, clip

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AD = "document.querySelector('video.ad')"
CONTENT = "document.querySelector('video.content')"
PLAYER = "document.querySelector('[data-player]').dataset"
AD_ON_TOP = """(() => {
  const stage = document.querySelector('.stage');
  const box = document.querySelector('.ad-break');
  const ad = box.querySelector('video.ad');
  const rect = ad.getBoundingClientRect();
  const hit = document.elementFromPoint(rect.left + rect.width / 2, rect.top + rect.height / 2);
  return document.fullscreenElement === stage && !box.hidden && rect.width > 0 && rect.height > 0
    && getComputedStyle(box).visibility === 'visible' && box.contains(hit);
})()"""


def test_resuming_past_two_slots_plays_one_skippable_ad_in_the_player(
        live_server, page, make_user, session_factory, settings, tmp_path_factory):
    seller, viewer, admin = make_user(Role.SELLER), make_user(Role.VIEWER), make_user(Role.ADMIN)
    clips = tmp_path_factory.getbasetemp()
    add_ad(session_factory, only=True, active=False)  # switch every other test's ads off
    with session_factory() as db:
        seller_row, admin_row = db.merge(seller), db.merge(admin)
        with clip(clips, 720).open("rb") as upload:
            video = create_video(db, seller=seller_row, title="Seoul by night", description="", upload=upload,
                                 filename="night.webm", media_root=settings.media_root)
        with clip(clips, 20).open("rb") as upload:
            ad = create_ad(db, admin=admin_row, title="Long spring sale", upload=upload, filename="ad20.webm",
                           media_root=settings.media_root)
        db.add(PlayHistory(viewer_id=viewer.id, video_id=video.id, last_position_ms=322_000,
                           status=PlayStatus.PAUSE, updated_at=datetime.now(UTC)))
        db.commit()
        video_id, ad_id = video.id, ad.id

    sign_in_browser(page, live_server.url, viewer, f"/videos/{video_id}")
    wait_for_js(page, f"{CONTENT}.readyState >= 1 && {CONTENT}.currentTime > 321")

    # Play from 5:22: one break, for the 5:00 slot (the pre-roll was jumped over).
    page.click(".ctl-play")
    wait_for_js(page, f"{PLAYER}.adsPlayed === '1'")
    assert page.inner_text(".ad-number") == "2 of 2"
    assert page.evaluate(f"{CONTENT}.paused")
    # On a phone the ad, its label and the controls fit the width.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    screenshot(page, "player-ad-390")
    page.set_viewport_size({"width": 1280, "height": 720})

    # Full screen during the ad: the container is the fullscreen element and the ad is on top.
    page.keyboard.press("f")
    wait_for_js(page, AD_ON_TOP)
    screenshot(page, "player-ad-fullscreen")

    # The countdown decreases.
    first = int(page.evaluate(f"{PLAYER}.adRemaining"))
    wait_for_js(page, f"Number({PLAYER}.adRemaining) < {first}")
    assert page.inner_text(".ad-remaining").startswith("0:")

    # Space pauses the ad (and does not scroll the page); Space again plays it.
    page.keyboard.press("Space")
    wait_for_js(page, f"{AD}.paused")
    paused_at = page.evaluate(f"{AD}.currentTime")
    page.wait_for_timeout(800)
    assert page.evaluate(f"{AD}.currentTime") == paused_at
    assert page.evaluate("window.scrollY") == 0
    page.keyboard.press("Space")
    wait_for_js(page, f"!{AD}.paused")

    # Skip appears after 5 s of the 20-second ad, not before.
    assert page.is_hidden(".ad-skip") or page.evaluate(f"{AD}.currentTime") >= 5
    page.wait_for_selector(".ad-skip", state="visible", timeout=15_000)
    assert page.evaluate(f"{AD}.currentTime") >= 5
    page.click(".ad-skip")
    wait_for_js(page, f"{PLAYER}.adsSkipped === '1'")
    wait_for_js(page, f"!{CONTENT}.paused && {CONTENT}.currentTime > 322.5")
    assert page.is_hidden(".ad-break")
    page.keyboard.press("Space")
    wait_for_js(page, f"{CONTENT}.paused")

    def one_session_with_its_views():  # type: ignore[no-untyped-def]
        with session_factory() as db:
            sessions = db.scalars(select(PlaySession).where(PlaySession.viewer_id == viewer.id)).all()
            if len(sessions) != 1:
                return None
            return sessions[0], db.scalars(select(AdView).where(AdView.session_id == sessions[0].id)).all()

    session, views = wait_for(one_session_with_its_views)
    assert [(v.slot_index, v.ad_id) for v in views] == [(1, ad_id)]
    assert views[0].skipped_at is not None and (views[0].skipped_at - views[0].viewed_at).total_seconds() >= 4
    assert session.counted


def test_the_ad_view_waits_until_the_page_is_visible_and_the_controls_answer_keys(
        live_server, page, make_user, session_factory, settings, tmp_path_factory):
    seller, viewer, admin = make_user(Role.SELLER), make_user(Role.VIEWER), make_user(Role.ADMIN)
    clips = tmp_path_factory.getbasetemp()
    add_ad(session_factory, only=True, active=False)
    with session_factory() as db:
        with clip(clips, 720).open("rb") as upload:
            video = create_video(db, seller=db.merge(seller), title="Hidden tab", description="", upload=upload,
                                 filename="tab.webm", media_root=settings.media_root)
        with clip(clips, 3).open("rb") as upload:
            create_ad(db, admin=db.merge(admin), title="Short ad", upload=upload, filename="ad3.webm",
                      media_root=settings.media_root)
        video_id = video.id
    # The test decides what document.visibilityState says (a headless page is always "visible").
    page.add_init_script("""Object.defineProperty(Document.prototype, 'visibilityState',
      {configurable: true, get() { return window.__hidden ? 'hidden' : 'visible'; }});""")
    sign_in_browser(page, live_server.url, viewer, f"/videos/{video_id}")
    wait_for_js(page, f"{CONTENT}.readyState >= 1")

    # The seek bar marks both slots (0:00 and 5:00 of 12:00).
    marks = page.eval_on_selector_all(".slot-mark", "marks => marks.map(m => m.style.left)")
    assert [round(float(m.rstrip("%")), 2) for m in marks] == [0.0, 41.67]
    page.keyboard.press("m")
    assert page.evaluate(f"{CONTENT}.muted") and page.get_attribute(".ctl-mute", "aria-pressed") == "true"

    page.evaluate("window.__hidden = true")
    page.click(".ctl-play")
    wait_for_js(page, f"{PLAYER}.state === 'ad'")
    page.wait_for_timeout(1_500)
    assert page.evaluate(f"{PLAYER}.adsPlayed") == "0" and page.evaluate(f"{AD}.paused")
    page.evaluate("window.__hidden = false; document.dispatchEvent(new Event('visibilitychange'))")
    wait_for_js(page, f"{PLAYER}.adsPlayed === '1'")
    assert page.evaluate(f"{AD}.muted")  # the mute carried over to the ad
    wait_for_js(page, f"!{CONTENT}.paused", timeout=15_000)  # the 3-second ad ends, the video plays
    page.keyboard.press("ArrowRight")
    wait_for_js(page, f"{CONTENT}.currentTime >= 5")
    with session_factory() as db:
        assert db.scalar(select(func.count()).select_from(AdView).join(PlaySession)
                         .where(PlaySession.viewer_id == viewer.id)) == 1

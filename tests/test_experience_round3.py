"""Issue 21, item 14 (parts): the admins' ad list shows a poster and the registration date; the
player's ad markers stay on the seek bar once played, drawn as played; the header marks
"My videos", not "Videos", on the My videos pages under /videos/."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from models import Ad, Role
from models.catalog.posters import poster_path_of
from models.catalog.service import create_ad, create_video
from tests.browser_support import ARTIFACTS, axe_findings, screenshot, sign_in_browser, wait_for_js
from tests.watching_support import add_ad, add_video, clip, csrf_token, sign_in

CONTENT = "document.querySelector('video.content')"
PLAYER = "document.querySelector('[data-player]').dataset"
SIDEWAYS = "document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture
def registered_ad(make_user, session_factory, settings, tmp_path_factory):  # type: ignore[no-untyped-def]
    admin = make_user(Role.ADMIN)
    with session_factory() as db, clip(tmp_path_factory.getbasetemp(), 3).open("rb") as upload:
        ad = create_ad(db, admin=db.merge(admin), title="Spring sale poster", upload=upload, filename="s.webm",
                       media_root=settings.media_root, active=False)
        db.execute(Ad.__table__.update().where(Ad.id == ad.id).values(created_at=datetime(2026, 3, 1, 15, 30, tzinfo=UTC)))
        db.commit()
        return admin, ad


def test_the_ad_list_shows_each_ads_poster_and_registration_date(app, registered_ad, session_factory, settings,
                                                                   make_user):
    admin, ad = registered_ad
    no_file = add_ad(session_factory, active=False)  # its file is not on disk: a placeholder
    client = app.test_client()
    sign_in(client, admin)
    html = client.get("/admin/ads").get_data(as_text=True)
    assert "Registered" in html and "(Asia/Seoul)" in html
    row = _row(html, "Spring sale poster")
    assert f'src="/admin/ads/{ad.id}/poster.jpg"' in row
    assert "2026-03-02 00:30 KST" in row  # 15:30 UTC is past midnight in Seoul
    other = _row(html, no_file.title)
    assert "ad-thumb-none" in other and "poster.jpg" not in other

    image = client.get(f"/admin/ads/{ad.id}/poster.jpg")
    assert image.status_code == 200 and image.mimetype == "image/jpeg" and image.data[:2] == b"\xff\xd8"
    assert (settings.media_root / poster_path_of(ad.media_path)).is_file()
    viewer = app.test_client()
    sign_in(viewer, make_user(Role.VIEWER))
    assert viewer.get(f"/admin/ads/{ad.id}/poster.jpg").status_code == 403
    deleted = client.post(f"/admin/ads/{ad.id}/delete", data={"csrf_token": csrf_token(client)})
    assert deleted.status_code in (302, 303)
    assert client.get(f"/admin/ads/{ad.id}/poster.jpg").status_code == 404
    assert not (settings.media_root / poster_path_of(ad.media_path)).exists()


def _row(html: str, title: str) -> str:
    """The table row (one <tr> … </tr>) that holds `title`."""
    return re.search(rf"<tr>(?:(?!</tr>).)*?{re.escape(title)}.*?</tr>", html, re.S).group(0)


@pytest.mark.slow
@pytest.mark.browser
def test_the_ad_list_in_chromium(page, live_server, registered_ad):
    admin, ad = registered_ad
    # This test's ad, not the list's first thumbnail: the list holds every ad of the test session,
    # newest first, and another test's ad may have lost its file (its poster never loads).
    thumb = f"img.ad-thumb[src*='/admin/ads/{ad.id}/poster']"
    sign_in_browser(page, live_server.url, admin, "/admin/ads")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(live_server.url + "/admin/ads")
        page.locator(thumb).scroll_into_view_if_needed()  # thumbnails load lazily
        wait_for_js(page, f"(i => i.complete && i.naturalWidth > 0)(document.querySelector(\"{thumb}\"))")
        assert axe_findings(page) == []
        assert page.evaluate(SIDEWAYS) <= 0
        screenshot(page, f"ad-list-{width}")


@pytest.mark.slow
@pytest.mark.browser
def test_played_ad_markers_stay_on_the_seek_bar_drawn_as_played(
        page, live_server, make_user, session_factory, settings, tmp_path_factory):
    seller, viewer, admin = make_user(Role.SELLER), make_user(Role.VIEWER), make_user(Role.ADMIN)
    clips = tmp_path_factory.getbasetemp()
    add_ad(session_factory, only=True, active=False)  # every other test's ads off
    with session_factory() as db:
        with clip(clips, 720).open("rb") as upload:
            video = create_video(db, seller=db.merge(seller), title="Markers", description="", upload=upload,
                                 filename="m.webm", media_root=settings.media_root)
        with clip(clips, 3).open("rb") as upload:
            create_ad(db, admin=db.merge(admin), title="Short ad", upload=upload, filename="a3.webm",
                      media_root=settings.media_root)
        video_id = video.id
    sign_in_browser(page, live_server.url, viewer, f"/videos/{video_id}")
    marks = "[...document.querySelectorAll('.slot-mark')]"
    assert page.evaluate(f"{marks}.map(m => m.classList.contains('played'))") == [False, False]
    page.click(".ctl-play")
    wait_for_js(page, f"{PLAYER}.adsPlayed === '1'")  # the pre-roll (slot 0)
    wait_for_js(page, f"!{CONTENT}.paused && {CONTENT}.currentTime > 1")
    page.keyboard.press("Space")
    wait_for_js(page, f"{CONTENT}.paused")
    after_first = page.evaluate(f"{marks}.map(m => m.classList.contains('played'))")
    assert after_first == [True, False]
    page.evaluate(f"{CONTENT}.currentTime = 330")  # past the second slot: its break plays on the seek
    page.keyboard.press("Space")
    wait_for_js(page, f"{PLAYER}.adsPlayed === '2'")
    wait_for_js(page, f"!{CONTENT}.paused && {CONTENT}.currentTime > 330")
    page.keyboard.press("Space")
    wait_for_js(page, f"{CONTENT}.paused")
    state = page.evaluate(f"""{marks}.map(m => {{
        const r = m.getBoundingClientRect(); const s = getComputedStyle(m);
        return [m.classList.contains('played'), r.width > 0 && r.height > 0 && s.display !== 'none'
                && s.visibility === 'visible', s.backgroundColor];
    }})""")
    assert [played for played, _, _ in state] == [True, True]
    assert all(visible for _, visible, _ in state)  # still on the bar, which is played beyond both
    accent = "rgb(245, 197, 24)"  # the colour of the played part of the bar
    assert all(colour != accent for _, _, colour in state), "a marker in the bar's own colour disappears into it"
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 800})
        assert axe_findings(page) == []
        assert page.evaluate(SIDEWAYS) <= 0
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator(".controls").screenshot(path=str(ARTIFACTS / f"player-markers-controls-{width}.png"))
        screenshot(page, f"player-markers-{width}")


@pytest.mark.slow
@pytest.mark.browser
def test_the_header_marks_my_videos_on_its_pages_and_videos_on_the_catalog(page, live_server, make_user,
                                                                         session_factory):
    seller = make_user(Role.SELLER)
    video = add_video(session_factory, seller)
    sign_in_browser(page, live_server.url, seller, "/videos/mine")
    expected = {"/videos/mine": "My videos", "/videos/upload": "My videos", f"/videos/{video.id}/edit": "My videos",
                f"/videos/{video.id}/delete": "My videos", f"/videos/{video.id}/stats": "Dashboard",
                "/videos": "Videos", f"/videos/{video.id}": "Videos", "/dashboard": "Dashboard"}
    for path, name in expected.items():
        page.goto(live_server.url + path)
        current = page.evaluate("[...document.querySelectorAll('#site-menu a[aria-current=page]')].map(a => a.textContent.trim())")
        assert current == [name], (path, current)
    page.goto(f"{live_server.url}/videos/{video.id}/edit")
    screenshot(page, "nav-my-videos-edit-1280")

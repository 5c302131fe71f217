"""A seller uploads through the form in headless Chromium (issue 14, item 5): the file goes by
XMLHttpRequest with a progress bar, the answer replaces the page, and the new video is hidden
until published. A refused file shows the form again, still with its progress bar."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Role, Video
from tests.browser_support import screenshot, sign_in_browser
from tests.watching_support import clip

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_upload_shows_progress_and_keeps_the_video_hidden(live_server, page, make_user, session_factory,
                                                          tmp_path_factory, tmp_path):
    seller = make_user(Role.SELLER)
    sign_in_browser(page, live_server.url, seller, "/videos/upload")
    page.wait_for_url("**/videos/upload")
    shown: list[str] = []
    page.expose_function("recordProgress", lambda text: shown.append(text))
    watch_progress = """() => { const label = document.querySelector('.upload-percent');
      new MutationObserver(() => window.recordProgress(label.textContent))
        .observe(label, {childList: true, characterData: true, subtree: true}); }"""

    not_a_video = tmp_path / "notes.webm"
    not_a_video.write_bytes(b"this is not a video" * 100)
    page.fill("#title", "Broken")
    page.set_input_files("#file", str(not_a_video))
    page.click("main form button[type=submit]")
    page.wait_for_selector(".field-error")
    assert "could not be read as a video" in page.inner_text(".field-error")
    assert page.locator("form[data-upload] .upload-progress").count() == 1

    page.evaluate(watch_progress)
    page.fill("#title", "Hangang picnic")
    page.set_input_files("#file", str(clip(tmp_path_factory.getbasetemp(), 30)))
    page.click("main form button[type=submit]")
    page.wait_for_url("**/videos/mine")
    assert "0 % sent" in shown and any(text.startswith("Sent") for text in shown), shown
    screenshot(page, "upload-done-my-videos")
    assert "“Hangang picnic” is uploaded: 0:30 long, 0 ad slots." in page.inner_text("main .flash")
    with session_factory() as db:
        video = db.scalar(select(Video).where(Video.seller_id == seller.id))
        assert video.title == "Hangang picnic" and not video.is_published and video.poster_path

"""Issue 21, item 9: the upload page and the ad form show the limits the upload check applies
(MAX_UPLOAD_MB, MAX_VIDEO_SECONDS / MAX_AD_SECONDS, MAX_VIDEO_PIXELS), not the request-body limit."""

from __future__ import annotations

import re
from dataclasses import replace

from models import Role
from portal import create_app
from tests.watching_support import sign_in


def _limits_line(html: str) -> str:
    match = re.search(r"<p class=\"muted\" data-upload-limits>(.*?)</p>", html, re.S)
    assert match, "no limits line on the page"
    return match.group(1)


def test_the_upload_page_and_the_ad_form_show_the_configured_limits(settings, make_user):
    app = create_app(replace(settings, max_upload_mb=77, max_video_seconds=5400, max_ad_seconds=45,
                             max_video_pixels=1920 * 1080, max_body_kb=1024))
    client = app.test_client()
    sign_in(client, make_user(Role.SELLER))
    video = _limits_line(client.get("/videos/upload").get_data(as_text=True))
    assert "at most 77 MB" in video and "1 h 30 min long" in video
    assert "2,073,600 pixels (1920 × 1080)" in video
    assert "1 MB" not in video

    admin = app.test_client()
    sign_in(admin, make_user(Role.ADMIN))
    ad = _limits_line(admin.get("/admin/ads").get_data(as_text=True))
    assert "at most 77 MB" in ad and "45 s long" in ad and "(1920 × 1080)" in ad


def test_the_defaults_are_512_mb_4_hours_5_minutes_and_4k(client, make_user):
    sign_in(client, make_user(Role.SELLER))
    video = _limits_line(client.get("/videos/upload").get_data(as_text=True))
    assert "at most 512 MB and 4 h long" in video and "(3840 × 2160)" in video
    admin = client.application.test_client()
    sign_in(admin, make_user(Role.ADMIN))
    assert "at most 512 MB and 5 min long" in _limits_line(admin.get("/admin/ads").get_data(as_text=True))

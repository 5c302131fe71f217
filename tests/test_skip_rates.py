"""Issue 21, item 12: the skip rate (skipped ad views / skippable ad views, ads over 15 s)
per ad on the admins' ad list, impressions page and ads API, and per video on the seller's
per-video page and the video statistics API; "—" / null when no view could be skipped."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from models import Role
from models.business_time import today
from models.figures.skip_rates import SkipRate, ad_skip_rates, video_skip_rate
from models.playback.tables import AdView, PlaySession
from tests.watching_support import add_ad, add_video, bearer, sign_in


def _views(factory, viewer, video, ad, day: date, views: int, skipped: int) -> None:  # type: ignore[no-untyped-def]
    """`views` ad views of `ad` in `video` on `day` (one session each), the first `skipped` of them skipped."""
    at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=3)
    with factory() as db:
        for n in range(views):
            play = PlaySession(viewer_id=viewer.id, video_id=video.id, day=day, started_at=at, last_report_at=at,
                               counted=True, length_ms=video.duration_seconds * 1000)
            db.add(play)
            db.flush()
            db.add(AdView(session_id=play.id, video_id=video.id, day=day, counted=True, slot_index=0, ad_id=ad.id,
                          viewed_at=at, skipped_at=at + timedelta(seconds=6) if n < skipped else None))
        db.commit()


@pytest.fixture
def world(make_user, session_factory, settings):  # type: ignore[no-untyped-def]
    seller, viewer, admin = make_user(Role.SELLER), make_user(Role.VIEWER), make_user(Role.ADMIN)
    video, other, quiet = (add_video(session_factory, seller, title=f"Skips {n}") for n in "VWQ")
    long30, long20, short = (add_ad(session_factory, seconds=s) for s in (30, 20, 15))
    current = today(settings.tz)
    old = current - timedelta(days=40)
    _views(session_factory, viewer, video, long30, current, views=4, skipped=1)
    _views(session_factory, viewer, video, short, current, views=3, skipped=0)  # 15 s: never skippable
    _views(session_factory, viewer, other, long30, current, views=2, skipped=2)
    _views(session_factory, viewer, other, long20, old, views=2, skipped=2)  # outside the recent 30 days
    return dict(seller=seller, admin=admin, video=video, other=other, quiet=quiet, long30=long30, long20=long20,
                short=short, current=current, old=old)


def test_the_rates_count_only_skippable_views_per_ad_and_per_video(db, world):
    w = world
    per_ad = ad_skip_rates(db, w["old"], w["current"])
    assert per_ad[w["long30"].id] == SkipRate(3, 6) and per_ad[w["long30"].id].rate == 0.5
    assert per_ad[w["long20"].id] == SkipRate(2, 2)
    assert w["short"].id not in per_ad
    assert ad_skip_rates(db, w["current"], w["current"]).get(w["long20"].id) is None
    assert video_skip_rate(db, w["video"].id, w["current"], w["current"]) == SkipRate(1, 4)
    assert video_skip_rate(db, w["quiet"].id, w["old"], w["current"]).rate is None


def _cell(html: str, title: str, attribute: str) -> str:
    row = re.search(rf"<tr>(?:(?!</tr>).)*?{re.escape(title)}.*?</tr>", html, re.S)
    assert row, f"no row for {title}"
    cell = re.search(rf"<td[^>]*{attribute}[^>]*>(.*?)</td>", row.group(0), re.S)
    assert cell, f"no {attribute} cell for {title}"
    return cell.group(1).strip()


def test_the_admins_ad_list_and_impressions_page_show_each_ads_skip_rate(app, world):
    w = world
    admin = app.test_client()
    sign_in(admin, w["admin"])
    page = admin.get("/admin/ads").get_data(as_text=True)
    assert "Skipped" in page and "last 30 days" in page
    assert _cell(page, w["long30"].title, "data-skip-rate") == "50 % (3 of 6 skippable)"
    assert _cell(page, w["short"].title, "data-skip-rate") == "—"
    assert _cell(page, w["long20"].title, "data-skip-rate") == "—"  # its skips are 40 days old

    impressions = admin.get(f"/admin/ads/impressions?from={w['old']}&to={w['current']}").get_data(as_text=True)
    for ad, text in ((w["long30"], "50 % (3 of 6 skippable)"), (w["long20"], "100 % (2 of 2 skippable)"),
                     (w["short"], "—")):
        cell = re.search(rf'data-skip-ad-id="{ad.id}">(.*?)</td>', impressions)
        assert cell and cell.group(1) == text, (ad.title, cell and cell.group(1))


def test_the_ads_api_lists_each_ads_skips(client, world, settings):
    w = world
    body = client.get("/api/v1/ads", headers=bearer(w["admin"], settings)).get_json()
    by_id = {item["id"]: item["skips"] for item in body["items"]}
    assert by_id[w["long30"].id] == {"skipped": 3, "skippable": 6, "skip_rate": 0.5}
    assert by_id[w["short"].id] == {"skipped": 0, "skippable": 0, "skip_rate": None}


def test_the_sellers_video_page_and_stats_api_show_the_videos_skip_rate(app, client, world, settings):
    w = world
    seller = app.test_client()
    sign_in(seller, w["seller"])
    page = seller.get(f"/videos/{w['video'].id}/stats").get_data(as_text=True)
    assert re.search(r"Ads skipped: <strong>25 % \(1 of 4 skippable\)</strong>", page)
    fragment = seller.get(f"/videos/{w['video'].id}/stats?from={w['current']}&to={w['current']}",
                          headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "25 % (1 of 4 skippable)" in fragment  # the range switch refreshes it
    quiet = seller.get(f"/videos/{w['quiet'].id}/stats").get_data(as_text=True)
    assert re.search(r"Ads skipped: <strong>—</strong>", quiet)

    api = client.get(f"/api/v1/videos/{w['video'].id}/stats", headers=bearer(w["seller"], settings)).get_json()
    assert api["ad_skips"] == {"skipped": 1, "skippable": 4, "skip_rate": 0.25}
    none = client.get(f"/api/v1/videos/{w['quiet'].id}/stats", headers=bearer(w["seller"], settings)).get_json()
    assert none["ad_skips"]["skip_rate"] is None


def test_the_openapi_document_describes_the_skip_figures(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    listed = next(v for k, v in schemas.items() if k.split(".")[-1] == "ListedAd")
    series = next(v for k, v in schemas.items() if k.split(".")[-1] == "VideoSeries")
    assert "skips" in listed["properties"] and "ad_skips" in series["properties"]
    skip = next(v for k, v in schemas.items() if k.split(".")[-1] == "SkipFigures")
    assert set(skip["properties"]) == {"skipped", "skippable", "skip_rate"}


@pytest.mark.slow
@pytest.mark.browser
def test_the_skip_rates_in_chromium(browser, live_server, world):
    """The pages that gained a skip rate, at 1280 and 390 px: axe finds nothing serious, no
    sideways scrolling, and a screenshot of each (tests/artifacts/skip-rate-*.png)."""
    from tests.browser_support import axe_findings, screenshot, sign_in_browser

    w = world
    pages = {"seller": [f"/videos/{w['video'].id}/stats"],
             "admin": ["/admin/ads", f"/admin/ads/impressions?from={w['current'] - timedelta(days=6)}&to={w['current']}"]}
    for role, paths in pages.items():
        context = browser.new_context()
        page = context.new_page()
        sign_in_browser(page, live_server.url, w[role], "/auth/account")
        for path in paths:
            for width in (1280, 390):
                page.set_viewport_size({"width": width, "height": 900})
                page.goto(live_server.url + path)
                assert page.locator("[data-skip-rate], .skip-rates").first.is_visible()
                assert axe_findings(page) == [], (path, width)
                assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, (path, width)
                screenshot(page, f"skip-rate-{role}-{re.sub(r'[^a-z]+', '-', path.split('?')[0])}-{width}")
        context.close()

"""Audience retention in the API and on the per-video page (issue 22, items 1 and 5), on the
generated portal data set: figures against the raw sessions, scoping, bad input, htmx fragment."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import PlaySession, Video
from models.business_time import month_range, week_range
from tests.watching_support import bearer, sign_in


def _api(app, data, user, url):  # type: ignore[no-untyped-def]
    return app.test_client().get("/api/v1" + url, headers=bearer(user, data.backend.settings))


def _expected(data, video_id: int, first, last) -> dict:
    """From the raw sessions: views, shares still watching, average percentage and view duration."""
    with Session(data.backend.engine) as s:
        length = s.get(Video, video_id).duration_seconds * 1000
        rows = s.execute(select(PlaySession.day, PlaySession.furthest_position_ms, PlaySession.watch_ms).where(
            PlaySession.video_id == video_id, PlaySession.counted.is_(True),
            PlaySession.day.between(first, last))).all()
    reaches = [min(r.furthest_position_ms, r.watch_ms, length) for r in rows]
    per_day: dict = defaultdict(int)
    for r in rows:
        per_day[r.day] += r.watch_ms
    n = len(rows)
    return {"views": n,
            "curve": [sum(1 for x in reaches if x * 100 >= pct * length) / n for pct in range(101)] if n else [],
            "avg_pct_viewed": 100 * sum(reaches) / (n * length) if n else None,
            "avg_view_seconds": sum(ms // 1000 for ms in per_day.values()) / n if n else None}


def test_api_day_week_month_equal_the_raw_sessions(portal_app, portal_data):
    seller = portal_data.sellers[0]
    vid = portal_data.videos[seller.id][0]
    day = portal_data.last
    for period, (first, last) in (("day", (day, day)), ("week", week_range(day)), ("month", month_range(day))):
        body = _api(portal_app, portal_data, seller, f"/videos/{vid}/retention?period={period}&date={day}").get_json()
        want = _expected(portal_data, vid, first, min(last, portal_data.last))
        assert body["period_start"] == first.isoformat() and body["period_end"] == last.isoformat()
        assert body["views"] == want["views"], period
        assert [p["share"] for p in body["curve"]] == want["curve"]
        assert [p["pct"] for p in body["curve"]] == (list(range(101)) if want["views"] else [])
        assert body["avg_view_seconds"] == want["avg_view_seconds"]
        if want["views"]:
            assert abs(body["avg_pct_viewed"] - want["avg_pct_viewed"]) < 1e-9
        assert body["ad_slot_pcts"] == [0.0, 25.0, 50.0, 75.0]  # 20 min: slots at 0, 5, 10, 15 min
        assert set(body["ad_skips"]) == {"skipped", "skippable", "skip_rate"}
    assert any(_api(portal_app, portal_data, seller, f"/videos/{vid}/retention?period=month&date={day}")
               .get_json()["views"] for vid in portal_data.videos[seller.id])


def test_api_scoping_and_bad_input(portal_app, portal_data):
    seller = portal_data.sellers[2]
    other = portal_data.other_seller_video(seller)
    mine = portal_data.videos[seller.id][0]
    refused = _api(portal_app, portal_data, seller, f"/videos/{other}/retention")
    assert refused.status_code == 404 and set(refused.get_json()) == {"error", "message"}
    assert _api(portal_app, portal_data, seller, "/videos/999999999/retention").status_code == 404
    assert _api(portal_app, portal_data, portal_data.viewer, f"/videos/{mine}/retention").status_code == 403
    assert _api(portal_app, portal_data, portal_data.admin, f"/videos/{other}/retention").status_code == 200
    for query in ("period=year", "date=2026-13-01", "date=yesterday", "date=9999-01-01"):
        answer = _api(portal_app, portal_data, seller, f"/videos/{mine}/retention?{query}")
        assert answer.status_code == 422 and answer.get_json()["error"] == "invalid_request", query
    spec = portal_app.test_client().get("/api/v1/openapi.json").get_json()
    assert "/api/v1/videos/{video_id}/retention" in spec["paths"]


def test_the_page_and_its_fragment_show_retention_beside_skips_and_filtered_plays(portal_app, portal_data):
    seller = portal_data.sellers[0]
    vid = portal_data.videos[seller.id][0]
    client = portal_app.test_client()
    sign_in(client, seller)
    first, last = portal_data.first, portal_data.last
    page = client.get(f"/videos/{vid}/stats?from={first}&to={last}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "HX-Request" in page.headers["Vary"]
    assert "Audience retention" in html and "How retention is measured" in html
    want = _expected(portal_data, vid, first, last)
    assert f'data-retention-views>{want["views"]:,}<' in html
    assert f'data-avg-pct>{want["avg_pct_viewed"]:.1f}&nbsp;%<' in html
    assert "data-skip-rate" in html and "data-filtered-own" in html and "data-filtered-repeat" in html
    assert want["views"] and 'aria-label="Share of the counted views still watching' in html  # the chart
    fragment = client.get(f"/videos/{vid}/stats?from={last}&to={last}",
                          headers={"HX-Request": "true", "HX-Target": "video-figures"})
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and fragment.headers["Vary"].startswith("HX-Request")
    assert "<html" not in text and "data-retention" in text
    day = _expected(portal_data, vid, last, last)
    assert f'data-retention-views>{day["views"]:,}<' in text

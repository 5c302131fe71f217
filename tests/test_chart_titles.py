"""Video titles in the charts and the cached figures (issue 18, items 9 and 10).

9. Plotly draws a subset of HTML in labels, hovers, ticks and legends: a title like
   `<a href="https://evil.example">x</a>` became a live link in the admin's platform Top-5.
   Every figure we build escapes its text in one place (portal/seller_portal/charts.py `_json`).
10. A renamed video kept its old title in the cached figures (Top-5, settlements, the kept
   dashboard, the API's whole answers) for up to 6 h: renaming, hiding or deleting a video bumps
   the `titles` figure scope in the same transaction, and every cached figure that shows titles
   is keyed by it.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from jobs.inline import run_days_inline
from models import Role, User, Video
from models.accounts.service import create_user
from models.business_time import today
from models.catalog.service import set_published
from models.catalog.video_management import delete_video, edit_video
from models.figures.cache import TITLES_SCOPE, FigureVersion
from portal.seller_portal import charts
from tests.batch_support import Backend, World, add_sessions
from tests.support import TEST_PASSWORD
from tests.watching_support import bearer, sign_in

TZ = ZoneInfo("Asia/Seoul")
EVIL = ['<a href="https://evil.example">x</a>', "<b>bold</b>", "line<br>break"]


@pytest.fixture
def shop(redis_url, tmp_path, media_root):
    """A seller with three videos titled with HTML, an admin, views yesterday, computed by the batch."""
    backend = Backend("mariadb", redis_url, tmp_path)
    with Session(backend.engine) as session:
        seller = create_user(session, email="titles-seller@portal.test", password=TEST_PASSWORD, role=Role.SELLER)
        admin = create_user(session, email="titles-admin@portal.test", password=TEST_PASSWORD, role=Role.ADMIN)
        viewer = create_user(session, email="titles-viewer@portal.test", password=TEST_PASSWORD, role=Role.VIEWER)
        session.commit()
        for user in (seller, admin, viewer):
            session.refresh(user)
            session.expunge(user)
    world = World()
    videos = []
    with backend.engine.begin() as conn:
        for title in EVIL:
            video = conn.execute(insert(Video).values(
                seller_id=seller.id, title=title, description="", media_path="x.webm", content_type="video/webm",
                size_bytes=1, duration_seconds=600, is_published=True,
                created_at=datetime(2026, 1, 1, tzinfo=UTC))).inserted_primary_key[0]
            world.sellers[video] = seller.id
            videos.append(video)
    yesterday = today(TZ) - timedelta(days=1)
    rows = [dict(video_id=v, viewer_id=viewer.id, day=yesterday, second=600 + 60 * i, watch_ms=60_000)
            for i, v in enumerate(videos)]
    add_sessions(backend.engine, world, rows, [0] * len(rows))
    run_days_inline(backend.settings, [yesterday])
    from portal import create_app

    # The dashboard is kept far longer than the test takes: only the figure versions can move it.
    app = create_app(replace(backend.settings, media_root=media_root, figure_status_ttl_seconds=60))
    yield backend, app, seller, admin, videos
    backend.close()


def _figures(page: str) -> list[dict]:
    """Every Plotly figure the page embeds (`data-figure` attributes), as the browser reads them."""
    return [json.loads(html.unescape(raw)) for raw in re.findall(r'data-figure="([^"]*)"', page)]


def _texts(node, key: str = "") -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(key, string) of every string in a figure, except the templates we write ourselves."""
    if isinstance(node, dict):
        return [t for k, v in node.items() if not k.endswith("template") for t in _texts(v, k)]
    if isinstance(node, list):
        return [t for v in node for t in _texts(v, key)]
    return [(key, node)] if isinstance(node, str) else []


def test_titles_with_html_are_escaped_in_every_figure_the_pages_embed(shop):
    _, app, seller, admin, videos = shop
    client = app.test_client()
    sign_in(client, admin)
    pages = [client.get("/dashboard").get_data(as_text=True),
             client.get("/dashboard?metric=watch_seconds&period=month").get_data(as_text=True),
             client.get(f"/dashboard?seller_id={seller.id}").get_data(as_text=True),
             client.get(f"/videos/{videos[0]}/stats").get_data(as_text=True)]
    figures = [figure for page in pages for figure in _figures(page)]
    assert len(figures) == 8  # Top-5 and revenue on three dashboards, the video's series and retention curve
    texts = [text for figure in figures for text in _texts(figure)]
    assert not [t for t in texts if "<" in t or ">" in t], "markup Plotly would draw"
    labels = [text for key, text in texts if key == "y" and ". " in text]
    for title in EVIL:
        assert any(html.escape(title, quote=False) in label for label in labels), title


def test_every_figure_builder_escapes_its_text():
    top = {"metric": "views", "items": [{"rank": 1, "video_id": 1, "title": EVIL[0], "value": 3}]}
    days = [{"day": "2026-11-01", "status": "final", "views": 1, "watch_seconds": 60, "video_amount": 1,
             "ad_amount": 1}]
    for built in (charts.top5_figure(top), charts.revenue_figure({"days": days}, "<b>zone</b>"),
                  charts.video_series_figure({"days": days}, "<b>zone</b>"),
                  charts.revenue_figure({"days": days}, "<b>zone</b>", previous=[{**days[0], "total_amount": 2}]),
                  charts.hourly_views_figure({"timezone": "<b>zone</b>", "hours": [
                      {"label": "<b>12-01 09:00</b>", "views": 2}]})):
        assert not [t for _, t in _texts(json.loads(built)) if "<" in t]
    assert json.loads(charts.top5_figure(top))["data"][0]["y"] == ['1. &lt;a href="https://evil.example"&gt;x&lt;/a&gt;']


def _top5_titles(page: str) -> list[str]:
    top5 = next(f for f in _figures(page) if f["data"] and f["data"][0].get("orientation") == "h")
    return [html.unescape(label.split(". ", 1)[1]) for label in top5["data"][0]["y"]]


def test_a_renamed_video_shows_its_new_title_at_once_everywhere_it_was_cached(shop):
    backend, app, seller, admin, videos = shop
    client = app.test_client()
    sign_in(client, seller)
    token = bearer(seller, app.config["PAYSYSTEM_SETTINGS"])
    yesterday = today(TZ) - timedelta(days=1)
    settlements = f"/api/v1/settlements?from={yesterday}&to={yesterday}"
    top5 = f"/api/v1/stats/top5?date={yesterday}"

    def api_titles(url: str) -> set[str]:
        body = client.get(url, headers=token).get_json()
        return {item["title"] for item in body.get("items", body.get("rows", []))}

    for _ in range(2):  # the second time from the caches (figure cache, kept dashboard, kept answers)
        assert EVIL[0] in _top5_titles(client.get("/dashboard").get_data(as_text=True))
        assert EVIL[0] in api_titles(top5) and EVIL[0] in api_titles(settlements)
        assert EVIL[0] in client.get("/settlements").get_data(as_text=True).replace("&#34;", '"').replace(
            "&lt;", "<").replace("&gt;", ">")
    with Session(backend.engine) as session:
        edit_video(session, video_id=videos[0], seller=session.get(User, seller.id), title="Renamed", description="")
    assert "Renamed" in _top5_titles(client.get("/dashboard").get_data(as_text=True))
    assert "Renamed" in api_titles(top5) and EVIL[0] not in api_titles(top5)
    assert "Renamed" in api_titles(settlements) and EVIL[0] not in api_titles(settlements)
    assert "Renamed" in client.get("/settlements").get_data(as_text=True)


def _titles_version(backend) -> int:  # type: ignore[no-untyped-def]
    with Session(backend.engine) as session:
        return session.scalar(select(FigureVersion.version).where(FigureVersion.scope == TITLES_SCOPE)) or 0


def test_hiding_and_deleting_a_video_invalidate_the_figures_that_show_titles(shop, media_root):
    backend, _, seller, _, videos = shop
    before = _titles_version(backend)
    with Session(backend.engine) as session:
        set_published(session, video_id=videos[1], seller=session.get(User, seller.id), published=False)
    assert _titles_version(backend) == before + 1
    with Session(backend.engine) as session:
        delete_video(session, video_id=videos[2], seller=session.get(User, seller.id), media_root=media_root,
                     now=datetime.now(UTC))
    assert _titles_version(backend) == before + 2


@pytest.mark.slow
def test_in_chromium_the_top5_chart_has_no_link_and_shows_the_title_as_text(shop, page):
    from tests.browser_support import sign_in_browser
    from tests.conftest import LiveServer

    _, app, _, admin, _ = shop
    server = LiveServer(app).start()
    try:
        sign_in_browser(page, server.url, admin, "/dashboard")
        page.goto(server.url + "/dashboard")
        chart = page.locator("#top5 .chart[data-drawn] .main-svg, .chart[data-drawn] .main-svg").first
        chart.wait_for()
        assert page.locator(".chart a").count() == 0
        assert page.locator('a[href*="evil.example"]').count() == 0
        ticks = page.locator(".chart .ytick text").all_text_contents()
        assert any('<a href="https://evil.example">x</a>' in t for t in ticks), ticks
        assert any("<b>bold</b>" in t for t in ticks) and page.locator(".chart b, .chart tspan[style*=bold]").count() == 0
    finally:
        server.stop()

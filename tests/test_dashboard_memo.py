"""The dashboard a process keeps rendered for FIGURE_STATUS_TTL_SECONDS (portal/seller_portal/views.py):
a batch run's new figures show at once (the key holds the figure versions), nothing outlives the
TTL, and with 0 nothing is kept."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from jobs.inline import run_days_inline
from models import Role, Video
from models.accounts.service import create_user
from models.business_time import today
from models.ttl_memo import TtlMemo
from tests.batch_support import Backend, World, add_sessions
from tests.support import TEST_PASSWORD
from tests.watching_support import sign_in

TZ = ZoneInfo("Asia/Seoul")


@pytest.fixture
def shop(redis_url, tmp_path, media_root):
    """One seller with one video and a few counted views yesterday, computed by the batch."""
    backend = Backend("mariadb", redis_url, tmp_path)
    with Session(backend.engine) as session:
        seller = create_user(session, email="memo-seller@portal.test", password=TEST_PASSWORD, role=Role.SELLER)
        viewer = create_user(session, email="memo-viewer@portal.test", password=TEST_PASSWORD, role=Role.VIEWER)
        session.commit()
        for user in (seller, viewer):
            session.refresh(user)
            session.expunge(user)
    with backend.engine.begin() as conn:
        video = conn.execute(insert(Video).values(
            seller_id=seller.id, title="Memo video", description="", media_path="x.webm", content_type="video/webm",
            size_bytes=1, duration_seconds=600, is_published=True,
            created_at=datetime(2026, 1, 1, tzinfo=UTC))).inserted_primary_key[0]
    world = World()
    world.sellers[video] = seller.id
    yesterday = today(TZ) - timedelta(days=1)

    def views(count: int, offset: int = 0) -> None:
        add_sessions(backend.engine, world, [dict(video_id=video, viewer_id=viewer.id, day=yesterday,
                                                  second=600 + 60 * (offset + i), watch_ms=60_000)
                                             for i in range(count)], [0] * count)
        run_days_inline(backend.settings, [yesterday])

    views(3)
    yield backend, seller, views, media_root
    backend.close()


def _yesterday_views(html: str) -> int:
    card = html[html.index('data-card="period"'):]  # the last 28 days, ending yesterday (issue 22)
    figure = card[card.index('data-figure-name="views"'):]
    return int(re.search(r'class="value">([\d,]+)<', figure).group(1).replace(",", ""))


def _app(backend, media_root, ttl):
    from portal import create_app

    return create_app(replace(backend.settings, media_root=media_root, figure_status_ttl_seconds=ttl))


def test_a_batch_run_shows_on_the_next_request_although_the_dashboard_is_kept(shop):
    backend, seller, views, media_root = shop
    client = _app(backend, media_root, ttl=60).test_client()  # kept far longer than the test takes
    sign_in(client, seller)
    assert _yesterday_views(client.get("/dashboard").get_data(as_text=True)) == 3
    views(2, offset=10)  # the batch re-runs yesterday: its scopes' versions move
    assert _yesterday_views(client.get("/dashboard").get_data(as_text=True)) == 5


def test_the_page_around_the_kept_dashboard_is_the_callers(shop):
    """Two browsers of the same seller share the kept figures, never each other's CSRF token."""
    backend, seller, _, media_root = shop
    app = _app(backend, media_root, ttl=60)
    first, second = app.test_client(), app.test_client()
    sign_in(first, seller)
    sign_in(second, seller)
    pages = [c.get("/dashboard").get_data(as_text=True) for c in (first, second)]
    tokens = [re.search(r'name="csrf-token" content="([^"]+)"', page).group(1) for page in pages]
    assert tokens[0] != tokens[1]
    bodies = [page[page.index('<section class="dashboard">'):] for page in pages]
    assert bodies[0].split("</main>")[0] == bodies[1].split("</main>")[0]


def test_the_memo_gives_nothing_out_after_its_ttl_and_keeps_nothing_at_zero():
    now = [100.0]
    memo: TtlMemo[int] = TtlMemo(5, clock=lambda: now[0])
    made = iter(range(10))
    assert memo.get_or_make("k", lambda: next(made)) == 0
    now[0] += 4.9
    assert memo.get_or_make("k", lambda: next(made)) == 0
    now[0] += 0.2
    assert memo.get_or_make("k", lambda: next(made)) == 1
    off: TtlMemo[int] = TtlMemo(0)
    assert [off.get_or_make("k", lambda: next(made)) for _ in range(2)] == [2, 3]
    small: TtlMemo[int] = TtlMemo(5, max_entries=2, clock=lambda: now[0])
    for key in "abc":
        small.get_or_make(key, lambda: next(made))
    assert len(small._entries) <= 2

"""One definition of a day's figures (models/daily_counts.py): the live estimate from the raw
events equals what the batch wrote for the same days."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from jobs.inline import run_days_inline
from models import RunTrigger, VideoDailyStats
from models.daily_counts import LiveFigures, live_figures
from tests.batch_support import DAY0, Backend, busy_world


@pytest.fixture(scope="module", params=["mariadb", "sqlite"])
def backend(request, redis_url, tmp_path_factory):  # type: ignore[no-untyped-def]
    b = Backend(request.param, redis_url, tmp_path_factory.mktemp(request.param))
    yield b
    b.close()


def test_live_figures_count_what_the_batch_counts(backend):
    backend.reset()
    busy_world(backend, days=2, sessions=120)
    days = [DAY0, DAY0 + timedelta(days=1)]
    run_days_inline(backend.settings, days, RunTrigger.BACKFILL, use_cache=False)
    with backend.engine.connect() as conn:
        for day in days:
            written = {r.video_id: LiveFigures(r.video_id, r.views, r.watch_seconds, r.ad_views) for r in conn.execute(
                select(VideoDailyStats.video_id, VideoDailyStats.views, VideoDailyStats.watch_seconds,
                       VideoDailyStats.ad_views).where(VideoDailyStats.day == day))}
            assert written and live_figures(conn, day) == written
            some = sorted(written)[:2]
            assert live_figures(conn, day, some) == {v: written[v] for v in some}
        assert live_figures(conn, DAY0, []) == {}

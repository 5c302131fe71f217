"""One definition of a day's figures (models/figures/daily_counts.py): the live estimate from the raw
events equals what the batch wrote for the same days, the sessions filtered by reason (§6)
included."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.inline import run_days_inline
from models import RunTrigger, VideoDailyStats
from models.figures.daily_counts import LiveFigures, live_figures
from models.figures.series import daily_series, view_ledger
from tests.batch_support import DAY0, busy_world, every_kind_of_session, started_at

TZ = ZoneInfo("Asia/Seoul")


BACKENDS = ["mariadb", "sqlite"]  # the shared `backend` fixture (tests/conftest.py) runs each


def test_live_figures_count_what_the_batch_counts(backend):
    backend.reset()
    busy_world(backend, days=2, sessions=120)
    days = [DAY0, DAY0 + timedelta(days=1)]
    run_days_inline(backend.settings, days, RunTrigger.BACKFILL, use_cache=False)
    with backend.engine.connect() as conn:
        for day in days:
            written = {r.video_id: LiveFigures(*r) for r in conn.execute(
                select(VideoDailyStats.video_id, VideoDailyStats.views, VideoDailyStats.watch_seconds,
                       VideoDailyStats.ad_views, VideoDailyStats.rejected_own_video,
                       VideoDailyStats.rejected_repeat).where(VideoDailyStats.day == day))}
            assert written and live_figures(conn, day) == written
            assert any(f.rejected_own_video for f in written.values())
            assert any(f.rejected_repeat for f in written.values())
            some = sorted(written)[:2]
            assert live_figures(conn, day, some) == {v: written[v] for v in some}
        assert live_figures(conn, DAY0, []) == {}


def test_todays_ledger_and_series_are_what_the_batch_writes_once_the_day_is_over(backend):
    """Issue 24: today's ledger showed filtered sessions as 0 (started == counted). Read while
    the day is today and again after its run: the same numbers, only live -> final."""
    backend.reset()
    day = DAY0 + timedelta(days=7)
    _, (a, b, c), owner, _ = every_kind_of_session(backend, day)
    first = day - timedelta(days=1)
    run_days_inline(backend.settings, [first], use_cache=False)
    during, after = started_at(day, 80_000), started_at(day + timedelta(days=1), 3_600)

    def read(now):  # type: ignore[no-untyped-def]
        with Session(backend.engine) as s:
            return (view_ledger(s, None, owner, a, first, day, TZ, now),
                    {(who, vid): daily_series(s, None, who, first, day, TZ, vid, now)
                     for who, vid in ((owner, None), (owner, a), (owner, c), (None, None), (None, b))})

    live_ledger, live_series = read(during)
    # The ledger of video a today, counted by hand (§6, §8): 5 started, 2 counted, 2 own, 1 repeat,
    # floor(3.2 s) watched by the counted ones (avg 1 s a view).
    assert live_ledger["days"][1] == {"day": day.isoformat(), "status": "live", "started": 5, "counted": 2,
                                      "own_video": 2, "repeat_within_30s": 1, "avg_watch_seconds": 1}
    assert live_ledger["days"][0]["status"] == "final" and live_ledger["days"][0]["started"] == 2
    mine = live_series[(owner, None)]["days"][1]
    assert (mine["views"], mine["watch_seconds"], mine["ad_views"], mine["rejected_own_video"],
            mine["rejected_repeat"], mine["total_amount"]) == (2, 3, 3, 3, 1, 2 + 30)

    run_days_inline(backend.settings, [day], use_cache=False)
    with backend.engine.connect() as conn:
        written = conn.execute(select(VideoDailyStats.views, VideoDailyStats.watch_seconds, VideoDailyStats.ad_views,
                                      VideoDailyStats.rejected_own_video, VideoDailyStats.rejected_repeat).where(
            VideoDailyStats.day == day, VideoDailyStats.video_id == a)).one()
    assert tuple(written) == (2, 3, 3, 2, 1)
    final_ledger, final_series = read(after)

    def as_final(days: list[dict]) -> list[dict]:
        return [{**d, "status": "final"} for d in days]

    assert final_ledger["days"][1]["status"] == "final"
    assert final_ledger["days"] == as_final(live_ledger["days"])
    for key, series in final_series.items():
        assert series["days"][1]["status"] == "final", key
        assert series["days"] == as_final(live_series[key]["days"]), key
        assert series["totals"] == live_series[key]["totals"], key

"""Audience retention (issue 22, item 1): the rule's Python and SQL forms agree, and the batch's
tables equal a recomputation from the raw play sessions on adversarial data.

The sessions are made by the real playback service (open, progress reports with seeks back and
forth, pauses, ends) at chosen server times: sessions crossing midnight, sessions without a
single report, videos shorter than 100 s, resumed sessions, own-video and repeated plays.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from jobs.inline import run_days_inline
from models import PlaySession, RunState, User, Video
from models.business_time import days_between, month_range, week_range
from models.figures.period_calendar import period_start
from models.figures.retention import (
    BUCKETS,
    VideoDailyRetention,
    VideoPeriodRetention,
    bucket_of,
    bucket_sql,
    parse_histogram,
    range_pieces,
    reach_ms,
    reach_sql,
    retention_over_days,
)
from models.figures.tables import RollupPeriod
from models.playback.service import open_session, report_progress
from models.playback.watch_rules import PlaybackError, ProgressReport
from models.sql_dialect import Dialect
from tests.batch_support import DAY0, Backend, World, add_users_and_videos, started_at

SEOUL = ZoneInfo("Asia/Seoul")
DURATIONS = [1, 7, 45, 99, 100, 299, 1200]  # seconds; most shorter than 100 s


@pytest.fixture(scope="module", params=["mariadb", "sqlite"])
def backend(request, redis_url, tmp_path_factory):
    b = Backend(request.param, redis_url, tmp_path_factory.mktemp(f"ret-{request.param}"))
    yield b
    b.close()


# ------------------------------------------------------------------ the rule: Python = SQL


def test_python_and_sql_forms_of_the_rule_agree(backend):
    rng = random.Random(22)
    cases = [(f, w, dur) for dur in (0, 1, 7, 99, 100, 101, 1200, 86_400) for f, w in (
        (0, 0), (dur * 1000, dur * 1000), (dur * 1000, 0), (0, dur * 5000), (dur * 1000 - 1, dur * 1000))]
    cases += [(rng.randrange(dur * 1000 + 1), rng.randrange(3 * dur * 1000 + 1), dur)
              for dur in (rng.randrange(1, 5000) for _ in range(300))]
    with backend.engine.connect() as conn:
        d = Dialect(conn)
        values = " UNION ALL ".join(f"SELECT {f} AS f, {w} AS w, {dur} AS dur" for f, w, dur in cases)
        reach = reach_sql(d, "c.f", "c.w", "c.dur * 1000")
        got = conn.execute(text(f"SELECT {reach}, {bucket_sql(d, reach, 'c.dur * 1000')} FROM ({values}) c")).all()
    want = [(reach_ms(f, w, dur * 1000), bucket_of(reach_ms(f, w, dur * 1000), dur * 1000)) for f, w, dur in cases]
    assert [tuple(int(v) for v in row) for row in got] == want


def test_the_rule_on_the_edges():
    assert reach_ms(60_000, 10_000, 90_000) == 10_000  # skipped ahead: only what was played
    assert reach_ms(10_000, 60_000, 90_000) == 10_000  # rewatched: not beyond the furthest point
    assert reach_ms(95_000, 95_000, 90_000) == 90_000  # never beyond the end
    assert bucket_of(99_999, 100_000) == 99 and bucket_of(100_000, 100_000) == 100
    assert bucket_of(989, 7_000) == 14  # 14.13 %
    assert bucket_of(5, 0) == BUCKETS


# ------------------------------------------------------------------ adversarial sessions


def _play(db: Session, rng: random.Random, viewer: User, video: Video, day: date, second: int) -> None:
    """One session: open at business second `second` of `day`, then random reports."""
    now = started_at(day, second)
    start = rng.choice([None, 0, 0, rng.randrange(video.duration_seconds * 1000 + 1)])
    opened = open_session(db, viewer=viewer, video=video, now=now, tz=SEOUL, start_position_ms=start)
    position, length = opened.start_position_ms, video.duration_seconds * 1000
    for _ in range(rng.choice([0, 0, 1, 3, 8])):  # zero-length sessions: no report at all
        step = rng.randrange(0, 12_000)
        now += timedelta(milliseconds=step + rng.choice([0, 0, 500, 4000]))
        position = min(length, position + step)
        seek = rng.choice([None, None, None, rng.randrange(length + 1)])  # back or forth
        try:
            result = report_progress(db, viewer_id=viewer.id, video_id=video.id, session_id=opened.session_id,
                                     report=ProgressReport(position, rng.random() < 0.8, seek), now=now)
        except PlaybackError:
            break  # ended (reached the end)
        position = result.position_ms
        if result.ended:
            break


@pytest.fixture(scope="module")
def world(backend):
    """Videos of every length, sessions over four days (some across midnight), all days run."""
    backend.reset()
    w = World()
    video_ids, viewer_id = add_users_and_videos(backend.engine, w, 2, len(DURATIONS))
    rng = random.Random(7)
    with Session(backend.engine) as db:
        for vid, dur in zip(video_ids, DURATIONS, strict=True):
            db.execute(update(Video).where(Video.id == vid).values(duration_seconds=dur))
        db.commit()
        viewers = [db.get(User, viewer_id)] + [db.get(User, s) for s in sorted(set(w.sellers.values()))]
        for video in [db.get(Video, v) for v in video_ids]:
            for _ in range(40):
                day = DAY0 + timedelta(days=rng.randrange(4))
                second = rng.choice([86_399, 86_395, rng.randrange(86_400)])  # near midnight, often
                _play(db, rng, rng.choice(viewers), video, day, second)
    days = [DAY0 + timedelta(days=i) for i in range(4)]
    # The week's last day (no sessions) closes the week after days 0, 1 and 3 (its rows are built
    # then); day 2 is first computed after that (appended to them); then a re-run of day 1.
    for day in [days[0], days[1], days[3], WEEK_END, days[2], days[1]]:
        [result] = run_days_inline(backend.settings, [day], use_cache=False)
        assert result.state == RunState.SUCCEEDED
    return backend, days


WEEK_END = DAY0 + timedelta(days=6)  # Sunday: the last day of DAY0's ISO week


def _sessions(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(PlaySession.day, PlaySession.video_id, PlaySession.counted,
                                   PlaySession.furthest_position_ms, PlaySession.watch_ms, PlaySession.started_at,
                                   PlaySession.last_report_at, Video.duration_seconds)
                            .join(Video, Video.id == PlaySession.video_id)).all()


def test_the_data_is_adversarial(world):
    backend, days = world
    rows = _sessions(backend.engine)
    counted = [r for r in rows if r.counted]
    assert any(r.watch_ms == 0 for r in counted), "zero-length sessions"
    assert any(r.furthest_position_ms > r.watch_ms + 1000 for r in counted), "seeks ahead"
    assert any(r.watch_ms > r.furthest_position_ms for r in counted), "seeks back / rewatching"
    assert any(r.duration_seconds < 100 and r.watch_ms > 0 for r in counted), "videos shorter than 100 s"
    assert any(not r.counted for r in rows), "filtered plays"
    crossing = [r for r in counted if r.day == days[0] and r.last_report_at.date() > r.started_at.date()
                or (r.last_report_at - r.started_at) > timedelta(0) and r.started_at.hour == 14
                and r.last_report_at.hour == 15]  # 15:00 UTC is midnight in Seoul
    assert crossing, "sessions crossing midnight"


def test_the_sessions_keep_the_rule_in_their_generated_columns(world):
    """Every session written by opening and progress reports (seeks, rewatching, zero-length,
    short videos) holds the rule's reach and bucket of its current positions, as the Python form
    computes them, and its video's length."""
    backend, _ = world
    with backend.engine.connect() as conn:
        rows = conn.execute(select(PlaySession.furthest_position_ms, PlaySession.watch_ms, PlaySession.length_ms,
                                   PlaySession.reach_ms, PlaySession.reach_bucket, Video.duration_seconds)
                            .join(Video, Video.id == PlaySession.video_id)).all()
    assert len(rows) > 100
    for r in rows:
        reach = reach_ms(r.furthest_position_ms, r.watch_ms, r.duration_seconds * 1000)
        assert (r.length_ms, r.reach_ms, r.reach_bucket) == (
            r.duration_seconds * 1000, reach, bucket_of(reach, r.duration_seconds * 1000)), r
    assert len({r.reach_bucket for r in rows}) > 20


def test_daily_rows_equal_a_recomputation_from_the_sessions(world):
    backend, days = world
    daily: dict[tuple, list] = defaultdict(lambda: [0, 0, defaultdict(int)])
    for r in _sessions(backend.engine):
        if not r.counted or r.day not in days:
            continue
        length = r.duration_seconds * 1000
        reach = min(r.furthest_position_ms, r.watch_ms, length)
        cell = daily[(r.day, r.video_id)]
        cell[0] += 1
        cell[1] += reach
        cell[2][min(100, reach * 100 // length)] += 1
    with backend.engine.connect() as conn:
        rows = conn.execute(select(VideoDailyRetention)).all()
    got = {(r.day, r.video_id): [r.views, r.reach_ms, parse_histogram(r.histogram)] for r in rows}
    assert got == {key: [views, reach, dict(hist)] for key, (views, reach, hist) in daily.items()}
    assert len(got) > 10
    # One text per histogram, in bucket order: a re-run finds a changed video-day by its text.
    assert {r.histogram for r in rows if r.histogram.count(",") >= 3}, "some video-day has several buckets"
    for r in rows:
        assert r.histogram == ",".join(f"{b}:{n}" for b, n in sorted(daily[(r.day, r.video_id)][2].items()))


def test_curve_and_averages_equal_a_recomputation(world):
    """The read path: shares still watching at every percent, averages, ad slots."""
    backend, days = world
    rows = [r for r in _sessions(backend.engine) if r.counted and r.day in days]
    with Session(backend.engine) as db:
        for vid in {r.video_id for r in rows}:
            mine = [r for r in rows if r.video_id == vid]
            length = mine[0].duration_seconds * 1000
            got = retention_over_days(db, vid, mine[0].duration_seconds, days[0], days[-1])
            reaches = [min(r.furthest_position_ms, r.watch_ms, length) for r in mine]
            assert got.views == len(mine)
            want = [sum(1 for x in reaches if x * 100 >= pct * length) / len(mine) for pct in range(101)]
            assert got.curve == pytest.approx(want, abs=1e-12)
            assert got.curve[0] == 1.0
            assert got.avg_pct_viewed == pytest.approx(100 * sum(reaches) / (len(mine) * length))
            per_day: dict[date, int] = defaultdict(int)
            for r in mine:
                per_day[r.day] += r.watch_ms
            assert got.avg_view_seconds == pytest.approx(sum(ms // 1000 for ms in per_day.values()) / len(mine))
            month = retention_over_days(db, vid, mine[0].duration_seconds, *month_range(days[0]))
            assert month.views == len(mine) and month.curve == pytest.approx(want, abs=1e-12)
        assert retention_over_days(db, 10**12, 1200, days[0], days[-1]).curve == []


def _period_rows(engine) -> dict[tuple, list]:
    with engine.connect() as conn:
        return {(r.period.value, r.period_start, r.video_id): [r.views, r.reach_ms, parse_histogram(r.histogram)]
                for r in conn.execute(select(VideoPeriodRetention))}


def _recomputed_periods(engine, days: list[date]) -> dict[tuple, list]:
    """The week and month rows from the raw sessions of the computed `days`."""
    want: dict[tuple, list] = defaultdict(lambda: [0, 0, defaultdict(int)])
    for r in _sessions(engine):
        if not r.counted or r.day not in days:
            continue
        length = r.duration_seconds * 1000
        reach = min(r.furthest_position_ms, r.watch_ms, length)
        for period in RollupPeriod:
            cell = want[(period.value, period_start(period, r.day), r.video_id)]
            cell[0] += 1
            cell[1] += reach
            cell[2][min(100, reach * 100 // length)] += 1
    return {key: [views, reach, dict(hist)] for key, (views, reach, hist) in want.items()}


def _texts_are_the_days(engine, in_day_order: set[int] = frozenset()) -> None:
    """Each period row's histogram is its daily rows' texts joined (in the order the days were
    first computed; in day order for the videos `in_day_order`, whose day a re-run changed)."""
    with Session(engine) as db:
        daily = db.scalars(select(VideoDailyRetention).order_by(VideoDailyRetention.day)).all()
        for row in db.scalars(select(VideoPeriodRetention)):
            texts = [d.histogram for d in daily if d.video_id == row.video_id
                     and period_start(row.period, d.day) == row.period_start]
            if row.video_id in in_day_order:
                assert row.histogram == ",".join(texts)
            else:
                assert sorted(row.histogram.split(",")) == sorted(",".join(texts).split(","))


def _exact_where_they_exist(engine, days: list[date]) -> dict[tuple, list]:
    """The period rows, each equal to the recomputation of its (period, start, video)."""
    got, want = _period_rows(engine), _recomputed_periods(engine, days)
    assert {key: want.get(key) for key in got} == got
    return got


def test_week_and_month_rows_equal_a_recomputation_from_the_sessions(world):
    """The closed week has a row for every video with views when it closed (days 0, 1, 3), and
    day 2, computed later, is in them; the open month has none (its days are read)."""
    backend, days = world
    got = _exact_where_they_exist(backend.engine, days)
    with backend.engine.connect() as conn:
        at_close = set(conn.scalars(text("SELECT DISTINCT video_id FROM play_sessions WHERE counted = 1 "
                                         "AND day IN (:a, :b, :c)"), {"a": days[0], "b": days[1], "c": days[3]}))
        late = set(conn.scalars(text("SELECT DISTINCT video_id FROM play_sessions WHERE counted = 1 AND day = :d"),
                                {"d": days[2]}))
    week = week_range(days[0])[0]
    assert set(got) == {("week", week, vid) for vid in at_close} and len(got) > 3
    assert late & at_close, "a day appended to rows that exist"
    _texts_are_the_days(backend.engine)


def test_week_and_month_rows_stay_exact_when_days_are_rerun_out_of_order_and_changed(world):
    backend, days = world
    before = _period_rows(backend.engine)
    # Later days first, a day twice, and the week's last day again (its closing finds the rows
    # there and leaves them): nothing changed.
    for day in (days[3], WEEK_END, days[0], days[2], days[0]):
        [result] = run_days_inline(backend.settings, [day], use_cache=False)
        assert result.state == RunState.SUCCEEDED
    assert _exact_where_they_exist(backend.engine, days) == before
    _texts_are_the_days(backend.engine)
    # A late change to a day already computed (a counted view's furthest position moves): the
    # re-run rebuilds that video's week and month rows from its daily rows (the month's row is
    # written then, before the month closes: a row, where there is one, is exact).
    with backend.engine.begin() as conn:
        changed = conn.execute(text(
            "SELECT id, video_id FROM play_sessions WHERE day = :d AND counted = 1 AND furthest_position_ms > 0 "
            "AND watch_ms > 0 ORDER BY id LIMIT 1"), {"d": days[1]}).one()
        conn.execute(text("UPDATE play_sessions SET furthest_position_ms = 0 WHERE id = :i"), {"i": changed.id})
    [result] = run_days_inline(backend.settings, [days[1]], use_cache=False)
    assert result.state == RunState.SUCCEEDED
    after = _exact_where_they_exist(backend.engine, days)
    assert after != before
    assert {key for key in after if after[key] != before.get(key)} == {
        ("week", week_range(days[1])[0], changed.video_id), ("month", month_range(days[1])[0], changed.video_id)}
    _texts_are_the_days(backend.engine, {changed.video_id})


def test_range_pieces_cover_the_range_once_with_whole_months_and_weeks():
    for first, last in ((date(2026, 3, 1), date(2026, 3, 9)), (date(2026, 1, 15), date(2026, 4, 2)),
                        (date(2026, 2, 23), date(2026, 3, 31)), (date(2026, 3, 4), date(2026, 3, 4)),
                        (date(2025, 12, 29), date(2026, 2, 1)), (date(2026, 3, 5), date(2026, 3, 1))):
        days, periods = range_pieces(first, last)
        covered = list(days)
        for kind, start in periods:
            period_first, period_last = (week_range if kind == RollupPeriod.WEEK else month_range)(start)
            assert period_first == start and first <= period_first and period_last <= last
            covered += days_between(period_first, period_last)
        assert sorted(covered) == days_between(first, last)  # every day once
    assert range_pieces(date(2026, 3, 1), date(2026, 3, 9)) == (
        [date(2026, 3, 1), date(2026, 3, 9)], [(RollupPeriod.WEEK, date(2026, 3, 2))])
    # February 2026 is whole: taken as a month, not eaten into by the week of 26 January
    days, periods = range_pieces(date(2026, 1, 26), date(2026, 3, 1))
    assert periods == [(RollupPeriod.MONTH, date(2026, 2, 1))]
    assert days == days_between(date(2026, 1, 26), date(2026, 1, 31)) + [date(2026, 3, 1)]


def test_week_month_and_mixed_ranges_read_from_the_rollups_equal_a_recomputation(world):
    """Reads over whole weeks and months (their rollup rows) and over ranges mixing days and
    weeks equal the raw sessions; the rows read are the rollups where the range allows."""
    backend, days = world
    rows = [r for r in _sessions(backend.engine) if r.counted and r.day in days]
    ranges = [week_range(days[0]), month_range(days[0]), (days[0] - timedelta(days=1), days[0] + timedelta(days=7)),
              (days[1], days[2])]
    assert range_pieces(*ranges[2])[1] == [(RollupPeriod.WEEK, days[0])]
    with Session(backend.engine) as db:
        for vid in sorted({r.video_id for r in rows}):
            duration = next(r.duration_seconds for r in rows if r.video_id == vid)
            for first, last in ranges:
                mine = [r for r in rows if r.video_id == vid and first <= r.day <= last]
                got = retention_over_days(db, vid, duration, first, last)
                assert got.views == len(mine)
                if not mine:
                    assert got.curve == []
                    continue
                length = mine[0].duration_seconds * 1000
                reaches = [min(r.furthest_position_ms, r.watch_ms, length) for r in mine]
                want = [sum(1 for x in reaches if x * 100 >= pct * length) / len(mine) for pct in range(101)]
                assert got.curve == pytest.approx(want, abs=1e-12)
                assert got.avg_pct_viewed == pytest.approx(100 * sum(reaches) / (len(mine) * length))
                per_day: dict[date, int] = defaultdict(int)
                for r in mine:
                    per_day[r.day] += r.watch_ms
                assert got.avg_view_seconds == pytest.approx(sum(ms // 1000 for ms in per_day.values()) / len(mine))
    # the closed week is read from its rollup row alone: without the daily rows it still answers;
    # the open month, which has no rows, from the daily rows
    with Session(backend.engine) as db:
        by_period = {(row.period.value, row.video_id) for row in db.scalars(select(VideoPeriodRetention))}
        vid = min(v for kind, v in by_period if kind == "week" and ("month", v) not in by_period)
        duration = next(r.duration_seconds for r in rows if r.video_id == vid)
        whole_week = retention_over_days(db, vid, duration, *week_range(days[0]))
        assert whole_week.views > 0
        db.execute(text("DELETE FROM video_daily_retention WHERE video_id = :v"), {"v": vid})
        assert retention_over_days(db, vid, duration, *week_range(days[0])) == whole_week
        assert retention_over_days(db, vid, duration, *month_range(days[0])).views == 0
        db.rollback()


def test_ad_slots_are_marked_in_percent():
    from models.figures.retention import Retention

    r = Retention(720, 0, 0, 0, (0,) * 101)
    assert r.ad_slot_pcts == [0.0, pytest.approx(41.666666)]
    assert Retention(299, 0, 0, 0, (0,) * 101).ad_slot_pcts == []


def test_the_retention_figure_is_valid_and_marks_the_ad_breaks():
    import json

    import plotly.graph_objects as go

    from models.figures.retention import Retention
    from portal.seller_portal.charts import retention_figure

    counts = [0] * 101
    counts[0], counts[30], counts[100] = 2, 1, 1
    r = Retention(1200, 4, 600, 2_000_000, tuple(counts))
    figure = go.Figure(json.loads(retention_figure(r)))  # raises on any invalid property
    curve, breaks = figure.data
    assert list(curve.y)[:2] == [100.0, 50.0] and list(curve.y)[31] == 25.0 and list(curve.y)[100] == 25.0
    assert list(breaks.x) == [0.0, 25.0, 50.0, 75.0] and len(figure.layout.shapes) == 4


# ------------------------------------------------------------------ revision 0014 on computed days


@pytest.mark.parametrize("kind", ["sqlite", "mariadb"])
def test_revision_0014_rolls_up_the_days_computed_before_it(kind, tmp_path):
    """Upgrading a database whose batch has already written daily retention rows builds their
    week and month rows as the batch would have (sums, texts in day order)."""
    from models.db import make_engine
    from paysystem import migrate
    from tests.support import create_mysql_database, drop_mysql_database

    url = f"sqlite:///{tmp_path / 'r.db'}" if kind == "sqlite" else create_mysql_database("paysystem_ret14")
    try:
        migrate.upgrade(url, "0013")
        engine = make_engine(url)
        # Sunday 1 March 2026 ends a week that began in February; 2 March starts the next week
        daily = [(date(2026, 2, 27), 1, 2, 900, "0:1,45:1"), (date(2026, 3, 1), 1, 1, 100, "3:1"),
                 (date(2026, 2, 28), 1, 3, 50, "0:3"), (date(2026, 3, 2), 1, 1, 7, "100:1"),
                 (date(2026, 3, 2), 2, 1, 5, "2:1")]
        with engine.begin() as conn:
            for day, vid, views, reach, hist in daily:
                conn.execute(text("INSERT INTO video_daily_retention VALUES (:d, :v, :n, :r, :h)"),
                             {"d": day, "v": vid, "n": views, "r": reach, "h": hist})
        engine.dispose()
        migrate.upgrade(url)
        engine = make_engine(url)
        with Session(engine) as db:
            got = {(r.period.value, r.period_start, r.video_id): (r.views, r.reach_ms, r.histogram)
                   for r in db.scalars(select(VideoPeriodRetention))}
        engine.dispose()
        assert got == {("week", date(2026, 2, 23), 1): (6, 1050, "0:1,45:1,0:3,3:1"),
                       ("week", date(2026, 3, 2), 1): (1, 7, "100:1"), ("week", date(2026, 3, 2), 2): (1, 5, "2:1"),
                       ("month", date(2026, 2, 1), 1): (5, 950, "0:1,45:1,0:3"),
                       ("month", date(2026, 3, 1), 1): (2, 107, "3:1,100:1"),
                       ("month", date(2026, 3, 1), 2): (1, 5, "2:1")}
    finally:
        if kind == "mariadb":
            drop_mysql_database(url)


# ------------------------------------------------------------------ revision 0016 on recorded sessions


@pytest.mark.parametrize("kind", ["sqlite", "mariadb"])
def test_revision_0016_gives_the_sessions_recorded_before_it_their_length_reach_and_bucket(kind, tmp_path):
    """Sessions recorded before the revision get their video's length, and the generated reach and
    bucket follow later progress updates of the row."""
    from models.db import make_engine
    from paysystem import migrate
    from tests.support import create_mysql_database, drop_mysql_database

    url = f"sqlite:///{tmp_path / 'r16.db'}" if kind == "sqlite" else create_mysql_database("paysystem_ret16")
    try:
        migrate.upgrade(url, "0015")
        engine = make_engine(url)
        at = datetime(2026, 3, 1, 3)  # stored UTC, naive
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO users (id, display_name, role, is_active, created_at) "
                              "VALUES (1, 's', 'seller', 1, :at), (2, 'v', 'viewer', 1, :at)"), {"at": at})
            for vid, seconds in ((1, 90), (2, 0), (3, 3600)):
                conn.execute(text("INSERT INTO videos (id, seller_id, title, description, media_path, content_type, "
                                  "size_bytes, duration_seconds, is_published, created_at) "
                                  "VALUES (:v, 1, 't', '', 'm.webm', 'video/webm', 1, :s, 1, :at)"),
                             {"v": vid, "s": seconds, "at": at})
            # (video, furthest, watch): seek ahead, rewatch, a video without length, past the end
            for sid, (vid, furthest, watch) in enumerate([(1, 60_000, 9_000), (1, 10_000, 80_000), (2, 5_000, 5_000),
                                                         (3, 0, 0), (1, 95_000, 95_000)], start=1):
                conn.execute(text("INSERT INTO play_sessions (id, viewer_id, video_id, day, started_at, last_report_at, "
                                  "last_position_ms, furthest_position_ms, watch_ms, counted, updated_at) "
                                  "VALUES (:i, 2, :v, '2026-03-01', :at, :at, 0, :f, :w, 1, :at)"),
                             {"i": sid, "v": vid, "f": furthest, "w": watch, "at": at})
        engine.dispose()
        migrate.upgrade(url)
        engine = make_engine(url)
        read = "SELECT length_ms, reach_ms, reach_bucket FROM play_sessions ORDER BY id"
        with engine.begin() as conn:
            assert [tuple(r) for r in conn.execute(text(read))] == [
                (90_000, 9_000, 10), (90_000, 10_000, 11), (0, 0, 100), (3_600_000, 0, 0), (90_000, 90_000, 100)]
            conn.execute(text("UPDATE play_sessions SET furthest_position_ms = 45000, watch_ms = 50000 WHERE id = 1"))
            assert tuple(conn.execute(text(read)).first()) == (90_000, 45_000, 50)
        engine.dispose()
    finally:
        if kind == "mariadb":
            drop_mysql_database(url)


# ------------------------------------------------------------------ a week closing during a partition


def test_a_week_closed_while_a_partition_of_it_runs_keeps_that_day(world):
    """The partition of a week's last day, which writes the week's rows, waits for a partition
    computing another day of that week for the same videos: that day is in the rows it writes
    (without the wait, the rows would miss the day for good: the other partition found no row to
    append to, and the rows could not be built from its uncommitted daily rows)."""
    import threading

    from jobs import pipeline
    from models.money.pricing import plan_for_day

    backend, _ = world
    if not Dialect(backend.engine.connect()).mysql:
        pytest.skip("SQLite has a single writer: the two cannot overlap")
    monday, tuesday, sunday = DAY0 + timedelta(days=7), DAY0 + timedelta(days=8), DAY0 + timedelta(days=13)
    rng = random.Random(11)
    with Session(backend.engine) as db:
        videos = db.scalars(select(Video).order_by(Video.id)).all()
        viewer = db.scalars(select(User).where(User.id.not_in(select(Video.seller_id)))).first()
        for day in (monday, tuesday):
            for video in videos:
                for _ in range(3):
                    _play(db, rng, viewer, video, day, rng.randrange(80_000))
    [result] = run_days_inline(backend.settings, [monday], use_cache=False)
    assert result.state == RunState.SUCCEEDED
    written: list[int] = []

    def compute(conn, day: date) -> int:  # as jobs/run_steps.py computes a partition
        pipeline.lock_videos(conn, 0, 2**62)
        return pipeline.compute_partition(conn, day, 0, 2**62, plan_for_day(conn, day)).rows_written

    def close_week() -> None:
        with backend.engine.connect().execution_options(isolation_level="READ COMMITTED") as conn, conn.begin():
            written.append(compute(conn, sunday))

    closing = threading.Thread(target=close_week)
    with backend.engine.connect().execution_options(isolation_level="READ COMMITTED") as partition:
        with partition.begin():
            compute(partition, tuesday)
            closing.start()
            closing.join(1.0)
            waited = closing.is_alive()
        # committed: Sunday's partition goes on
        closing.join(30)
    assert waited, "Sunday's partition waits for the videos Tuesday's holds"
    assert written
    got = _period_rows(backend.engine)
    want = _recomputed_periods(backend.engine, [monday, tuesday])
    week = {key: row for key, row in got.items() if key[:2] == ("week", monday)}
    assert week == {key: row for key, row in want.items() if key[:2] == ("week", monday)}
    assert sum(row[0] for row in week.values()) == len(
        [r for r in _sessions(backend.engine) if r.counted and r.day in (monday, tuesday)])

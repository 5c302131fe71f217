"""Audience figures (issue 22, items 2–4) against an independent recomputation from the raw
events of the generated portal data set (tests/portal_support.py: 900 sessions at random
seconds of 32 days with up to 50 minutes of watch time, so many cross midnight, filtered
ones included), through the real Redis figure cache, on MariaDB."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from redis import Redis
from sqlalchemy import text
from sqlalchemy.orm import Session

from models.business_time import today
from models.errors import DomainError
from models.figures.changes import change
from models.figures.content_table import SORTS, content_lines, content_table
from models.figures.last_48_hours import HOURS, last_48_hours
from models.figures.per_view import average_view_seconds, average_view_seconds_sql, rpm, rpm_sql
from models.figures.period_comparison import comparison
from models.figures.period_windows import PeriodError, PeriodWindow, period_window
from models.figures.scope import FigureError
from models.sql_dialect import Dialect
from tests.batch_support import plan_ids, reference
from tests.portal_support import TZ, figure_cache_of, reference_of

# ------------------------------------------------------------------------------ period windows


def test_rolling_windows_end_yesterday_against_the_same_length_before():
    w = period_window("7", date(2026, 3, 10))
    assert (w.first, w.last, w.previous_first, w.previous_last) == (
        date(2026, 3, 3), date(2026, 3, 9), date(2026, 2, 24), date(2026, 3, 2))
    for preset, n in (("28", 28), ("90", 90)):
        w = period_window(preset, date(2026, 3, 10))
        assert w.last == date(2026, 3, 9) and w.days == n == w.previous_days
        assert w.previous_last == w.first - timedelta(days=1)


def test_this_month_runs_to_today_against_the_same_days_of_last_month_cut_at_its_end():
    w = period_window("this_month", date(2026, 3, 31))
    assert (w.first, w.last, w.previous_first, w.previous_last) == (
        date(2026, 3, 1), date(2026, 3, 31), date(2026, 2, 1), date(2026, 2, 28))
    w = period_window("this_month", date(2026, 3, 1))  # the first: one day, today
    assert (w.first, w.last, w.previous_first, w.previous_last) == (
        date(2026, 3, 1), date(2026, 3, 1), date(2026, 2, 1), date(2026, 2, 1))
    w = period_window("this_month", date(2026, 1, 15))  # across a year
    assert (w.previous_first, w.previous_last) == (date(2025, 12, 1), date(2025, 12, 15))


def test_last_month_against_the_month_before():
    w = period_window("last_month", date(2026, 3, 31))
    assert (w.first, w.last, w.previous_first, w.previous_last) == (
        date(2026, 2, 1), date(2026, 2, 28), date(2026, 1, 1), date(2026, 1, 31))
    w = period_window("last_month", date(2026, 1, 1))
    assert (w.first, w.last, w.previous_first, w.previous_last) == (
        date(2025, 12, 1), date(2025, 12, 31), date(2025, 11, 1), date(2025, 11, 30))


def test_custom_against_the_window_of_the_same_length_just_before():
    w = period_window("custom", date(2026, 3, 31), date(2026, 2, 27), date(2026, 3, 2))
    assert (w.previous_first, w.previous_last) == (date(2026, 2, 23), date(2026, 2, 26))
    w = period_window("custom", date(2026, 3, 31), date(2026, 3, 5), date(2026, 3, 5))
    assert (w.previous_first, w.previous_last) == (date(2026, 3, 4), date(2026, 3, 4))
    for first, last in ((None, date(2026, 3, 5)), (date(2026, 3, 6), date(2026, 3, 5))):
        with pytest.raises(PeriodError):
            period_window("custom", date(2026, 3, 31), first, last)
    with pytest.raises(PeriodError):
        period_window("8", date(2026, 3, 31))


def test_change_is_a_number_and_a_percentage_and_new_from_zero():
    assert change(150, 100) == {"value": 150, "previous": 100, "delta": 50, "pct": 50.0}
    assert change(2, 3)["pct"] == -33.3
    assert change(5, 0)["pct"] is None


# ------------------------------------------------------------------------------ data


@pytest.fixture(scope="module")
def data(portal_data):
    return portal_data


@pytest.fixture
def db(data):
    with Session(data.backend.engine) as session:
        yield session


@pytest.fixture
def cache(redis_url, data):
    return figure_cache_of(redis_url, data)


@pytest.fixture(scope="module")
def ref(data):
    return reference_of(data)


def _per_video(data, ref, seller_id, first, last):
    """Per video of the seller: views, watch seconds (floored per video-day, §8), ad views, revenue."""
    out = {vid: [0, 0, 0, 0] for vid in data.videos[seller_id]}
    money = {(s[0], s[1]): s[11] for s in ref["settlements"]}
    for day, vid, seller, views, watch, ads, *_ in ref["stats"]:
        if seller == seller_id and first <= day <= last:
            acc = out[vid]
            acc[0] += views
            acc[1] += watch
            acc[2] += ads
            acc[3] += money[(day, vid)]
    return out


def test_the_data_has_sessions_crossing_midnight(data):
    crossing = [s for s in data.world.sessions if s["counted"] and
                (s["started_at"] + timedelta(milliseconds=s["watch_ms"])).astimezone(TZ).date() != s["day"]]
    assert crossing  # they belong to the day they started on, in every figure below


def test_per_view_figures_in_sql_agree_with_python(db):
    d = Dialect(db.connection())
    cases = [(0, 0), (59, 1), (3_599, 7), (10**12, 3), (1, 1_000_001), (999, 1_000)]
    for a, b in cases:
        got = db.execute(text(f"SELECT {average_view_seconds_sql(d, ':a', ':b')}, {rpm_sql(d, ':a', ':b')}"),
                         {"a": a, "b": b}).one()
        assert (int(got[0]), int(got[1])) == (average_view_seconds(a, b), rpm(a, b))


# ------------------------------------------------------------------------------ content table


def test_content_table_matches_the_raw_events_for_every_sort_and_page(data, db, cache, ref):
    current = data.last + timedelta(days=1)
    for seller in data.sellers:
        first, last = data.first + timedelta(days=3), data.last
        expected = _per_video(data, ref, seller.id, first, last)
        table = content_table(db, cache, seller.id, first, last, current, per_page=500)
        got = {r["video_id"]: [r["views"], r["watch_seconds"], r["ad_views"], r["revenue"]] for r in table["rows"]}
        assert got == expected
        for r in table["rows"]:
            assert r["average_view_seconds"] == average_view_seconds(r["watch_seconds"], r["views"])
            assert r["rpm"] == rpm(r["revenue"], r["views"])
        sums = [sum(v[i] for v in expected.values()) for i in range(4)]
        assert [table["totals"][n] for n in ("views", "watch_seconds", "ad_views", "revenue")] == sums
        assert table["total_rows"] == len(expected) and table["pages"] == 1
        for sort in SORTS:
            for descending in (False, True):
                ordered = sorted(table["rows"], key=lambda r, s=sort, d=descending: (
                    0 if s == "title" else (-r[s] if d else r[s]), r["video_id"]))  # ties: lower id first
                pages = [content_table(db, cache, seller.id, first, last, current, sort=sort,
                                       descending=descending, page=p, per_page=3)
                         for p in (1, 2)]
                assert pages[0]["pages"] == 2
                shown = [r["video_id"] for page in pages for r in page["rows"]]
                if sort != "title":  # MariaDB's collation orders titles its own way; checked below
                    assert [r[sort] for page in pages for r in page["rows"]] == [r[sort] for r in ordered]
                    assert shown == [r["video_id"] for r in ordered]
                assert sorted(shown) == sorted(expected)
                lines = list(content_lines(db, seller.id, first, last, sort, descending))
                assert [r["video_id"] for r in lines] == shown


def test_content_table_stops_at_yesterday_and_caches_exactly(data, db, cache, redis_url):
    seller = data.sellers[0]
    current = data.last + timedelta(days=1)
    table = content_table(db, cache, seller.id, data.first, current + timedelta(days=5), current)
    assert table["closed_last"] == data.last.isoformat()
    again = content_table(db, cache, seller.id, data.first, current + timedelta(days=5), current)
    assert again == table
    assert Redis.from_url(redis_url).keys("paysystem:*:figures:*content*")
    empty = content_table(db, cache, seller.id, current, current, current)  # nothing closed yet
    assert empty["totals"]["views"] == 0 and empty["total_rows"] == len(data.videos[seller.id])
    with pytest.raises(DomainError):
        content_table(db, cache, seller.id, data.first, data.last, current, sort="nope")


# ------------------------------------------------------------------------------ comparison


def test_comparison_totals_and_days_match_the_raw_events(data, db, cache, ref):
    seller = data.sellers[1]
    first = data.first + timedelta(days=16)
    window = PeriodWindow("custom", first, data.last, data.first, first - timedelta(days=1))
    body = comparison(db, cache, seller.id, window, TZ)
    now_sums = [sum(v[i] for v in _per_video(data, ref, seller.id, first, data.last).values()) for i in range(4)]
    before = [sum(v[i] for v in _per_video(data, ref, seller.id, data.first, first - timedelta(days=1)).values())
              for i in range(4)]
    f = body["figures"]
    for i, name in enumerate(("views", "watch_seconds", "ad_views", "total_amount")):
        assert (f[name]["value"], f[name]["previous"]) == (now_sums[i], before[i])
        assert f[name]["delta"] == now_sums[i] - before[i]
    assert f["average_view_seconds"]["value"] == average_view_seconds(now_sums[1], now_sums[0])
    assert f["rpm"]["previous"] == rpm(before[3], before[0])
    assert len(body["days"]) == len(body["previous_days"]) == 16
    assert sum(d["views"] for d in body["days"]) == now_sums[0]
    assert body["status"] == "final"


def test_comparison_of_one_video(data, db, cache, ref):
    seller = data.sellers[2]
    vid = data.videos[seller.id][0]
    window = PeriodWindow("custom", data.first + timedelta(days=1), data.last, data.first, data.first)
    body = comparison(db, cache, seller.id, window, TZ, video_id=vid)
    expected = _per_video(data, ref, seller.id, window.first, window.last)[vid]
    assert body["figures"]["views"]["value"] == expected[0]
    assert body["figures"]["total_amount"]["value"] == expected[3]
    with pytest.raises(FigureError):  # another seller's video: not found
        comparison(db, cache, seller.id, window, TZ, video_id=data.other_seller_video(seller))


# ------------------------------------------------------------------------------ last 48 hours


def test_last_48_hours_counts_counted_sessions_per_hour_of_their_start(data, db):
    seller = data.sellers[0]
    now = datetime.combine(data.last, datetime.min.time(), tzinfo=TZ).astimezone(UTC) + timedelta(hours=13, minutes=7)
    body = last_48_hours(db, seller.id, TZ, now=now)
    assert len(body["hours"]) == HOURS and body["estimate"] is True
    since = datetime.fromisoformat(body["since"])
    expected = defaultdict(int)
    for s in data.world.sessions:
        start = s["started_at"]
        if s["counted"] and data.world.sellers[s["video_id"]] == seller.id and \
                since <= start < since + timedelta(hours=HOURS):
            expected[start.replace(minute=0, second=0, microsecond=0)] += 1
    got = {datetime.fromisoformat(h["hour_start"]): h["views"] for h in body["hours"]}
    assert {k: v for k, v in got.items() if v} == dict(expected)
    assert sum(expected.values()) > 10
    last_hour = body["hours"][-1]
    assert last_hour["label"] == f"{now.astimezone(TZ):%m-%d %H}:00"  # the current hour, in business time
    vid = data.videos[seller.id][1]
    one = last_48_hours(db, seller.id, TZ, video_id=vid, now=now)
    assert one["total_views"] == sum(1 for s in data.world.sessions if s["counted"] and s["video_id"] == vid
                                     and since <= s["started_at"] < since + timedelta(hours=HOURS))


# ------------------------------------------------------------------------------ adversarial data


@pytest.fixture
def edge(redis_url, tmp_path):
    from tests.batch_support import Backend

    backend = Backend("mariadb", redis_url, tmp_path)
    yield backend
    backend.close()


def test_edge_sessions_content_table_and_last_48_hours_agree_with_the_raw_events(edge):
    """Zero-length sessions, a session started a second before midnight and watched for 50 minutes
    (the next day's in no figure), credited milliseconds that only add up to whole seconds per
    video-day, filtered sessions with ad views, a 40-second video; then today's sessions, which the
    last 48 hours count live and the content table (closed days) leaves out."""
    from jobs.inline import run_days_inline
    from tests.batch_support import World, add_sessions, add_users_and_videos, started_at

    world = World()
    (a, b, short), viewer = add_users_and_videos(edge.engine, world, 1, 3)
    seller = world.sellers[a]
    with edge.engine.begin() as conn:
        conn.execute(text("UPDATE videos SET duration_seconds = 40 WHERE id = :v"), {"v": short})
    current = today(TZ)
    d1, d2 = current - timedelta(days=2), current - timedelta(days=1)
    rows = [  # (video, day, second, watch_ms, reason, ad views)
        (a, d1, 86_399, 3_000_000, None, 2),  # crosses midnight: all of it is d1's
        (a, d1, 10, 0, None, 0),  # zero-length
        (a, d1, 20, 400, None, 1), (a, d1, 30, 700, None, 0),  # 1.1 s together: 1 s
        (a, d2, 40, 999, None, 0),  # 0 s
        (b, d1, 50, 5_000, "repeat_within_30s", 3),  # not counted: no view, no ad views
        (short, d2, 60, 40_000, None, 1), (short, d2, 3_600 * 23 + 59, 39_999, None, 0),
        (short, current, 5, 12_000, None, 1), (a, current, 7, 0, None, 0),  # today: live only
    ]
    add_sessions(edge.engine, world, [dict(video_id=v, viewer_id=viewer, day=d, second=s, watch_ms=w, reason=r)
                                      for v, d, s, w, r, _ in rows], [n for *_, n in rows])
    run_days_inline(edge.settings, [d1, d2])
    ref = reference(world, {d1, d2}, plan_ids(edge.engine))
    money = {(s[0], s[1]): s[11] for s in ref["settlements"]}
    expected = {vid: [0, 0, 0, 0] for vid in (a, b, short)}
    for day, vid, _, views, watch, ads, *_ in ref["stats"]:
        expected[vid] = [expected[vid][0] + views, expected[vid][1] + watch, expected[vid][2] + ads,
                         expected[vid][3] + money[(day, vid)]]
    assert expected[a][:3] == [5, 3_000 + 0 + 1 + 0, 3] and expected[b][:3] == [0, 0, 0]
    with Session(edge.engine) as db:
        table = content_table(db, None, seller, d1, current, current, sort="title", descending=False)
        assert table["closed_last"] == d2.isoformat()
        got = {r["video_id"]: [r["views"], r["watch_seconds"], r["ad_views"], r["revenue"]] for r in table["rows"]}
        assert got == expected
        assert {r["video_id"]: r["average_view_seconds"] for r in table["rows"]}[short] == 79 // 2
        now = started_at(current, 3_600)  # 01:00 today, business time
        body = last_48_hours(db, seller, TZ, now=now)
        since = datetime.fromisoformat(body["since"])
        counted = defaultdict(int)
        for s in world.sessions:
            if s["counted"] and since <= s["started_at"] < since + timedelta(hours=HOURS):
                counted[s["started_at"].replace(minute=0, second=0, microsecond=0)] += 1
        hours = {datetime.fromisoformat(h["hour_start"]): h["views"] for h in body["hours"]}
        assert {k: v for k, v in hours.items() if v} == dict(counted)
        assert body["hours"][-2]["views"] == 2  # today's two sessions, 00:00–01:00 KST (now is 01:00)

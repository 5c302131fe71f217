"""The portal's query functions against the batch tables and an independent recomputation, on
a generated data set (3 sellers, 32 days ending yesterday, MariaDB), through the Redis cache."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.inline import run_days_inline
from models import Restatement, Video, VideoDailySettlement, VideoPeriodStats
from models.business_time import days_between, month_range, week_range
from models.figures.receipts import day_receipt, period_receipt
from models.figures.restatement_pages import restatement_list
from models.figures.scope import FigureError
from models.figures.series import daily_series, view_ledger
from models.figures.settlements import settlement_lines, settlement_table
from models.figures.summary import cards, tier_progress
from models.figures.tables import Metric, PeriodKind
from models.figures.top import top5
from tests.batch_support import add_sessions
from tests.portal_support import TZ, figure_cache_of, reference_of


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


def _daily_ref(ref, seller_id=None, video_id=None):
    """Per day: views, watch, ads, own, repeat, video_amount, ad_amount from the reference."""
    out = defaultdict(lambda: [0] * 7)
    money = {(s[0], s[1]): s for s in ref["settlements"]}
    for day, vid, seller, views, watch, ads, own, repeat, *_ in ref["stats"]:
        if (seller_id is None or seller == seller_id) and (video_id is None or vid == video_id):
            acc = out[day]
            m = money[(day, vid)]
            for i, value in enumerate((views, watch, ads, own, repeat, m[9], m[10])):
                acc[i] += value
    return out


def test_daily_series_of_each_seller_and_the_platform_match_the_reference(data, db, cache, ref):
    for seller_id in [s.id for s in data.sellers] + [None]:
        expected = _daily_ref(ref, seller_id)
        for _ in range(2):  # computed, then read from the cache
            series = daily_series(db, cache, seller_id, data.first, data.last, TZ)
            assert len(series["days"]) == 32
            for row in series["days"]:
                e = expected.get(date.fromisoformat(row["day"]), [0] * 7)
                assert [row["views"], row["watch_seconds"], row["ad_views"], row["rejected_own_video"],
                        row["rejected_repeat"], row["video_amount"], row["ad_amount"]] == e
                assert row["total_amount"] == e[5] + e[6]
                assert row["status"] == "final"


def test_per_video_series_and_ledger(data, db, cache, ref):
    seller = data.sellers[1]
    vid = data.videos[seller.id][0]
    expected = _daily_ref(ref, video_id=vid)
    started = defaultdict(int)
    for s in data.world.sessions:
        if s["video_id"] == vid:
            started[s["day"]] += 1
    ledger = view_ledger(db, cache, seller.id, vid, data.first, data.last, TZ)
    for row in ledger["days"]:
        day = date.fromisoformat(row["day"])
        e = expected.get(day, [0] * 7)
        assert row["started"] == started[day]
        assert (row["counted"], row["own_video"], row["repeat_within_30s"]) == (e[0], e[3], e[4])
        assert row["avg_watch_seconds"] == (e[1] // e[0] if e[0] else 0)
    assert sum(r["own_video"] for r in ledger["days"]) > 0 and sum(r["repeat_within_30s"] for r in ledger["days"]) > 0


def test_top5_of_every_seller_and_the_platform_for_days_weeks_and_months(data, db, cache, ref):
    by_scope = defaultdict(list)
    for kind, start, metric, rank, vid, value in ref["top"]:
        by_scope[(kind, start, metric, None)].append((rank, vid, value))
    for kind, start, metric, seller, rank, vid, value in ref["seller_top"]:
        by_scope[(kind, start, metric, seller)].append((rank, vid, value))
    days = [data.first, data.first + timedelta(days=9), data.last]
    checked = 0
    for day in days:
        for kind in PeriodKind:
            start = {PeriodKind.DAY: day, PeriodKind.WEEK: week_range(day)[0], PeriodKind.MONTH: month_range(day)[0]}[kind]
            for metric in Metric:
                for seller_id in [s.id for s in data.sellers] + [None]:
                    got = top5(db, cache, seller_id, metric, kind, day, TZ)
                    want = sorted(by_scope[(kind.value, start, metric.value, seller_id)])
                    assert [(i["rank"], i["video_id"], i["value"]) for i in got["items"]] == want
                    assert got["first"] == start.isoformat()
                    checked += len(want)
    assert checked > 50


def test_settlement_tables_match_the_batch_tables_with_sorting_and_paging(data, db, cache):
    seller = data.sellers[0]
    with Session(data.backend.engine) as s:
        daily = s.scalars(select(VideoDailySettlement).where(VideoDailySettlement.seller_id == seller.id)).all()
        periods = s.scalars(select(VideoPeriodStats).where(VideoPeriodStats.seller_id == seller.id)).all()
    want_day = sorted((r.day.isoformat(), r.video_id, r.views, r.ad_views, r.video_amount, r.ad_amount, r.total_amount)
                      for r in daily)
    table = settlement_table(db, cache, seller.id, "day", data.first, data.last, TZ, per_page=500)
    got = sorted((r["period_start"], r["video_id"], r["views"], r["ad_views"], r["video_amount"], r["ad_amount"],
                  r["total_amount"]) for r in table["rows"])
    assert got == want_day and table["total_rows"] == len(want_day)
    assert table["totals"]["total_amount"] == sum(r.total_amount for r in daily)
    for granularity in ("week", "month"):
        want = sorted((r.period_start.isoformat(), r.video_id, r.views, r.ad_views, r.video_amount, r.ad_amount,
                       r.video_amount + r.ad_amount) for r in periods if r.period.value == granularity)
        rows = list(settlement_lines(db, seller.id, granularity, data.first, data.last))
        assert sorted((r["period_start"], r["video_id"], r["views"], r["ad_views"], r["video_amount"],
                       r["ad_amount"], r["total_amount"]) for r in rows) == want
        # Weekly and monthly totals equal the daily ones (§7).
        table = settlement_table(db, cache, seller.id, granularity, data.first, data.last, TZ, per_page=500)
        assert table["totals"]["total_amount"] == sum(r.total_amount for r in daily)
    assert len({r[0] for r in want_day}) > 20
    # Sorting by total, descending, paged 7 a page: the pages concatenate to the sorted table.
    pages, page = [], 1
    while True:
        t = settlement_table(db, cache, seller.id, "day", data.first, data.last, TZ, sort="total_amount",
                             descending=True, page=page, per_page=7)
        pages += t["rows"]
        if page >= t["pages"]:
            break
        page += 1
    totals = [r["total_amount"] for r in pages]
    assert totals == sorted(totals, reverse=True) and len(pages) == len(want_day)


def _table_reference(db, seller_id, granularity, first, last, sort, descending, page, per_page):
    """The table as it was computed before it became one statement: the lines ordered by the
    database (its collation for titles), sliced in Python, summed per period in Python, and a
    line restated when a restatement of its video falls between its first and last day."""
    lines = list(settlement_lines(db, seller_id, granularity, first, last))
    ordered = {(r["period_start"], r["video_id"]): r for r in lines}
    key = {"period": "period_start", "video": "title"}.get(sort, sort)
    if key == "title":  # the database's order of titles, not Python's
        titles = [t for (t,) in db.execute(select(Video.title).where(Video.id.in_({r["video_id"] for r in lines}))
                                            .order_by(Video.title, Video.id))]
        rank = {t: i for i, t in enumerate(dict.fromkeys(titles))}
        sort_key = lambda r: rank[r["title"]]  # noqa: E731
    else:
        sort_key = lambda r: r[key]  # noqa: E731
    rows = sorted(ordered.values(), key=lambda r: (r["period_start"], r["video_id"]))
    rows.sort(key=sort_key, reverse=descending)
    restated = db.execute(select(Restatement.video_id, Restatement.day)).all()
    page_rows = []
    for r in rows[(page - 1) * per_page:page * per_page]:
        page_rows.append({**r, "restated": any(vid == r["video_id"] and r["period_start"] <= d.isoformat()
                                                <= r["period_end"] for vid, d in restated)})
    names = ("views", "ad_views", "video_amount", "ad_amount", "total_amount")
    periods: dict[str, dict] = {}
    for r in lines:
        p = periods.setdefault(r["period_start"], {"period_start": r["period_start"], "period_end": r["period_end"],
                                                   **{n: 0 for n in names}})
        for n in names:
            p[n] += r[n]
    return {"rows": page_rows, "periods": [periods[k] for k in sorted(periods)],
            "totals": {n: sum(r[n] for r in lines) for n in names}, "total_rows": len(lines),
            "pages": max(1, -(-len(lines) // per_page))}


def test_a_settlement_table_page_is_its_lines_sorted_paged_summed_and_flagged_in_one_statement(data, db):
    """The page, the period sums and the restated flags come from one statement (two for a first
    page that does not hold every line); they equal the straightforward computation, for every granularity, sort and direction, paged, with
    restatements on the first and last day of a week and a month and outside the range."""
    from sqlalchemy import event

    seller = data.sellers[0]
    vids = data.videos[seller.id]
    month_first = month_range(data.last)[0]
    week_first, week_last = week_range(data.first + timedelta(days=10))
    marks = [(vids[0], week_first), (vids[1], week_last), (vids[2], month_first), (vids[0], data.last),
             (vids[1], data.first - timedelta(days=3)), (data.other_seller_video(seller), data.first + timedelta(days=2))]
    for vid, day in marks:
        db.add(Restatement(day=day, video_id=vid, seller_id=seller.id, reason="events_changed",
                           **{f"{w}_{n}": 0 for w in ("was", "now") for n in ("views", "watch_seconds", "ad_views",
                                                                           "video_amount", "ad_amount",
                                                                           "total_amount")}))
    db.flush()  # seen by this session only; rolled back below
    statements: list[str] = []
    engine = db.get_bind()
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    try:
        flagged = 0
        for granularity in ("day", "week", "month"):
            for sort in ("period", "video", "total_amount", "views"):
                for descending in (False, True):
                    for page, per_page in ((1, 500), (1, 7), (2, 7)):
                        statements.clear()
                        event.listen(engine, "before_cursor_execute", listen)
                        try:
                            got = settlement_table(db, None, seller.id, granularity, data.first, data.last, TZ,
                                                   sort=sort, descending=descending, page=page, per_page=per_page)
                        finally:
                            event.remove(engine, "before_cursor_execute", listen)
                        want = _table_reference(db, seller.id, granularity, data.first, data.last, sort, descending,
                                                page, per_page)
                        assert {k: got[k] for k in want} == want, (granularity, sort, descending, page)
                        flagged += sum(r["restated"] for r in got["rows"])
                        # Without a cache (and with exact statuses, asked after it): one statement,
                        # two when the first page does not hold every line (then the periods').
                        table = [q for q in statements if "video_period_stats" in q or "video_daily_settlements" in q]
                        assert len(table) == (2 if page == 1 and got["total_rows"] > per_page else 1)
                        assert statements[0] == table[0] and table[0].lstrip().startswith("SELECT 0 AS part")
        assert flagged > 0
    finally:
        db.rollback()


@pytest.mark.slow
def test_every_receipt_reproduces_its_stored_amount(data, db):
    with Session(data.backend.engine) as s:
        lines = s.scalars(select(VideoDailySettlement)).all()
        periods = s.scalars(select(VideoPeriodStats)).all()
    for line in lines:
        receipt = day_receipt(db, line.seller_id, line.video_id, line.day)
        assert receipt["views"]["sum"] == line.video_amount
        assert receipt["ad_views"]["sum"] == line.ad_amount
        assert receipt["computed_total"] == line.total_amount == receipt["stored"]["total_amount"]
        assert sum(b["units"] for b in receipt["views"]["brackets"]) == line.views
    for row in periods:
        receipt = period_receipt(db, row.seller_id, row.video_id, row.period.value, row.period_start)
        assert receipt["sum"]["video_amount"] == row.video_amount == receipt["stored"]["video_amount"]
        assert receipt["sum"]["ad_amount"] == row.ad_amount
        assert receipt["sum"]["views"] == row.views
    assert len(lines) > 200


def test_cards_compare_yesterday_and_month_to_date_with_the_previous_period(data, db, cache, ref):
    seller = data.sellers[2]
    expected = _daily_ref(ref, seller.id)
    result = cards(db, cache, seller.id, TZ)
    yesterday, mtd = result["cards"]
    y = expected.get(data.last, [0] * 7)
    assert yesterday["figures"]["views"]["value"] == y[0]
    assert yesterday["figures"]["total_amount"]["value"] == y[5] + y[6]
    before = expected.get(data.last - timedelta(days=1), [0] * 7)
    assert yesterday["figures"]["views"]["previous"] == before[0]
    assert yesterday["status"] == "final"
    mtd_days = days_between(month_range(data.last)[0], data.last)
    assert mtd["figures"]["ad_views"]["value"] == sum(expected.get(d, [0] * 7)[2] for d in mtd_days)


def test_tier_progress_counts_this_months_views(data, db, ref):
    seller = data.sellers[0]
    rows = tier_progress(db, seller.id, TZ)
    assert {r["video_id"] for r in rows} == set(data.videos[seller.id])
    first = month_range(data.last + timedelta(days=1))[0]
    for r in rows:
        count = sum(s[3] for s in ref["stats"] if s[1] == r["video_id"] and s[0] >= first)
        assert r["count"] == count
        assert r["to_next"] == 100_000 - count and r["next_rate"] == "1.1"


def test_another_sellers_video_is_not_found(data, db, cache):
    seller = data.sellers[0]
    other = data.other_seller_video(seller)
    day = data.last
    with pytest.raises(FigureError) as err:
        daily_series(db, cache, seller.id, data.first, data.last, TZ, video_id=other)
    assert err.value.kind == "not_found"
    for call in (lambda: day_receipt(db, seller.id, other, day),
                 lambda: period_receipt(db, seller.id, other, "week", day),
                 lambda: view_ledger(db, cache, seller.id, other, data.first, data.last, TZ),
                 lambda: settlement_table(db, cache, seller.id, "day", data.first, data.last, TZ, video_id=other)):
        with pytest.raises(FigureError):
            call()
    assert restatement_list(db, seller.id, video_id=other) == []
    assert all(r["video_id"] in data.videos[seller.id]
               for r in settlement_lines(db, seller.id, "day", data.first, data.last))


def test_bad_ranges_are_refused(data, db, cache):
    with pytest.raises(FigureError, match="before the start"):
        daily_series(db, cache, None, data.last, data.first, TZ)
    with pytest.raises(FigureError, match="366"):
        daily_series(db, cache, None, data.last - timedelta(days=400), data.last, TZ)


def test_rerun_of_a_final_day_records_restatements_and_refreshes_cached_figures(data, db, cache, portal_app):
    """Late events on a final day: the re-run stores was/now and the cached figures follow."""
    seller = data.sellers[1]
    vid = data.videos[seller.id][1]
    day = data.first + timedelta(days=3)
    before = daily_series(db, cache, seller.id, data.first, data.last, TZ)
    week = settlement_table(db, cache, seller.id, "week", day, day, TZ)
    old = db.get(VideoDailySettlement, (day, vid))
    old_views = old.views if old else 0
    add_sessions(data.backend.engine, data.world, [dict(video_id=vid, viewer_id=data.viewer.id, day=day, second=60,
                                                        watch_ms=90_000)] * 3, [2, 2, 2])
    run_days_inline(data.backend.settings, [day])
    db.rollback()  # a new transaction sees the re-run (REPEATABLE READ)
    rows = restatement_list(db, seller.id, video_id=vid)
    mine = [r for r in rows if r["day"] == day.isoformat()]
    assert mine and mine[0]["was"]["views"] == old_views and mine[0]["now"]["views"] == old_views + 3
    assert mine[0]["reason"] == "events_changed" and mine[0]["run_id"] is not None
    assert restatement_list(db, data.sellers[0].id, video_id=vid) == []
    after = daily_series(db, cache, seller.id, data.first, data.last, TZ)
    index = (day - data.first).days
    assert after["days"][index]["views"] == before["days"][index]["views"] + 3
    assert settlement_table(db, cache, seller.id, "week", day, day, TZ)["totals"]["views"] == week["totals"]["views"] + 3
    receipt = day_receipt(db, seller.id, vid, day)
    assert receipt["restatements"][0]["now"]["views"] == old_views + 3
    # The seller sees it on the dashboard, on the line and on the day of the video's page.
    from tests.watching_support import sign_in

    client = portal_app.test_client()
    sign_in(client, seller)
    assert "Restated on" in client.get("/dashboard").get_data(as_text=True)
    page = client.get(f"/videos/{vid}/stats?from={data.first}&to={data.last}").get_data(as_text=True)
    assert f'<tr><td data-label="Day">{day}</td>' in page and "data-restated" in page
    lines = client.get(f"/settlements?from={day}&to={day}").get_data(as_text=True)
    assert "data-restated" in lines
    # Running the day again with nothing new changes nothing, so nothing more is recorded.
    count = db.query(Restatement).count()
    run_days_inline(data.backend.settings, [day])
    db.rollback()
    assert db.query(Restatement).count() == count


def test_restatement_reasons_late_events_earlier_day_and_price_plan(redis_url, tmp_path):
    """On a lifetime-basis plan, late events of day 0 re-price the later days (earlier_day); a plan
    created afterwards with an earlier effective date re-prices a re-run day (price_plan)."""
    from tests.batch_support import DAY0, DEFAULT_TIERS, Backend, add_plan, busy_world

    backend = Backend("mariadb", redis_url, tmp_path)
    try:
        world = busy_world(backend, days=4, lifetime=True)
        days = [DAY0 + timedelta(days=i) for i in range(4)]
        run_days_inline(backend.settings, days)
        vid = next(iter(world.sellers))
        viewer = world.sessions[0]["viewer_id"]
        add_sessions(backend.engine, world, [dict(video_id=vid, viewer_id=viewer, day=DAY0, second=10,
                                                  watch_ms=5_000)] * 6, [1] * 6)
        run_days_inline(backend.settings, [DAY0])
        with Session(backend.engine) as s:
            rows = restatement_list(s, None)
            assert {r["reason"] for r in rows} == {"events_changed", "earlier_day"}
            assert all(r["day"] > DAY0.isoformat() for r in rows if r["reason"] == "earlier_day")
            changed = [r for r in rows if r["reason"] == "earlier_day"]
            assert all(r["was"]["views"] == r["now"]["views"] and r["was"] != r["now"] for r in changed)
            # The stored amounts now are what the receipts of those days add up to.
            for r in changed:
                receipt = day_receipt(s, None, r["video_id"], date.fromisoformat(r["day"]))
                assert receipt["computed_total"] == r["now"]["total_amount"]
        add_plan(backend.engine, world, days[3], "daily", [(lo, hi, v * 2, a) for lo, hi, v, a in DEFAULT_TIERS])
        run_days_inline(backend.settings, [days[3]])
        with Session(backend.engine) as s:
            plan_rows = [r for r in restatement_list(s, None) if r["day"] == days[3].isoformat()
                         and r["reason"] == "price_plan"]
            assert plan_rows and all(r["now"]["video_amount"] > r["was"]["video_amount"] for r in plan_rows
                                     if r["now"]["views"] > 0)
            table = settlement_table(s, None, None, "day", days[3], days[3], TZ)
            assert table["rows"] and all(line["restated"] for line in table["rows"]
                                         if line["video_id"] in {r["video_id"] for r in plan_rows})
    finally:
        backend.close()


def test_a_range_value_is_invalidated_by_any_day_it_contains(cache):
    from models.figures.cache import get_or_compute_in, month_scopes

    first, last = date(2031, 1, 20), date(2031, 3, 5)
    assert month_scopes(first, last) == ["month:2031-01-01", "month:2031-02-01", "month:2031-03-01"]
    calls = []

    def compute():
        calls.append(1)
        return {"n": len(calls)}

    scopes = month_scopes(first, last)
    assert get_or_compute_in(cache, scopes, "range-test", compute) == {"n": 1}
    assert get_or_compute_in(cache, scopes, "range-test", compute) == {"n": 1}  # cached
    cache.invalidate([("day", date(2031, 2, 14))])  # a day in the middle month
    assert get_or_compute_in(cache, scopes, "range-test", compute) == {"n": 2}
    cache.invalidate([("day", date(2031, 4, 1))])  # outside the range: still cached
    assert get_or_compute_in(cache, scopes, "range-test", compute) == {"n": 2}

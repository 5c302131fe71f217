"""The set-based SQL of the nightly pipeline: one partition of a day, and the final step.

Everything here runs inside a transaction the caller owns, so a partition is all or
nothing: a worker killed half-way leaves the previous rows of that day untouched.

Invariants kept for every video, so days can be (re)run in any order and still agree
with a run of every day in order:
- `cum_*` of each daily row equals the sum of the daily figures of that video's rows up
  to that day. Computing day D from the latest earlier row keeps it for D; when D's
  figures change, the difference is added to the rows after D (and the `lifetime`-basis
  amounts after D are re-priced).
- each week and month row equals the sum of that video's daily rows (money included) in
  the period: whatever a partition rewrites, it adds the difference (new minus old) to
  the rollups in the same transaction, so they never need a re-scan of the period and
  partitions of different video ranges update them in parallel.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, text

from models.business_time import days_between
from models.figures.daily_counts import AD_COUNTS, SESSION_COUNTS, watch_seconds
from models.figures.period_calendar import period_start_sql, rollup_periods
from models.figures.retention import (
    GROUP_CONCAT_DEFAULT,
    GROUP_CONCAT_LIMIT,
    add_day_params,
    add_day_to_period_sql,
    close_period_sql,
    day_histogram_sql,
    rebuild_period_sql,
)
from models.figures.tables import RollupPeriod
from models.money import restatements
from models.money.pricing import Plan, plans_in_force, price_sql, tiers_of
from models.money.settlement import PricingBasis
from models.sql_dialect import Dialect

_DAY = "tmp_batch_day"
_CHANGE = "tmp_batch_change"
_ROLLUP = "tmp_batch_rollup"
_RETENTION_OLD = "tmp_batch_retention_old"
_RETENTION_CHANGED = "tmp_batch_retention_changed"
# Set to "1" only by `bench.pipeline --without-retention` (in its workers' environment): the
# retention step's cost is the backfill with the step minus the backfill without it.
SKIP_RETENTION_ENV = "PAYSYSTEM_BENCH_SKIP_RETENTION"


@dataclass(frozen=True)
class PartitionResult:
    stats_rows: int
    settlement_rows: int
    later_rows: int

    @property
    def rows_written(self) -> int:
        return self.stats_rows + self.settlement_rows + self.later_rows


def lock_videos(conn: Connection, lo: int, hi: int) -> None:
    """Serialise writers of the same videos (two runs touching one video's running totals).

    MariaDB: row locks on the partition's videos, held until commit. SQLite has a single
    writer anyway; the first write of the transaction takes its lock.
    """
    if Dialect(conn).mysql:
        conn.execute(text("SELECT id FROM videos WHERE id BETWEEN :lo AND :hi ORDER BY id FOR UPDATE"),
                     {"lo": lo, "hi": hi})


_ROLLUP_COLUMNS = ("views", "watch_seconds", "ad_views", "video_amount", "ad_amount")


def compute_partition(conn: Connection, day: date, lo: int, hi: int, plan: Plan,
                      run_id: int | None = None) -> PartitionResult:
    """Replace day `day`'s stats and settlements of videos `lo`…`hi`, carry the change forward
    and add it to the week and month rollups; changes to already-final video-days are kept as
    restatements of run `run_id`."""
    # --- restatements (§9): remember what the seller was shown before it is rewritten
    was_final = restatements.day_was_final(conn, day)
    snapshotted = restatements.snapshot(conn, day, lo, hi)
    # ---
    d = Dialect(conn)
    params = {"day": day, "lo": lo, "hi": hi}
    for name in (_DAY, _CHANGE, _ROLLUP):
        conn.execute(text(d.drop_temp(name)))
    conn.execute(text(d.temp_table(
        _DAY,
        "video_id BIGINT NOT NULL PRIMARY KEY, seller_id BIGINT NOT NULL, views BIGINT NOT NULL, "
        "watch_seconds BIGINT NOT NULL, ad_views BIGINT NOT NULL, rejected_own_video BIGINT NOT NULL, "
        "rejected_repeat BIGINT NOT NULL, prev_views BIGINT NOT NULL, prev_watch BIGINT NOT NULL, "
        "prev_ads BIGINT NOT NULL",
    )))
    # Signed (day, video) figures this partition takes out of (old rows) and puts into
    # (new rows) the daily tables: their sum per period is what the rollups must move by.
    conn.execute(text(d.temp_table(
        _ROLLUP,
        "day DATE NOT NULL, video_id BIGINT NOT NULL, seller_id BIGINT NOT NULL, views BIGINT NOT NULL, "
        "watch_seconds BIGINT NOT NULL, ad_views BIGINT NOT NULL, video_amount BIGINT NOT NULL, "
        "ad_amount BIGINT NOT NULL",
    )))
    # The day's figures per video (models/figures/daily_counts.py defines them), each read from a
    # covering (day, video_id, …) index, and
    # the running totals of each video's latest earlier row: one seek per video in the
    # (video_id, day) index, so the cost does not grow with the history.
    conn.execute(text(f"""
        INSERT INTO {_DAY} (video_id, seller_id, views, watch_seconds, ad_views, rejected_own_video,
                            rejected_repeat, prev_views, prev_watch, prev_ads)
        SELECT p.video_id, v.seller_id, p.views, {watch_seconds(d, 'p.watch_ms')}, COALESCE(a.ad_views, 0),
               p.rej_own, p.rej_repeat, COALESCE(e.cum_views, 0), COALESCE(e.cum_watch_seconds, 0),
               COALESCE(e.cum_ad_views, 0)
        FROM ({SESSION_COUNTS}
        ) p
        JOIN videos v ON v.id = p.video_id
        LEFT JOIN ({AD_COUNTS}
        ) a ON a.video_id = p.video_id
        LEFT JOIN video_daily_stats e ON e.video_id = p.video_id AND e.day = (
            SELECT q.day FROM video_daily_stats q WHERE q.video_id = p.video_id AND q.day < :day
            ORDER BY q.day DESC LIMIT 1
        )
    """), params)

    later = conn.execute(text(
        "SELECT 1 FROM video_daily_stats WHERE day > :day AND video_id BETWEEN :lo AND :hi LIMIT 1"
    ), params).first() is not None
    if later:
        # What changed on `day`, per video: the later running totals move by exactly this much.
        conn.execute(text(d.temp_table(
            _CHANGE,
            "video_id BIGINT NOT NULL PRIMARY KEY, d_views BIGINT NOT NULL, d_watch BIGINT NOT NULL, "
            "d_ads BIGINT NOT NULL",
        )))
        conn.execute(text(f"""
            INSERT INTO {_CHANGE} (video_id, d_views, d_watch, d_ads)
            SELECT video_id, SUM(views), SUM(watch_seconds), SUM(ad_views)
            FROM (
                SELECT video_id, views, watch_seconds, ad_views FROM {_DAY}
                UNION ALL
                SELECT video_id, -views, -watch_seconds, -ad_views FROM video_daily_stats
                WHERE day = :day AND video_id BETWEEN :lo AND :hi
            ) u
            GROUP BY video_id
            HAVING SUM(views) <> 0 OR SUM(watch_seconds) <> 0 OR SUM(ad_views) <> 0
        """), params)

    day_rows = "s.day = :day AND s.video_id BETWEEN :lo AND :hi"
    if _note_rollup(conn, -1, day_rows, params):  # a re-run: the day's old rows go
        conn.execute(text("DELETE FROM video_daily_settlements WHERE day = :day AND video_id BETWEEN :lo AND :hi"),
                     params)
        conn.execute(text("DELETE FROM video_daily_stats WHERE day = :day AND video_id BETWEEN :lo AND :hi"), params)
    stats_rows = conn.execute(text(f"""
        INSERT INTO video_daily_stats (day, video_id, seller_id, views, watch_seconds, ad_views,
                                       rejected_own_video, rejected_repeat, cum_views, cum_watch_seconds, cum_ad_views)
        SELECT :day, video_id, seller_id, views, watch_seconds, ad_views, rejected_own_video, rejected_repeat,
               prev_views + views, prev_watch + watch_seconds, prev_ads + ad_views
        FROM {_DAY}
        ORDER BY video_id
    """), params).rowcount
    settlement_rows = insert_settlements(conn, plan, day_rows, params)
    _note_rollup(conn, 1, day_rows, params)

    later_rows = 0
    if later and conn.execute(text(f"SELECT 1 FROM {_CHANGE} LIMIT 1")).first() is not None:
        later_rows = _carry_forward(conn, d, day)
    rollup_rows = _apply_rollup(conn, d)
    if os.environ.get(SKIP_RETENTION_ENV) != "1":
        replace_retention(conn, d, day, params)
    for name in (_DAY, _CHANGE, _ROLLUP):
        conn.execute(text(d.drop_temp(name)))
    # --- restatements (§9): store what changed, in the same transaction as the new rows
    restatements.record(conn, day, lo, hi, run_id, was_final, snapshotted)
    # ---
    return PartitionResult(stats_rows, settlement_rows, later_rows + rollup_rows)


def _note_rollup(conn: Connection, sign: int, where: str, params: dict, join: str = "",
                 figures: bool = True) -> int:
    """Record the selected daily rows (stats `s` with their settlement) with `sign` for the rollups;
    returns how many there were.

    With `figures` False only the money is recorded (a re-pricing leaves the figures as they are).
    """
    views, watch, ads = ("s.views", "s.watch_seconds", "s.ad_views") if figures else ("0", "0", "0")
    return conn.execute(text(f"""
        INSERT INTO {_ROLLUP} (day, video_id, seller_id, views, watch_seconds, ad_views, video_amount, ad_amount)
        SELECT s.day, s.video_id, s.seller_id, {sign} * {views}, {sign} * {watch}, {sign} * {ads},
               {sign} * COALESCE(m.video_amount, 0), {sign} * COALESCE(m.ad_amount, 0)
        FROM video_daily_stats s {join}
        LEFT JOIN video_daily_settlements m ON m.day = s.day AND m.video_id = s.video_id
        WHERE {where}
    """), params).rowcount


def _apply_rollup(conn: Connection, d: Dialect) -> int:
    """Add the recorded differences to the week and month rows of their videos."""
    sums = ", ".join(f"SUM({c})" for c in _ROLLUP_COLUMNS)
    rows = 0
    for period in RollupPeriod:
        start = period_start_sql(d, period, "day")
        rows += conn.execute(text(f"""
            INSERT INTO video_period_stats (period, period_start, video_id, seller_id, {", ".join(_ROLLUP_COLUMNS)})
            SELECT :period, {start}, video_id, MAX(seller_id), {sums}
            FROM {_ROLLUP}
            GROUP BY {start}, video_id
            {d.add_on_conflict("period, period_start, video_id", _ROLLUP_COLUMNS, "video_period_stats")}
        """), {"period": period.value}).rowcount
    return rows


def replace_retention(conn: Connection, d: Dialect, day: date, params: dict) -> int:
    """Replace the day's retention rows of the partition's videos and keep their week and month
    rows equal to the sum of their days (models/figures/retention.py); returns the rows written.

    The daily histograms have no running totals. On the day's first run the day is appended to
    the period rows that exist (an open period has none). A histogram text cannot be subtracted,
    so a re-run keeps the day's old rows aside and rebuilds the week and month rows of the videos
    whose day changed (usually few: late events) from their daily rows; the others' period rows
    already hold exactly the day's new rows. On a week's or month's last day the partition then
    writes the period's rows of its videos that have none, from their daily rows: holding the
    lock on its videos (`lock_videos`), so a partition computing another day of the period for
    the same videos either committed before (its day is read) or comes after (and appends)."""
    # A day's first run has no old rows to keep aside: no temporary tables (with TEXT one is an
    # on-disk table), not even their DROP IF EXISTS, for the 4 partitions × 30 days of a backfill.
    replaced = conn.execute(text("SELECT 1 FROM video_daily_retention WHERE day = :day "
                                 "AND video_id BETWEEN :lo AND :hi LIMIT 1"), params).first() is not None
    if replaced:
        _drop_retention_temps(conn, d)  # left on this pooled connection by a failed run
        # Not d.temp_table: a MEMORY table holds no TEXT.
        conn.execute(text(f"CREATE TEMPORARY TABLE {_RETENTION_OLD} (video_id BIGINT NOT NULL PRIMARY KEY, "
                          "views BIGINT NOT NULL, reach_ms BIGINT NOT NULL, histogram TEXT NOT NULL)"))
        conn.execute(text(f"""
            INSERT INTO {_RETENTION_OLD} (video_id, views, reach_ms, histogram)
            SELECT video_id, views, reach_ms, histogram FROM video_daily_retention
            WHERE day = :day AND video_id BETWEEN :lo AND :hi"""), params)
        conn.execute(text("DELETE FROM video_daily_retention WHERE day = :day AND video_id BETWEEN :lo AND :hi"),
                     params)
    rows = conn.execute(text(f"""
        INSERT INTO video_daily_retention (day, video_id, views, reach_ms, histogram)
        {day_histogram_sql(d)}"""), params).rowcount
    if not replaced:  # appended where the period has rows (usually none: it is still open)
        rows += conn.execute(text(add_day_to_period_sql(d)), {**params, **add_day_params(day)}).rowcount
    else:
        conn.execute(text(d.temp_table(_RETENTION_CHANGED, "video_id BIGINT NOT NULL PRIMARY KEY")))
        # The old rows that are gone or differ, then the new rows of videos without an old one.
        conn.execute(text(f"""
            INSERT INTO {_RETENTION_CHANGED} (video_id)
            SELECT o.video_id FROM {_RETENTION_OLD} o
            LEFT JOIN video_daily_retention n ON n.day = :day AND n.video_id = o.video_id AND n.views = o.views
                AND n.reach_ms = o.reach_ms AND n.histogram = o.histogram
            WHERE n.video_id IS NULL"""), params)
        conn.execute(text(f"""
            INSERT INTO {_RETENTION_CHANGED} (video_id)
            SELECT n.video_id FROM video_daily_retention n
            LEFT JOIN {_RETENTION_OLD} o ON o.video_id = n.video_id
            WHERE n.day = :day AND n.video_id BETWEEN :lo AND :hi AND o.video_id IS NULL"""), params)
        if conn.execute(text(f"SELECT 1 FROM {_RETENTION_CHANGED} LIMIT 1")).first() is not None:
            for period, start, end in rollup_periods(day):
                span = {**params, "period": period.value, "period_start": start, "period_end": end}
                conn.execute(text(f"""
                    DELETE FROM video_period_retention WHERE period = :period AND period_start = :period_start
                    AND video_id IN (SELECT video_id FROM {_RETENTION_CHANGED})"""), span)
                with _long_group_concat(conn, d):
                    rows += conn.execute(text(rebuild_period_sql(d, _RETENTION_CHANGED)), span).rowcount
    for period, start, end in rollup_periods(day):
        if end == day:  # the period closes: rows for the partition's videos that have none
            with _long_group_concat(conn, d):
                rows += conn.execute(text(close_period_sql(d, days_between(start, end))),
                                     {**params, "period": period.value, "period_start": start}).rowcount
    if replaced:
        _drop_retention_temps(conn, d)
    return rows


def _drop_retention_temps(conn: Connection, d: Dialect) -> None:
    """The re-run's temporary tables of `replace_retention` (a first run makes none)."""
    for name in (_RETENTION_OLD, _RETENTION_CHANGED):
        conn.execute(text(d.drop_temp(name)))


@contextmanager
def _long_group_concat(conn: Connection, d: Dialect) -> Iterator[None]:
    """MariaDB's GROUP_CONCAT limit raised to the period texts' size for one statement only.

    Left raised on the (pooled) connection, it made MariaDB keep every later GROUP_CONCAT of a
    GROUP BY, the next days' histograms included, in an on-disk temporary table (the result may
    then be a BLOB, which a MEMORY table cannot hold): backfills that had closed a week ran about
    half as fast again."""
    if not d.mysql:
        yield
        return
    conn.execute(text(GROUP_CONCAT_LIMIT))
    try:
        yield
    finally:
        conn.execute(text(GROUP_CONCAT_DEFAULT))


def _carry_forward(conn: Connection, d: Dialect, day: date) -> int:
    """Move the running totals after `day` by the change, and re-price `lifetime` days after it."""
    if d.mysql:
        sql = f"""
            UPDATE video_daily_stats s JOIN {_CHANGE} c ON c.video_id = s.video_id
            SET s.cum_views = s.cum_views + c.d_views, s.cum_watch_seconds = s.cum_watch_seconds + c.d_watch,
                s.cum_ad_views = s.cum_ad_views + c.d_ads
            WHERE s.day > :day"""
    else:
        sql = f"""
            UPDATE video_daily_stats
            SET cum_views = cum_views + c.d_views, cum_watch_seconds = cum_watch_seconds + c.d_watch,
                cum_ad_views = cum_ad_views + c.d_ads
            FROM {_CHANGE} c
            WHERE c.video_id = video_daily_stats.video_id AND video_daily_stats.day > :day"""
    rows = conn.execute(text(sql), {"day": day}).rowcount
    for plan, first, last in plans_in_force(conn, day + timedelta(days=1)):
        if plan.basis != PricingBasis.LIFETIME:
            continue
        span = {"first": first, "last": last or date.max}
        changed = f"JOIN {_CHANGE} c ON c.video_id = s.video_id"
        _note_rollup(conn, -1, "s.day BETWEEN :first AND :last", span, join=changed, figures=False)
        conn.execute(text(f"""
            DELETE FROM video_daily_settlements
            WHERE day BETWEEN :first AND :last AND video_id IN (SELECT video_id FROM {_CHANGE})"""), span)
        rows += insert_settlements(conn, plan, "s.day BETWEEN :first AND :last", span, join=changed)
        _note_rollup(conn, 1, "s.day BETWEEN :first AND :last", span, join=changed, figures=False)
    return rows


def insert_settlements(conn: Connection, plan: Plan, where: str, params: dict, join: str = "") -> int:
    """One settlement row per selected daily stats row `s`, priced with `plan` (§9 marginal brackets).

    Units of the day are numbered `before + 1 … before + units`; `before` is 0 on the
    daily basis and the running total before the day on the lifetime basis. Each
    bracket's share is floored to whole won, then the brackets are summed.
    """
    d = Dialect(conn)
    lifetime = plan.basis == PricingBasis.LIFETIME
    vb = "(s.cum_views - s.views)" if lifetime else "0"
    ab = "(s.cum_ad_views - s.ad_views)" if lifetime else "0"
    params = {**params, "plan_id": plan.id, "basis": plan.basis.value}
    tiers = tiers_of(conn, plan.id)
    va = price_sql(d, tiers, vb, "s.views", False, params, "v")
    aa = price_sql(d, tiers, ab, "s.ad_views", True, params, "a")
    sql = f"""
        INSERT INTO video_daily_settlements (day, video_id, seller_id, plan_id, basis, views, ad_views,
                                             views_before, ad_views_before, video_amount, ad_amount, total_amount)
        SELECT x.day, x.video_id, x.seller_id, :plan_id, :basis, x.views, x.ad_views, x.vb, x.ab, x.va, x.aa, x.va + x.aa
        FROM (
            SELECT s.day, s.video_id, s.seller_id, s.views, s.ad_views, {vb} AS vb, {ab} AS ab,
                   {va} AS va, {aa} AS aa
            FROM video_daily_stats s {join}
            WHERE {where}
        ) x
        ORDER BY x.day, x.video_id"""
    return conn.execute(text(sql), params).rowcount


# ---------------------------------------------------------------------------------- final step
# The final step materializes the Top-5 through models/figures/rankings.py (the ranking rule's home).

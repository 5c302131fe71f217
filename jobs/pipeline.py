"""The set-based SQL of the nightly pipeline: one partition of a day, and the final step.

Everything here runs inside a transaction the caller owns, so a partition is all or
nothing: a worker killed half-way leaves the previous rows of that day untouched.

Invariant kept for every video: `cum_*` of each daily row equals the sum of the daily
figures of that video's rows up to that day. Computing day D from the latest earlier
row keeps it for D; when D's figures change, the difference is added to the rows after
D (and the `lifetime`-basis amounts after D are recomputed), so days can be (re)run in
any order and still agree with a run of every day in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, delete, text

from models.business_time import month_range, week_range
from models.settlement import RATE_SCALE, PricingBasis
from models.stats import (
    Metric,
    PeriodKind,
    RollupPeriod,
    VideoPeriodStats,
)

TOP_N = 5
_DAY = "tmp_batch_day"
_CHANGE = "tmp_batch_change"
_RANK = "tmp_batch_rank"


@dataclass(frozen=True)
class Plan:
    id: int
    basis: PricingBasis
    effective_from: date


@dataclass(frozen=True)
class PartitionResult:
    stats_rows: int
    settlement_rows: int
    later_rows: int

    @property
    def rows_written(self) -> int:
        return self.stats_rows + self.settlement_rows + self.later_rows


class _Dialect:
    """The few spellings that differ between MariaDB/MySQL and SQLite."""

    def __init__(self, conn: Connection) -> None:
        self.mysql = conn.dialect.name in ("mysql", "mariadb")

    def greatest(self, a: str, b: str) -> str:
        return f"GREATEST({a}, {b})" if self.mysql else f"MAX({a}, {b})"

    def least(self, a: str, b: str) -> str:
        return f"LEAST({a}, {b})" if self.mysql else f"MIN({a}, {b})"

    def idiv(self, a: str, b: str | int) -> str:
        # Both operands are non-negative integers: DIV and SQLite's integer `/` truncate exactly.
        return f"({a}) DIV {b}" if self.mysql else f"({a}) / {b}"

    def temp_table(self, name: str, columns: str) -> str:
        if self.mysql:
            return f"CREATE TEMPORARY TABLE {name} ({columns}) ENGINE=MEMORY"
        return f"CREATE TEMP TABLE {name} ({columns})"

    def drop_temp(self, name: str) -> str:
        return f"DROP TEMPORARY TABLE IF EXISTS {name}" if self.mysql else f"DROP TABLE IF EXISTS temp.{name}"


def plans_in_force(conn: Connection, first: date, last: date | None = None) -> list[tuple[Plan, date, date | None]]:
    """The plans covering `first` … `last` (open when None), each with the days it covers there."""
    rows = conn.execute(
        text("SELECT id, basis, effective_from FROM price_plans ORDER BY effective_from")
    ).all()
    plans = [Plan(int(r.id), PricingBasis(r.basis), _as_date(r.effective_from)) for r in rows]
    spans: list[tuple[Plan, date, date | None]] = []
    for index, plan in enumerate(plans):
        until = plans[index + 1].effective_from - timedelta(days=1) if index + 1 < len(plans) else None
        start = max(plan.effective_from, first)
        end = until if last is None else (last if until is None else min(until, last))
        if end is not None and end < start:
            continue
        spans.append((plan, start, end))
    return spans


def plan_for_day(conn: Connection, day: date) -> Plan | None:
    spans = plans_in_force(conn, day, day)
    return spans[0][0] if spans else None


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def lock_videos(conn: Connection, lo: int, hi: int) -> None:
    """Serialise writers of the same videos (two runs touching one video's running totals).

    MariaDB: row locks on the partition's videos, held until commit. SQLite has a single
    writer anyway; the first write of the transaction takes its lock.
    """
    if _Dialect(conn).mysql:
        conn.execute(text("SELECT id FROM videos WHERE id BETWEEN :lo AND :hi ORDER BY id FOR UPDATE"),
                     {"lo": lo, "hi": hi})


def compute_partition(conn: Connection, day: date, lo: int, hi: int, plan: Plan) -> PartitionResult:
    """Replace day `day`'s stats and settlements of videos `lo`…`hi` and carry the change forward."""
    d = _Dialect(conn)
    params = {"day": day, "lo": lo, "hi": hi}
    for name in (_DAY, _CHANGE):
        conn.execute(text(d.drop_temp(name)))
    conn.execute(text(d.temp_table(
        _DAY,
        "video_id BIGINT NOT NULL PRIMARY KEY, seller_id BIGINT NOT NULL, views BIGINT NOT NULL, "
        "watch_seconds BIGINT NOT NULL, ad_views BIGINT NOT NULL, rejected_own_video BIGINT NOT NULL, "
        "rejected_repeat BIGINT NOT NULL, prev_views BIGINT NOT NULL, prev_watch BIGINT NOT NULL, "
        "prev_ads BIGINT NOT NULL",
    )))
    # The day's figures per video, read from the covering (day, video_id, …) index; ad views
    # through their (session_id, slot) index from the day's counted sessions; and the running
    # totals of each video's latest earlier row (found by the (video_id, day) index).
    conn.execute(text(f"""
        INSERT INTO {_DAY} (video_id, seller_id, views, watch_seconds, ad_views, rejected_own_video,
                            rejected_repeat, prev_views, prev_watch, prev_ads)
        SELECT p.video_id, v.seller_id, p.views, {d.idiv('p.watch_ms', 1000)}, COALESCE(a.ad_views, 0),
               p.rej_own, p.rej_repeat, COALESCE(e.cum_views, 0), COALESCE(e.cum_watch_seconds, 0),
               COALESCE(e.cum_ad_views, 0)
        FROM (
            SELECT video_id,
                   SUM(CASE WHEN counted = 1 THEN 1 ELSE 0 END) AS views,
                   SUM(CASE WHEN counted = 1 THEN watch_ms ELSE 0 END) AS watch_ms,
                   SUM(CASE WHEN reject_reason = 'own_video' THEN 1 ELSE 0 END) AS rej_own,
                   SUM(CASE WHEN reject_reason = 'repeat_within_30s' THEN 1 ELSE 0 END) AS rej_repeat
            FROM play_sessions
            WHERE day = :day AND video_id BETWEEN :lo AND :hi
            GROUP BY video_id
        ) p
        JOIN videos v ON v.id = p.video_id
        LEFT JOIN (
            SELECT s.video_id, COUNT(*) AS ad_views
            FROM play_sessions s JOIN ad_views av ON av.session_id = s.id
            WHERE s.day = :day AND s.video_id BETWEEN :lo AND :hi AND s.counted = 1
            GROUP BY s.video_id
        ) a ON a.video_id = p.video_id
        LEFT JOIN (
            SELECT q.video_id, MAX(q.day) AS day
            FROM video_daily_stats q
            WHERE q.video_id BETWEEN :lo AND :hi AND q.day < :day
            GROUP BY q.video_id
        ) m ON m.video_id = p.video_id
        LEFT JOIN video_daily_stats e ON e.video_id = m.video_id AND e.day = m.day
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

    conn.execute(text("DELETE FROM video_daily_settlements WHERE day = :day AND video_id BETWEEN :lo AND :hi"), params)
    conn.execute(text("DELETE FROM video_daily_stats WHERE day = :day AND video_id BETWEEN :lo AND :hi"), params)
    stats_rows = conn.execute(text(f"""
        INSERT INTO video_daily_stats (day, video_id, seller_id, views, watch_seconds, ad_views,
                                       rejected_own_video, rejected_repeat, cum_views, cum_watch_seconds, cum_ad_views)
        SELECT :day, video_id, seller_id, views, watch_seconds, ad_views, rejected_own_video, rejected_repeat,
               prev_views + views, prev_watch + watch_seconds, prev_ads + ad_views
        FROM {_DAY}
        ORDER BY video_id
    """), params).rowcount
    settlement_rows = insert_settlements(
        conn, plan, "s.day = :day AND s.video_id BETWEEN :lo AND :hi", params
    )

    later_rows = 0
    if later and conn.execute(text(f"SELECT 1 FROM {_CHANGE} LIMIT 1")).first() is not None:
        later_rows = _carry_forward(conn, d, day)
    for name in (_DAY, _CHANGE):
        conn.execute(text(d.drop_temp(name)))
    return PartitionResult(stats_rows, settlement_rows, later_rows)


def _carry_forward(conn: Connection, d: _Dialect, day: date) -> int:
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
        conn.execute(text(f"""
            DELETE FROM video_daily_settlements
            WHERE day BETWEEN :first AND :last AND video_id IN (SELECT video_id FROM {_CHANGE})"""), span)
        rows += insert_settlements(
            conn, plan, "s.day BETWEEN :first AND :last", span, join=f"JOIN {_CHANGE} c ON c.video_id = s.video_id"
        )
    return rows


def _tiers(conn: Connection, plan: Plan) -> list[tuple[int, int | None, int, int]]:
    return [tuple(r) for r in conn.execute(text(
        "SELECT from_unit, to_unit, view_rate_e4, ad_rate_e4 FROM price_tiers WHERE plan_id = :p ORDER BY position"
    ), {"p": plan.id})]


def _price(d: _Dialect, tiers: list[tuple[int, int | None, int, int]], before: str, units: str, ad: bool,
           params: dict, prefix: str) -> str:
    """A scalar SQL expression for §9: each bracket's units times its rate, floored, summed.

    The plan's few brackets become bound parameters, so pricing a row needs no join.
    """
    terms = []
    for i, (lo, hi, view_rate, ad_rate) in enumerate(tiers):
        params[f"{prefix}lo{i}"], params[f"{prefix}r{i}"] = lo, ad_rate if ad else view_rate
        last = f"({before} + {units})"
        if hi is not None:
            params[f"{prefix}hi{i}"] = hi
            last = d.least(f":{prefix}hi{i}", last)
        count = d.greatest(f"{last} - {d.greatest(f':{prefix}lo{i}', f'{before} + 1')} + 1", "0")
        terms.append(d.idiv(f"{count} * :{prefix}r{i}", RATE_SCALE))
    return " + ".join(terms) if terms else "0"


def insert_settlements(conn: Connection, plan: Plan, where: str, params: dict, join: str = "") -> int:
    """One settlement row per selected daily stats row `s`, priced with `plan` (§9 marginal brackets).

    Units of the day are numbered `before + 1 … before + units`; `before` is 0 on the
    daily basis and the running total before the day on the lifetime basis. Each
    bracket's share is floored to whole won, then the brackets are summed.
    """
    d = _Dialect(conn)
    lifetime = plan.basis == PricingBasis.LIFETIME
    vb = "(s.cum_views - s.views)" if lifetime else "0"
    ab = "(s.cum_ad_views - s.ad_views)" if lifetime else "0"
    params = {**params, "plan_id": plan.id, "basis": plan.basis.value}
    tiers = _tiers(conn, plan)
    va = _price(d, tiers, vb, "s.views", False, params, "v")
    aa = _price(d, tiers, ab, "s.ad_views", True, params, "a")
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


def periods_of(day: date) -> list[tuple[RollupPeriod, date, date]]:
    return [(RollupPeriod.WEEK, *week_range(day)), (RollupPeriod.MONTH, *month_range(day))]


def closed_through(conn: Connection, start: date, end: date, day: date) -> date:
    """The last day of a period the batch has finished (a running period holds figures to date)."""
    latest = conn.execute(text(
        "SELECT MAX(day) FROM batch_runs WHERE state = 'succeeded' AND day BETWEEN :start AND :end"
    ), {"start": start, "end": end}).scalar()
    return max(day, _as_date(latest)) if latest is not None else day


def write_rollup(conn: Connection, period: RollupPeriod, start: date, through: date) -> int:
    """Sum the daily rows of `start` … `through` into the period's rows (money included).

    When the period's rows hold exactly the days before `through` (the nightly run and a
    backfill in order), `through`'s rows are added to them instead of summing the whole
    period again; any other case (a re-run of an earlier day, gaps) recomputes the period.
    """
    key = {"period": period.value, "start": start, "through": through}
    held = conn.execute(text(
        "SELECT MIN(through_day), MAX(through_day), COUNT(*) FROM video_period_stats "
        "WHERE period = :period AND period_start = :start"), key).one()
    previous = through - timedelta(days=1)
    if held[2] and _as_date(held[0]) == _as_date(held[1]) == previous:
        return _append_day(conn, period, start, through)
    conn.execute(delete(VideoPeriodStats).where(VideoPeriodStats.period == period,
                                                VideoPeriodStats.period_start == start))
    return conn.execute(text("""
        INSERT INTO video_period_stats (period, period_start, video_id, seller_id, through_day, views,
                                        watch_seconds, ad_views, video_amount, ad_amount)
        SELECT :period, :start, s.video_id, MAX(s.seller_id), :through, SUM(s.views), SUM(s.watch_seconds),
               SUM(s.ad_views), SUM(COALESCE(m.video_amount, 0)), SUM(COALESCE(m.ad_amount, 0))
        FROM video_daily_stats s
        LEFT JOIN video_daily_settlements m ON m.day = s.day AND m.video_id = s.video_id
        WHERE s.day BETWEEN :start AND :through
        GROUP BY s.video_id
        ORDER BY s.video_id
    """), key).rowcount


def _append_day(conn: Connection, period: RollupPeriod, start: date, day: date) -> int:
    columns = ("views", "watch_seconds", "ad_views", "video_amount", "ad_amount")
    if _Dialect(conn).mysql:
        upsert = "ON DUPLICATE KEY UPDATE " + ", ".join(
            f"video_period_stats.{c} = video_period_stats.{c} + VALUES({c})" for c in columns)
    else:
        upsert = "ON CONFLICT (period, period_start, video_id) DO UPDATE SET " + ", ".join(
            f"{c} = {c} + excluded.{c}" for c in columns)
    key = {"period": period.value, "start": start, "day": day}
    rows = conn.execute(text(f"""
        INSERT INTO video_period_stats (period, period_start, video_id, seller_id, through_day, views,
                                        watch_seconds, ad_views, video_amount, ad_amount)
        SELECT :period, :start, s.video_id, s.seller_id, :day, s.views, s.watch_seconds, s.ad_views,
               COALESCE(m.video_amount, 0), COALESCE(m.ad_amount, 0)
        FROM video_daily_stats s
        LEFT JOIN video_daily_settlements m ON m.day = s.day AND m.video_id = s.video_id
        WHERE s.day = :day
        ORDER BY s.video_id
        {upsert}
    """), key).rowcount
    conn.execute(text("UPDATE video_period_stats SET through_day = :day "
                      "WHERE period = :period AND period_start = :start AND through_day <> :day"), key)
    return rows


def write_top(conn: Connection, kind: PeriodKind, start: date) -> int:
    """Materialise the Top-5 of a day, week or month, platform-wide (seller 0) and per seller (§8).

    One pass ranks every video four ways (views / watch time, platform / seller) into a
    scratch table; the five best of each ranking are then copied out. Ties go to the lower
    video id; videos with zero of a metric are left out of that metric's ranking.
    """
    d = _Dialect(conn)
    rank = "`rank`" if d.mysql else '"rank"'
    if kind == PeriodKind.DAY:
        source, scope = "video_daily_stats", "day = :start"
    else:
        source, scope = "video_period_stats", "period = :kind AND period_start = :start"
    params = {"kind": kind.value, "start": start}
    conn.execute(text("DELETE FROM top_videos WHERE period = :kind AND period_start = :start"), params)
    conn.execute(text(d.drop_temp(_RANK)))
    conn.execute(text(d.temp_table(
        _RANK,
        "video_id BIGINT NOT NULL, seller_id BIGINT NOT NULL, views BIGINT NOT NULL, watch_seconds BIGINT NOT NULL, "
        "views_all BIGINT NOT NULL, views_seller BIGINT NOT NULL, watch_all BIGINT NOT NULL, "
        "watch_seller BIGINT NOT NULL",
    )))
    conn.execute(text(f"""
        INSERT INTO {_RANK} (video_id, seller_id, views, watch_seconds, views_all, views_seller, watch_all, watch_seller)
        SELECT video_id, seller_id, views, watch_seconds,
               ROW_NUMBER() OVER (ORDER BY views DESC, video_id),
               ROW_NUMBER() OVER (PARTITION BY seller_id ORDER BY views DESC, video_id),
               ROW_NUMBER() OVER (ORDER BY watch_seconds DESC, video_id),
               ROW_NUMBER() OVER (PARTITION BY seller_id ORDER BY watch_seconds DESC, video_id)
        FROM {source}
        WHERE {scope} AND (views > 0 OR watch_seconds > 0)
    """), params)
    written = 0
    for metric in Metric:
        column = metric.value
        prefix = "views" if metric == Metric.VIEWS else "watch"
        for seller, position in (("0", f"{prefix}_all"), ("seller_id", f"{prefix}_seller")):
            written += conn.execute(text(f"""
                INSERT INTO top_videos (period, period_start, metric, seller_id, {rank}, video_id, value)
                SELECT :kind, :start, :metric, {seller}, {position}, video_id, {column}
                FROM {_RANK}
                WHERE {position} <= {TOP_N} AND {column} > 0
            """), {**params, "metric": column}).rowcount
    conn.execute(text(d.drop_temp(_RANK)))
    return written

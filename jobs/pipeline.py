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

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, delete, insert, text

from models import restatements
from models.business_time import month_range, week_range
from models.settlement import RATE_SCALE, PricingBasis
from models.stats import Metric, PeriodKind, RollupPeriod, TopVideo

TOP_N = 5
_DAY = "tmp_batch_day"
_CHANGE = "tmp_batch_change"
_ROLLUP = "tmp_batch_rollup"


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

    def week_start(self, day: str) -> str:
        if self.mysql:
            return f"DATE_SUB({day}, INTERVAL WEEKDAY({day}) DAY)"
        return f"date({day}, '-' || ((CAST(strftime('%w', {day}) AS INTEGER) + 6) % 7) || ' days')"

    def month_start(self, day: str) -> str:
        if self.mysql:
            return f"DATE_SUB({day}, INTERVAL DAYOFMONTH({day}) - 1 DAY)"
        return f"date({day}, 'start of month')"

    def add_on_conflict(self, key: str, columns: tuple[str, ...], table: str) -> str:
        """Upsert tail that adds the inserted values to an existing row's."""
        if self.mysql:
            return "ON DUPLICATE KEY UPDATE " + ", ".join(f"{table}.{c} = {table}.{c} + VALUES({c})" for c in columns)
        return f"ON CONFLICT ({key}) DO UPDATE SET " + ", ".join(f"{c} = {c} + excluded.{c}" for c in columns)

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
    d = _Dialect(conn)
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
    # The day's figures per video, each read from a covering (day, video_id, …) index, and
    # the running totals of each video's latest earlier row: one seek per video in the
    # (video_id, day) index, so the cost does not grow with the history.
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
            SELECT video_id, COUNT(*) AS ad_views
            FROM ad_views
            WHERE day = :day AND video_id BETWEEN :lo AND :hi AND counted = 1
            GROUP BY video_id
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


def _apply_rollup(conn: Connection, d: _Dialect) -> int:
    """Add the recorded differences to the week and month rows of their videos."""
    sums = ", ".join(f"SUM({c})" for c in _ROLLUP_COLUMNS)
    rows = 0
    for period, start in ((RollupPeriod.WEEK, d.week_start("day")), (RollupPeriod.MONTH, d.month_start("day"))):
        rows += conn.execute(text(f"""
            INSERT INTO video_period_stats (period, period_start, video_id, seller_id, {", ".join(_ROLLUP_COLUMNS)})
            SELECT :period, {start}, video_id, MAX(seller_id), {sums}
            FROM {_ROLLUP}
            GROUP BY {start}, video_id
            {d.add_on_conflict("period, period_start, video_id", _ROLLUP_COLUMNS, "video_period_stats")}
        """), {"period": period.value}).rowcount
    return rows


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
        changed = f"JOIN {_CHANGE} c ON c.video_id = s.video_id"
        _note_rollup(conn, -1, "s.day BETWEEN :first AND :last", span, join=changed, figures=False)
        conn.execute(text(f"""
            DELETE FROM video_daily_settlements
            WHERE day BETWEEN :first AND :last AND video_id IN (SELECT video_id FROM {_CHANGE})"""), span)
        rows += insert_settlements(conn, plan, "s.day BETWEEN :first AND :last", span, join=changed)
        _note_rollup(conn, 1, "s.day BETWEEN :first AND :last", span, join=changed, figures=False)
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


def write_top(conn: Connection, kind: PeriodKind, start: date) -> int:
    """Materialise the platform-wide Top-5 of a day, week or month (§8).

    Ties go to the lower video id; videos with zero of a metric are left out of that
    metric's ranking. The database sorts the period's rows; the five it returns are
    numbered here (MariaDB 10.11 numbered them wrongly with ROW_NUMBER() over a sorted,
    limited derived table inside INSERT … SELECT).
    """
    if kind == PeriodKind.DAY:
        source, scope = "video_daily_stats", "day = :start"
    else:
        source, scope = "video_period_stats", "period = :kind AND period_start = :start"
    params = {"kind": kind.value, "start": start}
    conn.execute(delete(TopVideo).where(TopVideo.period == kind, TopVideo.period_start == start))
    rows = []
    for metric in Metric:
        best = conn.execute(text(
            f"SELECT video_id, {metric.value} FROM {source} WHERE {scope} AND {metric.value} > 0 "
            f"ORDER BY {metric.value} DESC, video_id LIMIT {TOP_N}"
        ), params).all()
        rows += [{"period": kind, "period_start": start, "metric": metric, "rank": rank, "video_id": video_id,
                  "value": value} for rank, (video_id, value) in enumerate(best, start=1)]
    if rows:
        conn.execute(insert(TopVideo), rows)
    return len(rows)

"""Audience retention of a video (issue 22, item 1): the rule, its SQL form, its table, its reads.

What is recorded of a play session is its aggregate, not its path: the furthest position it
reached and the watch time credited by the §4 rule (progress reports update the session row;
the positions in between are not kept). So the curve is built from those two, per counted
view (§6):

    reach = min(furthest position, credited watch time, length)

A view is "still watching at x %" when its reach is at least x % of the video's length. The
furthest position alone would count a viewer who jumped to the end as having watched
everything; the credited watch time alone would count a viewer who rewatched the first minute
five times as having watched five minutes. The smaller of the two is what the view both
reached and really played. Being monotone, the curve needs no intervals: each view adds one to
the histogram of its reach's whole percent (0…100), and the share still watching at x % is the
number of views with a bucket ≥ x over all views (a cumulative sum from the end).
What it does not say: where a view that resumed mid-video or skipped ahead really was;
such a view is counted from the start for as long as it played.

Average percentage viewed is the mean of reach / length (the area under the exact curve,
never above 100 %); average view duration is the credited watch time per view, the same
figure as the view ledger's.

Tables (batch output, written by jobs/pipeline.py):
- `video_daily_retention` (day, video_id) -> views, reach_ms (their summed reach) and the
  histogram as text "bucket:views,…" (only the buckets some view ends in). One row per
  video-day, like `video_daily_stats`: a row per (video-day, bucket) made the nightly backfill
  67 % slower, as many rows again as there are sessions.
- `video_period_retention` (period, period_start, video_id): the week's and the month's sums of
  those rows. Views and reach are added as numbers; histograms by concatenating their texts (a
  bucket may then appear once per day, `parse_histogram` sums them). Adding them bucket by
  bucket in SQL was measured far too slow: a row per (period, video, bucket) is an upsert per
  (video-day, bucket), about 220 ms of server time per day and period, and 101 bucket columns
  need a pivot of every (video, bucket) group, about 670 ms (README "Audience retention").
  Appending a day's text to every video's row as each day is computed rewrites a growing row
  every day (a month's bytes grow with the square of its days): it made the step cost a third
  to a half of the backfill. So a period's rows are written when it closes: the partitions of
  its last day build them from the daily rows (`close_period_sql`); after that a
  partition computing a day of it for the first time appends the day to the rows that exist
  (`add_day_to_period_sql`), and a re-run that changes a video's day rebuilds that video's rows
  from its daily rows (`rebuild_period_sql`). Invariant: a row, where it exists, equals the sum
  of its video's daily rows in the period; where there is none (an open period, or a video
  whose first views in a closed period came from a later re-run), the days are read.
Reads (`retention_over_days`) take each whole month and ISO week of the range from the period
rows (their days where a video has none) and only the days around them from the daily rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import BigInteger, Date, PrimaryKeyConstraint, String, Text, and_, func, or_, select
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import TABLE_ARGS, Base, BigId, enum_column_type
from models.business_time import days_between, month_range, week_range
from models.catalog.tables import ad_slot_positions
from models.figures.period_calendar import period_range, rollup_periods
from models.figures.tables import RollupPeriod, VideoDailyStats, VideoPeriodStats
from models.sql_dialect import Dialect

BUCKETS = 100  # whole percents: buckets 0 … 100
# The longest daily histogram text: every bucket "bucket:views" with a BIGINT's 19 digits, commas
# between. A bounded ASCII VARCHAR, not TEXT: MariaDB's sort then carries the text along with the
# key instead of reading each row again after the sort (the week and month closings, below).
HISTOGRAM_CHARS = (BUCKETS + 1) * (len(str(BUCKETS)) + 1 + 19 + 1)


class VideoDailyRetention(Base):
    """How far a video-day's counted views got: their number, summed reach, and reach histogram."""

    __tablename__ = "video_daily_retention"
    __table_args__ = (
        # Clustered by (day, video_id): the batch writes, deletes and closes by days of a video
        # range, and the pages read one video's listed days as points of the same key. No
        # (video_id, day) index: with it the nightly INSERT took 240 against 200 ms of server
        # CPU per day, and the pages' reads were no faster (revision 0015).
        PrimaryKeyConstraint("day", "video_id"),
        TABLE_ARGS,
    )

    day: Mapped[date] = mapped_column(Date)
    video_id: Mapped[int] = mapped_column(BigId)
    views: Mapped[int] = mapped_column(BigInteger)
    reach_ms: Mapped[int] = mapped_column(BigInteger)
    # "bucket:views" pairs, comma-separated (`day_histogram_sql` writes it, `parse_histogram` reads it).
    histogram: Mapped[str] = mapped_column(
        String(HISTOGRAM_CHARS).with_variant(mysql.VARCHAR(HISTOGRAM_CHARS, charset="ascii"), "mysql", "mariadb"))


class VideoPeriodRetention(Base):
    """A video's week or month of `video_daily_retention` rows added up (module docstring).

    Always equal to the sum of the video's daily rows in the period computed so far: the
    partition that writes a day adds it in the same transaction."""

    __tablename__ = "video_period_retention"
    __table_args__ = (PrimaryKeyConstraint("period", "period_start", "video_id"), TABLE_ARGS)

    period: Mapped[RollupPeriod] = mapped_column(enum_column_type(RollupPeriod, "rollup_period"))
    period_start: Mapped[date] = mapped_column(Date)
    video_id: Mapped[int] = mapped_column(BigId)
    views: Mapped[int] = mapped_column(BigInteger)
    reach_ms: Mapped[int] = mapped_column(BigInteger)
    # The days' "bucket:views" texts joined by commas, in day order: a month of a video whose
    # views reach every bucket every day is 31 × 101 pairs, about 80 KB (past TEXT's 64 KB).
    histogram: Mapped[str] = mapped_column(Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb"))


# ------------------------------------------------------------------------------- the rule


def reach_ms(furthest_position_ms: int, watch_ms: int, duration_ms: int) -> int:
    """How far a view counts as having watched: reached and really played (module docstring)."""
    return max(0, min(furthest_position_ms, watch_ms, duration_ms))


def bucket_of(reach: int, duration_ms: int) -> int:
    """The whole percent of the video a reach covers (0 … 100); a video without length counts as seen."""
    if duration_ms <= 0:
        return BUCKETS
    return min(BUCKETS, reach * BUCKETS // duration_ms)


def reach_sql(d: Dialect, furthest: str, watch: str, duration_ms: str) -> str:
    """SQL form of `reach_ms`."""
    return d.greatest("0", d.least(d.least(furthest, watch), duration_ms))


def bucket_sql(d: Dialect, reach: str, duration_ms: str) -> str:
    """SQL form of `bucket_of` (non-negative integers, so integer division floors)."""
    return (f"CASE WHEN {duration_ms} <= 0 THEN {BUCKETS} "
            f"ELSE {d.least(str(BUCKETS), d.idiv(f'({reach}) * {BUCKETS}', f'({duration_ms})'))} END")


def day_histogram_sql(d: Dialect) -> str:
    """Per video of `:day`, videos `:lo` … `:hi`: the day, counted views, summed reach and the
    histogram text, in the column order of `video_daily_retention` (so the batch inserts it as is).

    The rule itself is applied when a session is written: `play_sessions.reach_ms` and
    `reach_bucket` are generated columns of `reach_sql` and `bucket_sql` over the row's positions
    and its `length_ms` (models/playback/tables.py). The play sessions' batch index has them
    right after (day, video_id, counted), so the inner GROUP BY (video, bucket) reads the day's
    counted views in group order: no temporary table, no sort, no join to `videos`
    (bench.retention_step: 100 → 60 ms of server CPU per 100,000-session day). Not wrapped in
    another derived table: MariaDB materializes a derived table holding the GROUP_CONCAT text as
    an on-disk (Aria) temporary table and sorts it once more (README "Audience retention")."""
    # In bucket order, so the same views always make the same text: a re-run finds a video-day
    # changed by comparing texts (jobs/pipeline.py `replace_retention`), and the outer GROUP BY's
    # sort is not stable (unordered, about 6 texts in 10 came out differently, ~2 % cheaper).
    # SQLite (3.40 has no ORDER BY in group_concat) concatenates in the order of the inner query.
    pairs = ("GROUP_CONCAT(h.bucket, ':', h.views ORDER BY h.bucket SEPARATOR ',')" if d.mysql
             else "group_concat(h.bucket || ':' || h.views, ',')")
    inner_order = "" if d.mysql else "ORDER BY s.video_id, s.reach_bucket"
    return f"""
        SELECT :day AS day, h.video_id AS video_id, SUM(h.views) AS views, SUM(h.reach_ms) AS reach_ms, {pairs} AS histogram
        FROM (
            SELECT s.video_id AS video_id, s.reach_bucket AS bucket, COUNT(*) AS views, SUM(s.reach_ms) AS reach_ms
            FROM play_sessions s
            WHERE s.day = :day AND s.video_id BETWEEN :lo AND :hi AND s.counted = 1
            GROUP BY s.video_id, s.reach_bucket {inner_order}
        ) h
        GROUP BY h.video_id"""


def add_day_to_period_sql(d: Dialect) -> str:
    """Append the daily rows of `:day`, videos `:lo` … `:hi`, to their week and month rows
    (starting `:week_start` and `:month_start`, `add_day_params`) where those rows exist:
    numbers summed, histogram texts appended (module docstring). A video without a row there
    keeps none (its period is read from its daily rows until the period closes,
    `close_period_sql`). Only right on the day's first run (the rows do not hold the day yet); a
    re-run rebuilds (`rebuild_period_sql`). Both periods in one statement: the backfill runs it
    for every partition of every day, and in an open period it finds nothing to do."""
    periods = " OR ".join(f"(p.period = '{period.value}' AND p.period_start = :{period.value}_start)"
                          for period in RollupPeriod)
    where = f"p.video_id BETWEEN :lo AND :hi AND ({periods})"
    if d.mysql:
        return f"""UPDATE video_period_retention p
        JOIN video_daily_retention r ON r.day = :day AND r.video_id = p.video_id
        SET p.views = p.views + r.views, p.reach_ms = p.reach_ms + r.reach_ms,
            p.histogram = CONCAT(p.histogram, ',', r.histogram)
        WHERE {where}"""
    return f"""UPDATE video_period_retention AS p
        SET views = p.views + r.views, reach_ms = p.reach_ms + r.reach_ms,
            histogram = p.histogram || ',' || r.histogram
        FROM video_daily_retention r
        WHERE r.day = :day AND r.video_id = p.video_id AND {where}"""


def add_day_params(day: date) -> dict[str, Any]:
    """The period parameters of `add_day_to_period_sql` for `day`."""
    return {f"{period.value}_start": start for period, start, _ in rollup_periods(day)}


def close_period_sql(d: Dialect, days: list[date]) -> str:
    """The `:period` rows starting `:period_start` (its days: `days`) of the videos `:lo` … `:hi`
    that have daily rows in it and no row yet: written by the partition of the period's last day
    (jobs/pipeline.py `replace_retention`). The days are listed, not a range: with the video range
    they make one index range per day of the (day, video_id) key instead of a scan of the whole
    period's rows for each partition."""
    listed = ", ".join(f"'{day.isoformat()}'" for day in days)
    # Asked once per video (HAVING), not once per daily row of it: in the WHERE clause the probe
    # ran for each of a month's ~30 rows per video and was 40 % of the statement (README).
    return _period_rows_sql(d, "r.video_id BETWEEN :lo AND :hi", f"r.day IN ({listed})",
                            having="NOT EXISTS (SELECT 1 FROM video_period_retention p WHERE p.period = :period "
                                   "AND p.period_start = :period_start AND p.video_id = r.video_id)")


GROUP_CONCAT_LIMIT = "SET SESSION group_concat_max_len = 16777215"  # MEDIUMTEXT's length
# A sorted daily row: the text, its length bytes, the numbers, the key; rounded up.
_SORT_DATA_BYTES = 4096
GROUP_CONCAT_DEFAULT = "SET SESSION group_concat_max_len = DEFAULT"  # back to the server's


def rebuild_period_sql(d: Dialect, videos: str) -> str:
    """The `:period` rows starting `:period_start` of the videos listed in table `videos` (ids
    within `:lo` … `:hi`, their rows deleted by the caller), from their daily rows."""
    return _period_rows_sql(d, f"r.video_id BETWEEN :lo AND :hi AND r.video_id IN (SELECT video_id FROM {videos})")


def _period_rows_sql(d: Dialect, videos_where: str, days: str = "r.day BETWEEN :period_start AND :period_end",
                     having: str = "") -> str:
    """INSERT the `:period` rows starting `:period_start` of the videos meeting `videos_where`
    (on `r.video_id`) from their daily rows of `days` (a condition on `r.day`; by default
    `:period_start` … `:period_end`) and, if given, `having` (on the video's group), texts in day
    order. A month's text is at most 31 × 101 pairs (~80 KB), below MariaDB's default
    `group_concat_max_len` (1 MB), which would cut a longer one silently: the batch raises the
    limit to the column's 16 MB (`GROUP_CONCAT_LIMIT`) before running it.

    The GROUP BY video over the days' key ranges sorts the rows. MariaDB carries a row's columns
    in the sort only while their longest form fits `max_length_for_sort_data` (1 KB by default);
    otherwise it sorts row ids and reads every row again. The daily text is at most
    `HISTOGRAM_CHARS` ASCII bytes, so the statement raises that limit to fit it: a month's closing
    took 230 instead of 400 ms of server CPU, a week's 80 instead of 150 ms (README "Audience
    retention"). MySQL always carries them (it deprecated the setting)."""
    sort_data = f"SET STATEMENT max_length_for_sort_data = {_SORT_DATA_BYTES} FOR " if d.mariadb else ""
    if d.mysql:
        pieces, source = "GROUP_CONCAT(r.histogram ORDER BY r.day SEPARATOR ',')", "video_daily_retention"
    else:  # SQLite concatenates in the order it reads the rows: the subquery's day order
        pieces = "group_concat(r.histogram, ',')"
        source = f"(SELECT * FROM video_daily_retention r WHERE {days} ORDER BY r.video_id, r.day)"
    return f"""
        {sort_data}INSERT INTO video_period_retention (period, period_start, video_id, views, reach_ms, histogram)
        SELECT :period, :period_start, r.video_id, SUM(r.views), SUM(r.reach_ms), {pieces}
        FROM {source} r
        WHERE {days} AND {videos_where}
        GROUP BY r.video_id{f" HAVING {having}" if having else ""}"""


def parse_histogram(text_: str) -> dict[int, int]:
    """Views per bucket from the stored "bucket:views,…" text."""
    counts: dict[int, int] = {}
    for pair in filter(None, text_.split(",")):
        bucket, views = pair.split(":")
        counts[int(bucket)] = counts.get(int(bucket), 0) + int(views)
    return counts


# ------------------------------------------------------------------------------- the figures


@dataclass(frozen=True)
class Retention:
    """A video's retention over some days: the histogram turned into the curve and averages."""

    duration_seconds: int
    views: int
    watch_seconds: int
    reach_ms: int
    counts: tuple[int, ...]  # views per bucket 0 … 100

    @property
    def curve(self) -> list[float]:
        """Share of the views still watching at 0 %, 1 %, …, 100 % (empty without views)."""
        if not self.views:
            return []
        shares, still = [], 0
        for count in reversed(self.counts):
            still += count
            shares.append(still / self.views)
        return shares[::-1]

    @property
    def avg_view_seconds(self) -> float | None:
        return self.watch_seconds / self.views if self.views else None

    @property
    def avg_pct_viewed(self) -> float | None:
        """Mean reach over the length, 0 … 100 (None without views)."""
        if not self.views:
            return None
        if self.duration_seconds <= 0:
            return 100.0
        return 100 * self.reach_ms / (self.views * self.duration_seconds * 1000)

    @property
    def ad_slot_pcts(self) -> list[float]:
        """The ad-slot positions (§5) in percent of the length, to mark on the curve."""
        if self.duration_seconds <= 0:
            return []
        return [100 * p / self.duration_seconds for p in ad_slot_positions(self.duration_seconds)]

    def as_json(self) -> dict[str, Any]:
        return {"duration_seconds": self.duration_seconds, "views": self.views,
                "avg_view_seconds": self.avg_view_seconds, "avg_pct_viewed": self.avg_pct_viewed,
                "curve": [{"pct": i, "share": share} for i, share in enumerate(self.curve)],
                "ad_slot_pcts": self.ad_slot_pcts}


def range_pieces(first: date, last: date) -> tuple[list[date], list[tuple[RollupPeriod, date]]]:
    """The days `first` … `last` as the whole calendar months and ISO weeks inside them (their
    rollup rows) and the days left over (their daily rows). A week is not taken where it would
    eat into a whole month of the range."""
    days: list[date] = []
    periods: list[tuple[RollupPeriod, date]] = []
    day = first
    while day <= last:
        month_first, month_last = month_range(day)
        if day == month_first and month_last <= last:
            periods.append((RollupPeriod.MONTH, day))
            day = month_last + timedelta(days=1)
            continue
        week_first, week_last = week_range(day)
        next_month = month_last + timedelta(days=1)
        crosses_whole_month = week_last >= next_month and month_range(next_month)[1] <= last
        if day == week_first and week_last <= last and not crosses_whole_month:
            periods.append((RollupPeriod.WEEK, day))
            day = week_last + timedelta(days=1)
            continue
        days.append(day)
        day += timedelta(days=1)
    return days, periods


def retention_over_days(db: Session, video_id: int, duration_seconds: int, first: date, last: date) -> Retention:
    """Over the business days `first` … `last` the batch has computed (today is never in it): the
    whole months and weeks of the range read from the batch's rollup rows, the other days from
    its daily rows (`range_pieces`), and so are the days of a week or month that has no rollup
    row for the video (the period is not closed yet, module docstring); the watch time likewise
    from `video_period_stats` and `video_daily_stats`."""
    days, periods = range_pieces(first, last)
    daily, rolled = VideoDailyRetention, VideoPeriodRetention
    rows: list[Any] = []
    unrolled: list[date] = []
    if periods:
        in_periods = or_(*(and_(rolled.period == kind, rolled.period_start == start) for kind, start in periods))
        rows += db.execute(select(rolled.period, rolled.period_start, rolled.views, rolled.reach_ms, rolled.histogram)
                           .where(rolled.video_id == video_id, in_periods)).all()
        # A week or month without a row (not closed yet, or no views when it was): its days.
        found = {(row.period, row.period_start) for row in rows}
        unrolled = [day for kind, start in periods if (kind, start) not in found
                    for day in days_between(*period_range(kind, start))]
    if days or unrolled:
        rows += db.execute(select(daily.views, daily.reach_ms, daily.histogram)
                           .where(daily.video_id == video_id, daily.day.in_(days + unrolled))).all()
    counts = [0] * (BUCKETS + 1)
    for row in rows:
        for bucket, views in parse_histogram(row.histogram).items():
            counts[bucket] += views
    s, p = VideoDailyStats, VideoPeriodStats
    watch = 0
    if days:
        watch += int(db.scalar(select(func.coalesce(func.sum(s.watch_seconds), 0))
                               .where(s.video_id == video_id, s.day.in_(days))) or 0)
    if periods:
        in_stats = or_(*(and_(p.period == kind, p.period_start == start) for kind, start in periods))
        watch += int(db.scalar(select(func.coalesce(func.sum(p.watch_seconds), 0))
                               .where(p.video_id == video_id, in_stats)) or 0)
    return Retention(duration_seconds, sum(counts), watch, sum(int(r.reach_ms) for r in rows), tuple(counts))

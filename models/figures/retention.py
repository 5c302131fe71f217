"""Audience retention of a video (issue 22, item 1): the rule, its SQL form, its tables, its reads.

What is recorded of a play session is its aggregate, not its path: the furthest position it
reached and the watch time credited by the §4 rule (progress reports update the session row;
the positions in between are not kept). So the curve is built from those two, per counted
view (§6):

    reach = min(furthest position, credited watch time)

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

Tables (batch output, written per video-day by jobs/pipeline.py, week/month rollups kept
equal to the sum of their daily rows like `video_period_stats`):
- `video_daily_retention` (day, video_id, bucket) -> views, reach_ms (sum of the views' reach);
- `video_period_retention` (period, period_start, video_id, bucket) -> the same, summed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import BigInteger, Date, Index, PrimaryKeyConstraint, SmallInteger, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import TABLE_ARGS, Base, BigId, enum_column_type
from models.catalog import ad_slot_positions
from models.sql_dialect import Dialect
from models.stats import RollupPeriod, VideoDailyStats, VideoPeriodStats

BUCKETS = 100  # whole percents: buckets 0 … 100


class VideoDailyRetention(Base):
    """How many of a video-day's counted views reached each whole percent (and their reach)."""

    __tablename__ = "video_daily_retention"
    __table_args__ = (
        PrimaryKeyConstraint("day", "video_id", "bucket"),
        # The pages read one video over a range of days.
        Index(None, "video_id", "day"),
        TABLE_ARGS,
    )

    day: Mapped[date] = mapped_column(Date)
    video_id: Mapped[int] = mapped_column(BigId)
    bucket: Mapped[int] = mapped_column(SmallInteger, autoincrement=False)
    views: Mapped[int] = mapped_column(BigInteger)
    reach_ms: Mapped[int] = mapped_column(BigInteger)


class VideoPeriodRetention(Base):
    """Week (ISO) and month sums of `video_daily_retention`, kept equal to them by the batch."""

    __tablename__ = "video_period_retention"
    __table_args__ = (
        PrimaryKeyConstraint("period", "period_start", "video_id", "bucket"),
        TABLE_ARGS,
    )

    period: Mapped[RollupPeriod] = mapped_column(enum_column_type(RollupPeriod, "retention_period"))
    period_start: Mapped[date] = mapped_column(Date)
    video_id: Mapped[int] = mapped_column(BigId)
    bucket: Mapped[int] = mapped_column(SmallInteger, autoincrement=False)
    views: Mapped[int] = mapped_column(BigInteger)
    reach_ms: Mapped[int] = mapped_column(BigInteger)


# ------------------------------------------------------------------------------- the rule


def reach_ms(furthest_position_ms: int, watch_ms: int) -> int:
    """How far a view counts as having watched: reached and really played (module docstring)."""
    return min(furthest_position_ms, watch_ms)


def bucket_of(reach: int, duration_ms: int) -> int:
    """The whole percent of the video a reach covers (0 … 100); a video without length counts as seen."""
    if duration_ms <= 0:
        return BUCKETS
    return min(BUCKETS, reach * BUCKETS // duration_ms)


def reach_sql(d: Dialect, furthest: str, watch: str) -> str:
    """SQL form of `reach_ms`."""
    return d.least(furthest, watch)


def bucket_sql(d: Dialect, reach: str, duration_ms: str) -> str:
    """SQL form of `bucket_of` (non-negative integers, so integer division floors)."""
    return (f"CASE WHEN {duration_ms} <= 0 THEN {BUCKETS} "
            f"ELSE {d.least(str(BUCKETS), d.idiv(f'({reach}) * {BUCKETS}', f'({duration_ms})'))} END")


def day_histogram_sql(d: Dialect) -> str:
    """Per (video, bucket) of `:day`, videos `:lo` … `:hi`: counted views and their summed reach.

    Reads the play sessions' covering (day, video_id, counted, …, furthest_position_ms) index and
    each video's length: one GROUP BY, no per-session work outside the database."""
    reach = reach_sql(d, "s.furthest_position_ms", "s.watch_ms")
    bucket = bucket_sql(d, reach, "v.duration_seconds * 1000")
    return f"""
        SELECT s.video_id AS video_id, {bucket} AS bucket, COUNT(*) AS views, SUM({reach}) AS reach_ms
        FROM play_sessions s JOIN videos v ON v.id = s.video_id
        WHERE s.day = :day AND s.video_id BETWEEN :lo AND :hi AND s.counted = 1
        GROUP BY s.video_id, {bucket}"""


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


def _retention(duration_seconds: int, rows: list[Any], views_watch: tuple[int, int]) -> Retention:
    counts = [0] * (BUCKETS + 1)
    reach = 0
    for bucket, views, reach_sum in rows:
        counts[int(bucket)] += int(views)
        reach += int(reach_sum)
    return Retention(duration_seconds, sum(counts), int(views_watch[1]), reach, tuple(counts))


def retention_over_days(db: Session, video_id: int, duration_seconds: int, first: date, last: date) -> Retention:
    """Over the business days `first` … `last` the batch has computed (today is never in it)."""
    t = VideoDailyRetention
    rows = db.execute(
        select(t.bucket, func.sum(t.views), func.sum(t.reach_ms))
        .where(t.video_id == video_id, t.day.between(first, last)).group_by(t.bucket)
    ).all()
    s = VideoDailyStats
    views_watch = db.execute(
        select(func.coalesce(func.sum(s.views), 0), func.coalesce(func.sum(s.watch_seconds), 0))
        .where(s.video_id == video_id, s.day.between(first, last))
    ).one()
    return _retention(duration_seconds, list(rows), tuple(views_watch))


def retention_of_period(db: Session, video_id: int, duration_seconds: int, period: RollupPeriod,
                        start: date) -> Retention:
    """Of one week or month (its rollup rows)."""
    t = VideoPeriodRetention
    rows = db.execute(
        select(t.bucket, t.views, t.reach_ms)
        .where(t.period == period, t.period_start == start, t.video_id == video_id)
    ).all()
    s = VideoPeriodStats
    views_watch = db.execute(
        select(func.coalesce(func.sum(s.views), 0), func.coalesce(func.sum(s.watch_seconds), 0))
        .where(s.period == period, s.period_start == start, s.video_id == video_id)
    ).one()
    return _retention(duration_seconds, list(rows), tuple(views_watch))

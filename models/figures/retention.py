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

Table (batch output, written per video-day by jobs/pipeline.py): `video_daily_retention`
(day, video_id) -> views, reach_ms (their summed reach) and the histogram as text
"bucket:views,…" (only the buckets some view ends in). One row per video-day, like
`video_daily_stats`: a row per (video-day, bucket) and per-bucket week/month rollups made the
nightly backfill 67 % slower, as many rows again as there are sessions; a week or month of one
video is at most 31 rows, summed when it is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import BigInteger, Date, Index, PrimaryKeyConstraint, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import TABLE_ARGS, Base, BigId
from models.catalog.tables import ad_slot_positions
from models.sql_dialect import Dialect
from models.figures.tables import VideoDailyStats

BUCKETS = 100  # whole percents: buckets 0 … 100


class VideoDailyRetention(Base):
    """How far a video-day's counted views got: their number, summed reach, and reach histogram."""

    __tablename__ = "video_daily_retention"
    __table_args__ = (
        # Clustered by (day, video_id): the batch writes and deletes one day's video range.
        PrimaryKeyConstraint("day", "video_id"),
        # The pages read one video over a range of days.
        Index(None, "video_id", "day"),
        TABLE_ARGS,
    )

    day: Mapped[date] = mapped_column(Date)
    video_id: Mapped[int] = mapped_column(BigId)
    views: Mapped[int] = mapped_column(BigInteger)
    reach_ms: Mapped[int] = mapped_column(BigInteger)
    # "bucket:views" pairs, comma-separated (`histogram_sql` writes it, `parse_histogram` reads it).
    histogram: Mapped[str] = mapped_column(Text)


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

    Reads the play sessions' covering (day, video_id, counted, …, furthest_position_ms) index and
    each video's length: a GROUP BY (video, bucket), then one row per video, already in video
    order. Not wrapped in another derived table: MariaDB materializes a derived table holding
    the GROUP_CONCAT text as an on-disk (Aria) temporary table and sorts it once more
    (bench.retention_step, README "Audience retention")."""
    length = "v.duration_seconds * 1000"
    reach = reach_sql(d, "s.furthest_position_ms", "s.watch_ms", length)
    bucket = bucket_sql(d, reach, length)
    pairs = ("GROUP_CONCAT(h.bucket, ':', h.views SEPARATOR ',')" if d.mysql
             else "group_concat(h.bucket || ':' || h.views, ',')")
    return f"""
        SELECT :day AS day, h.video_id AS video_id, SUM(h.views) AS views, SUM(h.reach_ms) AS reach_ms, {pairs} AS histogram
        FROM (
            SELECT s.video_id AS video_id, {bucket} AS bucket, COUNT(*) AS views, SUM({reach}) AS reach_ms
            FROM play_sessions s JOIN videos v ON v.id = s.video_id
            WHERE s.day = :day AND s.video_id BETWEEN :lo AND :hi AND s.counted = 1
            GROUP BY s.video_id, {bucket}
        ) h
        GROUP BY h.video_id"""


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


def retention_over_days(db: Session, video_id: int, duration_seconds: int, first: date, last: date) -> Retention:
    """Over the business days `first` … `last` the batch has computed (today is never in it); a week
    or a month is its days."""
    t = VideoDailyRetention
    rows = db.execute(
        select(t.views, t.reach_ms, t.histogram).where(t.video_id == video_id, t.day.between(first, last))
    ).all()
    counts = [0] * (BUCKETS + 1)
    for row in rows:
        for bucket, views in parse_histogram(row.histogram).items():
            counts[bucket] += views
    s = VideoDailyStats
    watch = db.scalar(select(func.coalesce(func.sum(s.watch_seconds), 0))
                      .where(s.video_id == video_id, s.day.between(first, last)))
    return Retention(duration_seconds, sum(counts), int(watch or 0), sum(int(r.reach_ms) for r in rows),
                     tuple(counts))

"""Top-5 videos (§8): the one home of the ranking rule, for the batch and every reader.

What is ranked: a video's figure (`views`, `watch_seconds` or `ad_views`) of a day (daily
rows) or of a week or month (rollup rows). Ties go to the lower video id; videos with zero
of the metric are left out; at most `TOP_N`. `ranked` is that rule as one query.

The platform-wide ranking is materialized by the batch's final step (`materialize_top`,
through `ranked`) in `top_videos`, because ranking every video of the platform is the
expensive query. A seller's ranking covers only their own videos, which the per-seller
indexes of the stats tables reach directly, so it is ranked live (also through `ranked`) and
is always consistent with the stats rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.orm import Session

from models.figures.period_calendar import period_start
from models.figures.tables import (
    Metric,
    PeriodKind,
    RollupPeriod,
    TopVideo,
    VideoDailyStats,
    VideoPeriodStats,
)

TOP_N = 5


@dataclass(frozen=True)
class RankedVideo:
    rank: int
    video_id: int
    value: int


def ranked(db: Session | Connection, kind: PeriodKind, start: date, metric: Metric,
           seller_id: int | None = None) -> list[RankedVideo]:
    """The ranking rule: the `TOP_N` videos with the most `metric` in the period starting at
    `start`, ties to the lower id, zeros left out; all videos, or one seller's.

    The database sorts and limits; the rows are numbered here (MariaDB 10.11 numbered them
    wrongly with ROW_NUMBER() over a sorted, limited derived table inside INSERT … SELECT).
    """
    if kind == PeriodKind.DAY:
        table = VideoDailyStats
        scope = [VideoDailyStats.day == start]
    else:
        table = VideoPeriodStats
        scope = [VideoPeriodStats.period == RollupPeriod(kind.value), VideoPeriodStats.period_start == start]
    if seller_id is not None:
        scope.append(table.seller_id == seller_id)
    value = getattr(table, metric.value)
    rows = db.execute(
        select(table.video_id, value).where(*scope, value > 0).order_by(value.desc(), table.video_id).limit(TOP_N)
    ).all()
    return [RankedVideo(rank, video_id, amount) for rank, (video_id, amount) in enumerate(rows, start=1)]


def materialize_top(conn: Connection, kind: PeriodKind, start: date) -> int:
    """Store the platform-wide ranking of every metric for one period (the batch's final step)."""
    conn.execute(delete(TopVideo).where(TopVideo.period == kind, TopVideo.period_start == start))
    rows = [{"period": kind, "period_start": start, "metric": metric, "rank": r.rank, "video_id": r.video_id,
             "value": r.value}
            for metric in Metric for r in ranked(conn, kind, start, metric)]
    if rows:
        conn.execute(insert(TopVideo), rows)
    return len(rows)


def top_videos(db: Session | Connection, kind: PeriodKind, day: date, metric: Metric,
               seller_id: int | None = None) -> list[RankedVideo]:
    """The Top-5 of the day, week or month containing `day`: the platform's as the batch
    stored it, or a seller's ranked live."""
    start = period_start(kind, day)
    if seller_id is not None:
        return ranked(db, kind, start, metric, seller_id)
    rows = db.execute(
        select(TopVideo.rank, TopVideo.video_id, TopVideo.value)
        .where(TopVideo.period == kind, TopVideo.period_start == start, TopVideo.metric == metric)
        .order_by(TopVideo.rank)
    ).all()
    return [RankedVideo(r.rank, r.video_id, r.value) for r in rows]

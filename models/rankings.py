"""Top-5 videos (§8) of a day, week or month, platform-wide or among one seller's videos.

The platform-wide ranking is materialized by the batch's final step (`top_videos`). A
seller's ranking covers only their own videos, which the per-seller indexes of the stats
tables reach directly, so it is read live and is always consistent with the stats rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from models.business_time import month_start, week_start
from models.stats import (
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


def period_start(kind: PeriodKind, day: date) -> date:
    """Any date selects the day itself, or the ISO week / calendar month containing it (§7)."""
    if kind == PeriodKind.WEEK:
        return week_start(day)
    if kind == PeriodKind.MONTH:
        return month_start(day)
    return day


def top_videos(db: Session | Connection, kind: PeriodKind, day: date, metric: Metric,
               seller_id: int | None = None) -> list[RankedVideo]:
    """The five videos with the most `metric`, ties to the lower id, zeros left out."""
    start = period_start(kind, day)
    if seller_id is None:
        rows = db.execute(
            select(TopVideo.rank, TopVideo.video_id, TopVideo.value)
            .where(TopVideo.period == kind, TopVideo.period_start == start, TopVideo.metric == metric)
            .order_by(TopVideo.rank)
        ).all()
        return [RankedVideo(r.rank, r.video_id, r.value) for r in rows]
    if kind == PeriodKind.DAY:
        table = VideoDailyStats
        scope = (VideoDailyStats.seller_id == seller_id, VideoDailyStats.day == start)
    else:
        table = VideoPeriodStats
        scope = (VideoPeriodStats.seller_id == seller_id, VideoPeriodStats.period == RollupPeriod(kind.value),
                 VideoPeriodStats.period_start == start)
    value = getattr(table, metric.value)
    rows = db.execute(
        select(table.video_id, value).where(*scope, value > 0).order_by(value.desc(), table.video_id).limit(TOP_N)
    ).all()
    return [RankedVideo(rank, video_id, amount) for rank, (video_id, amount) in enumerate(rows, start=1)]

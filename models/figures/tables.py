"""Batch output: per-video daily figures with running totals, period rollups and Top-5.

Rows are keyed by their natural keys so a re-run replaces exactly what it wrote.
The tables hold no timestamps: running a day twice must leave byte-identical rows;
when and how a row was produced is recorded in `batch_runs` / `batch_partitions`.
"""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import BigInteger, Date, Index, Integer, PrimaryKeyConstraint, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TABLE_ARGS, Base, BigId, enum_column_type


class PeriodKind(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class RollupPeriod(enum.StrEnum):
    """The periods the daily rows are summed into."""

    WEEK = "week"
    MONTH = "month"


class Metric(enum.StrEnum):
    VIEWS = "views"
    WATCH_SECONDS = "watch_seconds"


class VideoDailyStats(Base):
    """Figures of one video on one business day, plus cumulative figures as of its end.

    A row exists for every video that had at least one play session that day; the
    cumulative figures of a video on a day without a row are those of its latest row.
    """

    __tablename__ = "video_daily_stats"
    __table_args__ = (
        # Clustered by (day, video_id): the batch writes and reads one day in key order.
        PrimaryKeyConstraint("day", "video_id"),
        UniqueConstraint("video_id", "day"),
        Index(None, "day", "views"),
        Index(None, "day", "watch_seconds"),
        Index(None, "seller_id", "day"),
        TABLE_ARGS,
    )

    day: Mapped[date] = mapped_column(Date)
    video_id: Mapped[int] = mapped_column(BigId)
    seller_id: Mapped[int] = mapped_column(BigId)
    views: Mapped[int] = mapped_column(BigInteger, default=0)
    watch_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    ad_views: Mapped[int] = mapped_column(BigInteger, default=0)
    # Sessions that were not counted, by reason (§6), so sellers can see what was filtered.
    rejected_own_video: Mapped[int] = mapped_column(BigInteger, default=0)
    rejected_repeat: Mapped[int] = mapped_column(BigInteger, default=0)
    cum_views: Mapped[int] = mapped_column(BigInteger, default=0)
    cum_watch_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    cum_ad_views: Mapped[int] = mapped_column(BigInteger, default=0)


class VideoPeriodStats(Base):
    """Weekly (ISO, Monday start) and monthly sums of the daily rows, money included.

    Always equal to the sum of the video's daily rows in the period computed so far (a
    running week or month holds its figures to date): every partition that replaces daily
    rows adds the difference here in the same transaction. The platform-wide ranking is
    materialized in `top_videos`, so no index by figure is kept up to date on every write.
    """

    __tablename__ = "video_period_stats"
    __table_args__ = (
        PrimaryKeyConstraint("period", "period_start", "video_id"),
        Index(None, "seller_id", "period", "period_start"),
        TABLE_ARGS,
    )

    period: Mapped[RollupPeriod] = mapped_column(enum_column_type(RollupPeriod, "rollup_period"))
    period_start: Mapped[date] = mapped_column(Date)
    video_id: Mapped[int] = mapped_column(BigId)
    seller_id: Mapped[int] = mapped_column(BigId)
    views: Mapped[int] = mapped_column(BigInteger, default=0)
    watch_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    ad_views: Mapped[int] = mapped_column(BigInteger, default=0)
    video_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    ad_amount: Mapped[int] = mapped_column(BigInteger, default=0)


class TopVideo(Base):
    """Materialized platform-wide Top-5 (§8) of a day, week or month.

    Ranking every video of the platform is the expensive query, so the final step of each
    run stores it. A seller's Top-5 ranks only their own few videos through the per-seller
    indexes of the stats tables and is read live (models/figures/rankings.py).
    """

    __tablename__ = "top_videos"
    __table_args__ = (
        PrimaryKeyConstraint("period", "period_start", "metric", "rank"),
        TABLE_ARGS,
    )

    period: Mapped[PeriodKind] = mapped_column(enum_column_type(PeriodKind, "top_period_kind"))
    period_start: Mapped[date] = mapped_column(Date)
    metric: Mapped[Metric] = mapped_column(enum_column_type(Metric, "top_metric"))
    rank: Mapped[int] = mapped_column(Integer)
    video_id: Mapped[int] = mapped_column(BigId)
    value: Mapped[int] = mapped_column(BigInteger)

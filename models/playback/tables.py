"""Raw facts of watching: play sessions, per-viewer resume state, ad views.

These are the batch's input. Positions and watch time are whole milliseconds so the
§4 credit formula is exact integer arithmetic on every database.
Every session and ad view carries the business `day` it belongs to (§7: the day the
session started), so the batch reads one day by index without time-zone arithmetic.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TABLE_ARGS, Base, BigId, UTCDateTime, enum_column_type, utcnow
from models.figures.retention import bucket_sql, reach_sql
from models.sql_dialect import per_dialect


class RejectReason(enum.StrEnum):
    """Why a play session is not a counted view (§6)."""

    OWN_VIDEO = "own_video"
    REPEAT_WITHIN_30S = "repeat_within_30s"


class PlayStatus(enum.StrEnum):
    PLAY = "PLAY"
    PAUSE = "PAUSE"
    END = "END"


class PlaySession(Base):
    __tablename__ = "play_sessions"
    __table_args__ = (
        # The batch reads a day by video-id range: this index is its access path, and it
        # covers every column the batch aggregates, so a day is read without row lookups.
        # `reach_bucket` right after `counted`: within a video its counted views come in bucket
        # order, so the retention histogram (models/figures/retention.py) is a streaming
        # GROUP BY (video, bucket) with no temporary table and no join to `videos`.
        Index("ix_play_sessions_day_batch", "day", "video_id", "counted", "reach_bucket", "reject_reason",
              "watch_ms", "reach_ms"),
        # The 30-second repeat rule looks up the viewer's latest sessions of a video.
        Index(None, "viewer_id", "video_id", "started_at"),
        # Data status: has anything of day D changed since the batch ran?
        Index(None, "day", "updated_at"),
        TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    viewer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    video_id: Mapped[int] = mapped_column(BigId, ForeignKey("videos.id"))
    day: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Server time of the latest progress report (t_prev of the §4 formula).
    last_report_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_position_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    furthest_position_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    watch_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    counted: Mapped[bool] = mapped_column(Boolean)
    reject_reason: Mapped[RejectReason | None] = mapped_column(
        enum_column_type(RejectReason, "reject_reason")
    )
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped by every change of the session or its ad views; compared with batch run times.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # The video's length when the session opened (a video's length is fixed at upload), so the
    # two columns below are functions of the row alone. No default: every writer gives it.
    length_ms: Mapped[int] = mapped_column(BigInteger)
    # Audience retention's rule (models/figures/retention.py `reach_ms`, `bucket_of`) kept by the
    # database in its SQL form on every insert and progress update, whoever writes the row.
    # Nullable only in the DDL (MariaDB refuses NOT NULL on a generated column): the inputs never are.
    reach_ms: Mapped[int] = mapped_column(BigInteger, Computed(per_dialect(
        lambda d: reach_sql(d, "furthest_position_ms", "watch_ms", "length_ms")), persisted=True), nullable=True)
    reach_bucket: Mapped[int] = mapped_column(SmallInteger, Computed(per_dialect(
        lambda d: bucket_sql(d, reach_sql(d, "furthest_position_ms", "watch_ms", "length_ms"), "length_ms")),
        persisted=True), nullable=True)


class PlayHistory(Base):
    """Where a viewer stopped in a video, so the next visit resumes there (§4)."""

    __tablename__ = "play_history"
    __table_args__ = (TABLE_ARGS,)

    viewer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), primary_key=True)
    video_id: Mapped[int] = mapped_column(BigId, ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True)
    last_position_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[PlayStatus] = mapped_column(enum_column_type(PlayStatus, "play_status"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Start of the viewer's latest counted session of this video (§6). Opening a session locks
    # this row and decides from it, so concurrent opens cannot both be counted.
    last_counted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AdView(Base):
    """An ad that started playing in a slot of a session: at most one per (session, slot)."""

    __tablename__ = "ad_views"
    __table_args__ = (
        UniqueConstraint("session_id", "slot_index"),
        # The batch counts a day's ad views per video from this index alone.
        Index(None, "day", "video_id", "counted"),
        TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(BigId, ForeignKey("play_sessions.id", ondelete="CASCADE"))
    # Copied from the session so the batch can aggregate a day without a join per row.
    video_id: Mapped[int] = mapped_column(BigId, ForeignKey("videos.id"))
    day: Mapped[date] = mapped_column(Date)
    # The session's `counted` (fixed when it opened): only ad views of counted sessions count (§6).
    counted: Mapped[bool] = mapped_column(Boolean)
    slot_index: Mapped[int] = mapped_column(Integer)
    ad_id: Mapped[int] = mapped_column(BigId, ForeignKey("ads.id"))
    viewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # §5: an ad longer than 15 s may be skipped after 5 s; the view stays, the skip is noted.
    skipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AdPick(Base):
    """The ad the server chose for a slot of a session (§5: the server chooses).

    Written when the player asks which ad to play; an ad view is accepted only for this ad,
    so a player cannot credit an ad of its own choosing (or one that is switched off).
    """

    __tablename__ = "ad_picks"
    __table_args__ = (TABLE_ARGS,)

    session_id: Mapped[int] = mapped_column(BigId, ForeignKey("play_sessions.id", ondelete="CASCADE"),
                                            primary_key=True)
    slot_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ad_id: Mapped[int] = mapped_column(BigId, ForeignKey("ads.id"))
    picked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

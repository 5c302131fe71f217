"""What can be watched: sellers' videos, admins' ads, and the ad slots inside each video."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.accounts.users import User
from models.base import TABLE_ARGS, Base, BigId, UTCDateTime, utcnow

AD_SLOT_INTERVAL_SECONDS = 300


def ad_slot_positions(duration_seconds: int) -> list[int]:
    """Slot start positions of a video (§5): floor(L / 300) slots at 0, 300, 600, …

    A 4:59 video has none, a 5:00 video one at 0:00, a 12:00 video two (0:00 and 5:00).
    """
    if duration_seconds < 0:
        raise ValueError("duration cannot be negative")
    return [i * AD_SLOT_INTERVAL_SECONDS for i in range(duration_seconds // AD_SLOT_INTERVAL_SECONDS)]


class Video(Base):
    __tablename__ = "videos"
    __table_args__ = (
        Index(None, "is_published", "created_at"),
        Index(None, "seller_id", "created_at"),
        TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    seller_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # Relative to the media root, so the media root can move without touching rows.
    media_path: Mapped[str] = mapped_column(String(500))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    duration_seconds: Mapped[int] = mapped_column(Integer)
    is_published: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A poster frame (JPEG) taken from the file at upload, relative to the media root.
    poster_path: Mapped[str | None] = mapped_column(String(500))
    # Deleting keeps the row (statistics and settlements refer to it) but removes the media.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    seller: Mapped[User] = relationship()
    slots: Mapped[list[AdSlot]] = relationship(
        back_populates="video", order_by="AdSlot.slot_index", cascade="all, delete-orphan"
    )


class AdSlot(Base):
    """One ad break of a video, derived from its duration when the video is saved."""

    __tablename__ = "ad_slots"
    __table_args__ = (TABLE_ARGS,)

    video_id: Mapped[int] = mapped_column(BigId, ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True)
    slot_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    position_seconds: Mapped[int] = mapped_column(Integer)

    video: Mapped[Video] = relationship(back_populates="slots")


class Ad(Base):
    __tablename__ = "ads"
    __table_args__ = (Index(None, "is_active", "impressions"), TABLE_ARGS)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    media_path: Mapped[str] = mapped_column(String(500))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    duration_seconds: Mapped[int] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Ads served so far (shown to admins); which ad plays is decided by recent picks (models/playback/ad_rotation.py).
    impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Deleting keeps the row (ad views refer to it) but removes the media.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

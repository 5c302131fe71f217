"""Money (§9): effective-dated price plans with marginal brackets, and per-video daily amounts.

Rates are stored as integers in ten-thousandths of a won (1.1 won = 11000) so the
bracket arithmetic is exact integer SQL on MariaDB, MySQL and SQLite alike; amounts
are whole won.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TABLE_ARGS, Base, BigId, UTCDateTime, enum_column_type, utcnow

RATE_SCALE = 10_000


class PricingBasis(enum.StrEnum):
    """How a day's units are numbered into the brackets."""

    DAILY = "daily"  # from 1 each day
    LIFETIME = "lifetime"  # from the video's cumulative count before the day + 1


def rate_to_scaled(rate: Decimal | str | int) -> int:
    """Exact conversion of a per-unit price in won to the stored integer; refuses more
    than four decimal places rather than rounding somebody's money."""
    value = Decimal(str(rate))
    scaled = value * RATE_SCALE
    if value < 0 or scaled != scaled.to_integral_value():
        raise ValueError(f"a rate must be a non-negative number of won with at most 4 decimals, got {rate}")
    return int(scaled)


def scaled_to_rate(scaled: int) -> Decimal:
    return Decimal(scaled) / RATE_SCALE


class PricePlan(Base):
    """A price list in force from `effective_from` until the next plan's date."""

    __tablename__ = "price_plans"
    __table_args__ = (TABLE_ARGS,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    basis: Mapped[PricingBasis] = mapped_column(enum_column_type(PricingBasis, "pricing_basis"))
    effective_from: Mapped[date] = mapped_column(Date, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))

    tiers: Mapped[list[PriceTier]] = relationship(
        back_populates="plan", order_by="PriceTier.position", cascade="all, delete-orphan"
    )


class PriceTier(Base):
    """A bracket: units `from_unit` … `to_unit` (inclusive; open-ended when NULL)."""

    __tablename__ = "price_tiers"
    __table_args__ = (
        PrimaryKeyConstraint("plan_id", "position"),
        CheckConstraint("from_unit >= 1", name="from_unit_positive"),
        CheckConstraint("to_unit IS NULL OR to_unit >= from_unit", name="range_ordered"),
        CheckConstraint("view_rate_e4 >= 0 AND ad_rate_e4 >= 0", name="rates_non_negative"),
        TABLE_ARGS,
    )

    plan_id: Mapped[int] = mapped_column(BigId, ForeignKey("price_plans.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, autoincrement=False)
    from_unit: Mapped[int] = mapped_column(BigInteger)
    to_unit: Mapped[int | None] = mapped_column(BigInteger)
    view_rate_e4: Mapped[int] = mapped_column(BigInteger)
    ad_rate_e4: Mapped[int] = mapped_column(BigInteger)

    plan: Mapped[PricePlan] = relationship(back_populates="tiers")

    @property
    def view_rate(self) -> Decimal:
        return scaled_to_rate(self.view_rate_e4)

    @property
    def ad_rate(self) -> Decimal:
        return scaled_to_rate(self.ad_rate_e4)


class VideoDailySettlement(Base):
    """What one video earned its seller on one day; a seller's period is the sum of these.

    `views` / `ad_views` and the bracket start are kept with the amounts so the portal can
    show the arithmetic behind a line without recomputing it.
    """

    __tablename__ = "video_daily_settlements"
    __table_args__ = (
        PrimaryKeyConstraint("day", "video_id"),
        UniqueConstraint("video_id", "day"),
        Index(None, "seller_id", "day"),
        TABLE_ARGS,
    )

    day: Mapped[date] = mapped_column(Date)
    video_id: Mapped[int] = mapped_column(BigId)
    seller_id: Mapped[int] = mapped_column(BigId)
    plan_id: Mapped[int] = mapped_column(BigId, ForeignKey("price_plans.id"))
    basis: Mapped[PricingBasis] = mapped_column(enum_column_type(PricingBasis, "settlement_basis"))
    views: Mapped[int] = mapped_column(BigInteger)
    ad_views: Mapped[int] = mapped_column(BigInteger)
    # Units already counted before this day (0 on the daily basis): where bracket numbering starts.
    views_before: Mapped[int] = mapped_column(BigInteger, default=0)
    ad_views_before: Mapped[int] = mapped_column(BigInteger, default=0)
    video_amount: Mapped[int] = mapped_column(BigInteger)
    ad_amount: Mapped[int] = mapped_column(BigInteger)
    total_amount: Mapped[int] = mapped_column(BigInteger)

"""Which ad a break plays (§5, "spreading impressions evenly"): the active ad picked least
over a recent window, not over its lifetime (issue 21, item 11).

Ordering by lifetime impressions made a newly registered ad win every break until it had
caught up with ads that had run for months. Here each pick is counted per ad per hour
(`ad_pick_hours`); the ad with the fewest picks over the last `window_hours` hours (the
setting AD_BALANCE_WINDOW_HOURS) plays, lowest id on a tie.

A window alone still lets an ad that joins the rotation while others are busy win every
break until it has caught up on the window's picks (hours, on a busy day). So an ad that
joins (registered active, or switched back on) takes over the window's hourly counts of the
active ad picked least: from then on it stands level with it, and the breaks are shared
evenly from its first one. The counts are bookkeeping for the rotation, not statistics:
impressions are the ad views (and `ads.impressions`).

Cost per pick: one upsert of the (ad, hour) row, bumped as the transaction's last statement
so its lock is held only for the commit, and a choice that sums at most `window_hours`
rows per active ad through the primary key.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    ForeignKey,
    Select,
    delete,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import TABLE_ARGS, Base, BigId, UTCDateTime
from models.catalog.tables import Ad

DEFAULT_WINDOW_HOURS = 24


class AdPickHour(Base):
    """How many times an ad was picked for a break in one UTC hour (rotation bookkeeping)."""

    __tablename__ = "ad_pick_hours"
    __table_args__ = (TABLE_ARGS,)

    ad_id: Mapped[int] = mapped_column(BigId, ForeignKey("ads.id", ondelete="CASCADE"), primary_key=True)
    hour_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    picks: Mapped[int] = mapped_column(BigId, default=0)


_HOURS = AdPickHour.__table__


def _hour(now: datetime) -> datetime:
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _window_start(now: datetime, window_hours: int) -> datetime:
    """The first hour of the window: the current hour and the `window_hours - 1` before it."""
    return _hour(now) - timedelta(hours=max(1, window_hours) - 1)


def _least_picked(now: datetime, window_hours: int, *where: ColumnElement[bool]) -> Select[tuple[Ad]]:
    """The active ads (matching `where`) by picks over the window, then id: the first is the one to play."""
    picks = (select(_HOURS.c.ad_id, func.sum(_HOURS.c.picks).label("picks"))
             .where(_HOURS.c.hour_start >= _window_start(now, window_hours)).group_by(_HOURS.c.ad_id).subquery())
    return (select(Ad).outerjoin(picks, picks.c.ad_id == Ad.id).where(Ad.is_active.is_(True), *where)
            .order_by(func.coalesce(picks.c.picks, 0), Ad.id).limit(1))


def least_picked_ad(db: Session, now: datetime, window_hours: int = DEFAULT_WINDOW_HOURS) -> Ad | None:
    """The active ad with the fewest picks over the window (lowest id on a tie), or None."""
    return db.scalars(_least_picked(now, window_hours)).first()


def count_pick(db: Session, ad_id: int, now: datetime) -> None:
    """One more pick of `ad_id` in the hour of `now` (not committed)."""
    values = {"ad_id": ad_id, "hour_start": _hour(now), "picks": 1}
    if db.get_bind().dialect.name == "sqlite":
        statement = sqlite_insert(_HOURS).values(values).on_conflict_do_update(
            index_elements=["ad_id", "hour_start"], set_={"picks": _HOURS.c.picks + 1})
    else:
        statement = mysql_insert(_HOURS).values(values).on_duplicate_key_update(picks=_HOURS.c.picks + 1)
    db.execute(statement)


def join_rotation(db: Session, ad_id: int, now: datetime, window_hours: int = DEFAULT_WINDOW_HOURS) -> None:
    """`ad_id` has just become active: give it the window's hourly counts of the active ad
    picked least, so it shares the breaks evenly from now on (not committed)."""
    start = _window_start(now, window_hours)
    peer = db.scalar(_least_picked(now, window_hours, Ad.id != ad_id).with_only_columns(Ad.id))
    db.execute(delete(_HOURS).where(_HOURS.c.ad_id == ad_id, _HOURS.c.hour_start >= start))
    if peer is None:
        return
    db.execute(insert(_HOURS).from_select(
        ["ad_id", "hour_start", "picks"],
        select(literal(ad_id, BigInteger()), _HOURS.c.hour_start, _HOURS.c.picks)
        .where(_HOURS.c.ad_id == peer, _HOURS.c.hour_start >= start)))

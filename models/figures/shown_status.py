"""The data status of days as a seller is shown them (§7), and one status for a set of days."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from models.business_time import today
from models.figures.cache import FigureCache
from models.figures.data_status import DataStatus, seller_day_statuses


def status_summary(statuses: list[DataStatus]) -> str:
    """One status for a set of days: the least trustworthy of them; days without data count
    only when no day has any."""
    for status in (DataStatus.PENDING, DataStatus.STALE, DataStatus.LIVE, DataStatus.FINAL):
        if status in statuses:
            return status.value
    return DataStatus.NO_DATA.value


def shown_statuses(session: Session, cache: FigureCache | None, seller_id: int | None, first: date, last: date,
              tz: ZoneInfo, now: datetime | None = None, video_id: int | None = None) -> dict[date, str]:
    """The days' statuses as the seller (or one video of theirs) is shown them, future days left
    out (`seller_day_statuses`). The platform's statuses underneath are exact, or through the
    portal's short-lived memo when the cache carries one (models/figures/status_memo.py says how stale
    they may be). The memo follows the clock, so statuses as of another instant `now` are
    always asked exactly."""
    memo = cache.statuses if cache is not None else None
    shown = min(last, today(tz, now))
    platform = None
    if memo is not None and now is None and shown >= first:
        platform = memo.statuses(session, first, shown, tz)
    return {d: s.value for d, s in seller_day_statuses(session, seller_id, first, last, tz, now, video_id=video_id,
                                                       platform=platform).items()}

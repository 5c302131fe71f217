"""How often viewers skip ads (issue 21, item 12): skipped ad views over skippable ad views.

Skips are noted on the ad view (`ad_views.skipped_at`, models/playback/ad_breaks.py); only ads longer
than 15 s offer Skip (§5), so a short ad's views are left out of both counts: otherwise a
mix of short ads would read as "rarely skipped". A rate over no skippable view is unknown
(None; pages show "—"), not 0 %.

Counted over business days (`ad_views.day`), so the query runs on the (day, video_id, …)
index of the ad views rather than over every ad view ever recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from models.business_time import today
from models.catalog.tables import Ad
from models.playback.ad_breaks import SKIPPABLE_LONGER_THAN_SECONDS
from models.playback.tables import AdView

# The window of the ad list's skip rate (the page and GET /ads have no range of their own).
RECENT_SKIP_DAYS = 30


@dataclass(frozen=True)
class SkipRate:
    skipped: int
    skippable: int

    @property
    def rate(self) -> float | None:
        """Skipped / skippable (0…1); None when no view could be skipped."""
        return self.skipped / self.skippable if self.skippable else None

    def as_json(self) -> dict[str, Any]:
        return {"skipped": self.skipped, "skippable": self.skippable, "skip_rate": self.rate}


NONE_SKIPPABLE = SkipRate(0, 0)


def _counts(db: Session, key: ColumnElement[int], first: date, last: date,
            *where: ColumnElement[bool]) -> dict[int, SkipRate]:
    rows = db.execute(
        select(key, func.count(AdView.skipped_at), func.count())
        .join(Ad, Ad.id == AdView.ad_id)
        .where(AdView.day.between(first, last), Ad.duration_seconds > SKIPPABLE_LONGER_THAN_SECONDS, *where)
        .group_by(key)
    ).all()
    return {int(group): SkipRate(int(skipped), int(skippable)) for group, skipped, skippable in rows}


def ad_skip_rates(db: Session, first: date, last: date) -> dict[int, SkipRate]:
    """Per ad id, over the business days `first` … `last`; an ad missing here had no skippable view."""
    return _counts(db, AdView.ad_id, first, last)


def recent_ad_skip_rates(db: Session, tz: ZoneInfo) -> dict[int, SkipRate]:
    """Per ad id, over the last RECENT_SKIP_DAYS business days up to today."""
    current = today(tz)
    return ad_skip_rates(db, current - timedelta(days=RECENT_SKIP_DAYS - 1), current)


def video_skip_rate(db: Session, video_id: int, first: date, last: date) -> SkipRate:
    """Of the ads shown in one video's breaks, over the business days `first` … `last`."""
    return _counts(db, AdView.video_id, first, last, AdView.video_id == video_id).get(video_id, NONE_SKIPPABLE)

"""Business days and periods (§7).

Timestamps are UTC; the business day of an instant is its date in the business time zone
(Asia/Seoul by default). Weeks are ISO weeks (Monday–Sunday), months calendar months.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def business_day(instant: datetime, tz: ZoneInfo) -> date:
    if instant.tzinfo is None:
        raise ValueError("business_day needs an aware datetime")
    return instant.astimezone(tz).date()


def day_bounds_utc(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of a business day."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def today(tz: ZoneInfo, now: datetime | None = None) -> date:
    return business_day(now or datetime.now(UTC), tz)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_range(day: date) -> tuple[date, date]:
    """First and last day (inclusive) of the ISO week containing `day`."""
    start = week_start(day)
    return start, start + timedelta(days=6)


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_range(day: date) -> tuple[date, date]:
    start = month_start(day)
    next_month = (start + timedelta(days=32)).replace(day=1)
    return start, next_month - timedelta(days=1)


def days_between(first: date, last: date) -> list[date]:
    """Every day from `first` to `last` inclusive; empty when last < first."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]

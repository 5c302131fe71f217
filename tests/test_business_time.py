"""Business days and periods (§7) in Asia/Seoul."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from models.business_time import business_day, day_bounds_utc, month_range, week_range

SEOUL = ZoneInfo("Asia/Seoul")


def test_midnight_in_seoul_is_15_00_utc():
    assert business_day(datetime(2026, 3, 1, 14, 59, 59, 999999, tzinfo=UTC), SEOUL) == date(2026, 3, 1)
    assert business_day(datetime(2026, 3, 1, 15, 0, tzinfo=UTC), SEOUL) == date(2026, 3, 2)
    start, end = day_bounds_utc(date(2026, 3, 2), SEOUL)
    assert start == datetime(2026, 3, 1, 15, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_weeks_are_iso_and_months_calendar():
    assert week_range(date(2026, 11, 24)) == (date(2026, 11, 23), date(2026, 11, 29))
    assert week_range(date(2026, 11, 23)) == (date(2026, 11, 23), date(2026, 11, 29))
    assert week_range(date(2026, 11, 29)) == (date(2026, 11, 23), date(2026, 11, 29))
    assert month_range(date(2024, 2, 10)) == (date(2024, 2, 1), date(2024, 2, 29))
    assert month_range(date(2026, 12, 31)) == (date(2026, 12, 1), date(2026, 12, 31))

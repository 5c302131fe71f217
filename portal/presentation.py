"""How pages show times (in the business time zone, labelled, ages like "3 days ago") and figures.

Timestamps are stored in UTC (§7); people read them in the business time zone
(Asia/Seoul by default), so every page formats them through these filters and says which
zone it used.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask

from models.figures.date_window import DayWindow, day_window
from models.figures.skip_rates import SkipRate
from portal.settings import settings


def _local(instant: datetime) -> datetime:
    if instant.tzinfo is None:  # stored UTC, read back naive by some drivers
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(settings().tz)


def local_time(instant: datetime | None, with_zone: bool = True) -> str:
    """'2026-11-30 19:58 KST' (the zone's abbreviation, or its name when it has none)."""
    if instant is None:
        return ""
    local = _local(instant)
    text = local.strftime("%Y-%m-%d %H:%M")
    return f"{text} {local.tzname() or settings().tz.key}" if with_zone else text


def local_date(instant: datetime | None) -> str:
    return "" if instant is None else _local(instant).strftime("%Y-%m-%d")


def age(instant: datetime | None, now: datetime | None = None) -> str:
    """'today', 'yesterday', '3 days ago', '2 months ago': counted in business days."""
    if instant is None:
        return ""
    days = (_local(now or datetime.now(UTC)).date() - _local(instant).date()).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 31:
        return f"{days} days ago"
    if days < 365:
        months = days // 30
        return f"{months} month{'s' if months != 1 else ''} ago"
    years = days // 365
    return f"{years} year{'s' if years != 1 else ''} ago"


def zone_label() -> str:
    """The business time zone as pages name it next to times, e.g. 'Asia/Seoul'."""
    return settings().tz.key


def date_window() -> DayWindow:
    """The days a page may ask about (models/figures/date_window.py), for its date pickers' min and max:
    the browser refuses what the server would refuse."""
    return day_window(settings())


def count(value: int) -> str:
    """1,234 views: whole numbers with thousands separators."""
    return f"{value:,}"


def skip_rate(figures: SkipRate | None) -> str:
    """'25 % (3 of 12 skippable)', or '—' when no ad view could be skipped (issue 21, item 12)."""
    if figures is None or figures.rate is None:
        return "—"
    return f"{figures.rate * 100:.0f} % ({figures.skipped:,} of {figures.skippable:,} skippable)"


def init_app(app: Flask) -> None:
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(local_date, "local_date")
    app.add_template_filter(age, "age")
    app.add_template_filter(count, "count")
    app.add_template_filter(skip_rate, "skip_rate")
    app.add_template_global(zone_label, "zone_label")
    app.add_template_global(date_window, "date_window")

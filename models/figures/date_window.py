"""The days anybody may ask about: the one home of the sane date window (issue 18, item 8).

A date far from any real data is never a real question, and the week, month and range
arithmetic of such a date overflows Python's `date` (year 1 minus a day, year 9999 plus a
month): a 500. So every date a request, a form, a plan or a batch command names is checked
here, and anything before DATE_MIN or beyond today + DATE_MAX_YEARS_AHEAD years (business
time) is refused as `invalid` (a 422, a form error, a command-line error) with a message that
says which field and what the window is. Pages, API query models, price plans, batch runs and
backfills all call `day_window(settings)`; none keeps bounds of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol
from zoneinfo import ZoneInfo

from models.business_time import today
from models.errors import DomainError


class DateOutOfRange(DomainError):
    """A date outside the window; the message names the field and the window."""

    kind = "invalid"
    code = "date_out_of_range"


@dataclass(frozen=True)
class DayWindow:
    first: date
    last: date

    def check(self, day: date, what: str) -> date:
        """`day` if it lies in the window, else DateOutOfRange naming `what`."""
        if not self.first <= day <= self.last:
            raise DateOutOfRange(f"{what} must be from {self.first.isoformat()} to {self.last.isoformat()}, "
                                 f"got {day.isoformat()}.")
        return day


def years_after(day: date, years: int) -> date:
    """The same calendar day `years` later (28 February for a 29 February that has none)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


class WindowSettings(Protocol):
    """What the window is made of (settings.Settings: DATE_MIN, DATE_MAX_YEARS_AHEAD, the zone)."""

    @property
    def date_min(self) -> date: ...

    @property
    def date_max_years_ahead(self) -> int: ...

    @property
    def tz(self) -> ZoneInfo: ...


def day_window(settings: WindowSettings, on: date | None = None) -> DayWindow:
    """DATE_MIN … today + DATE_MAX_YEARS_AHEAD years (business time)."""
    return DayWindow(settings.date_min, years_after(on or today(settings.tz), settings.date_max_years_ahead))

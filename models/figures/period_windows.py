"""The periods a seller compares (issue 22, item 2): the one home of "this period" and "the
previous period" for the dashboard, the per-video page, the content table and the API.

- `7` / `28` / `90`: that many business days ending yesterday (the last closed day), against
  the same number of days just before;
- `this_month`: the first of this month up to today (today is a live estimate, §10), against
  the same days of last month (cut at its end: 31 March compares with 28 February's month);
- `last_month`: the whole last month, against the whole month before it;
- `custom`: `first` … `last`, against the window of the same length just before `first`.

Rolling windows end yesterday, not today, so a comparison of two full periods is never
skewed by a day that has only begun.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, get_args

from models.errors import DomainError
from models.figures.period_calendar import period_range, period_start
from models.figures.tables import PeriodKind

Preset = Literal["7", "28", "90", "this_month", "last_month", "custom"]
PRESETS: tuple[str, ...] = get_args(Preset)
PRESET_LABELS = {"7": "7 days", "28": "28 days", "90": "90 days", "this_month": "This month",
                 "last_month": "Last month", "custom": "Custom"}
DEFAULT_PRESET = "28"


class PeriodError(DomainError):
    """A custom window that is not one (missing or inverted dates)."""

    code = "bad_period"


@dataclass(frozen=True)
class PeriodWindow:
    """A period and the one it is compared with (both inclusive, business days)."""

    preset: str
    first: date
    last: date
    previous_first: date
    previous_last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def previous_days(self) -> int:
        return (self.previous_last - self.previous_first).days + 1

    def as_json(self) -> dict[str, str]:
        return {"preset": self.preset, "first": self.first.isoformat(), "last": self.last.isoformat(),
                "previous_first": self.previous_first.isoformat(), "previous_last": self.previous_last.isoformat()}


def same_days_of_previous_month(first: date, last: date) -> tuple[date, date]:
    """The days of the previous month matching `first`..`last` of a month (from its 1st), cut at
    the previous month's end (the 29th–31st of March compare with February up to its last day)."""
    prev_first, prev_last = _month_range(_month_start(first) - timedelta(days=1))
    return prev_first, min(prev_last, prev_first + (last - first))


def _just_before(first: date, last: date) -> tuple[date, date]:
    length = (last - first).days + 1
    return first - timedelta(days=length), first - timedelta(days=1)


def period_window(preset: str, today: date, first: date | None = None, last: date | None = None) -> PeriodWindow:
    """The window `preset` names on business day `today` (`first`/`last`: the custom window)."""
    if preset in ("7", "28", "90"):
        end = today - timedelta(days=1)
        start = end - timedelta(days=int(preset) - 1)
        return PeriodWindow(preset, start, end, *_just_before(start, end))
    if preset == "this_month":
        start = _month_start(today)
        return PeriodWindow(preset, start, today, *same_days_of_previous_month(start, today))
    if preset == "last_month":
        start, end = _month_range(_month_start(today) - timedelta(days=1))
        return PeriodWindow(preset, start, end, *_month_range(start - timedelta(days=1)))
    if preset == "custom":
        if first is None or last is None:
            raise PeriodError("A custom period needs both from and to.")
        if last < first:
            raise PeriodError("The end date is before the start date.")
        return PeriodWindow(preset, first, last, *_just_before(first, last))
    raise PeriodError(f"period must be one of {', '.join(PRESETS)}.")


def _month_range(day: date) -> tuple[date, date]:
    return period_range(PeriodKind.MONTH, day)


def _month_start(day: date) -> date:
    return period_start(PeriodKind.MONTH, day)

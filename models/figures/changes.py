"""The change of a figure against the previous period, one definition for every card (the
dashboard's yesterday / month-to-date cards and the period comparison of issue 22)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def change(now: int, before: int) -> dict[str, Any]:
    """The value, the previous value, their difference and the difference in percent of the
    previous value, to one decimal (None when the previous value is zero: "new", not infinite)."""
    pct = None if before == 0 else round((now - before) * 100 / before, 1)
    return {"value": now, "previous": before, "delta": now - before, "pct": pct}


def changes(current: dict[str, int], previous: dict[str, int], names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """`change` of each named figure."""
    return {name: change(current[name], previous[name]) for name in names}

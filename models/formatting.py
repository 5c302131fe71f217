"""How the portal writes figures: whole won with thousands separators, durations with units."""

from __future__ import annotations


def won(amount: int) -> str:
    """₩1,234,567 (amounts are whole won, §9)."""
    return f"₩{amount:,}"


def duration(seconds: int | float) -> str:
    """A duration with its units, so nobody reads 0:07 as seven seconds or minutes (issue 21,
    item 2): "8 h 41 min", "7 min 3 s", "45 s". Seconds are dropped from an hour or more."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours:,} h {minutes} min" if minutes else f"{hours:,} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def number(value: int) -> str:
    return f"{value:,}"


def signed_pct(pct: float | None) -> str:
    return "new" if pct is None else f"{pct:+.1f}%"


def signed_won(amount: int) -> str:
    """A change of money: +₩1,234, −₩1,234 (a real minus sign) or ₩0."""
    if amount == 0:
        return won(0)
    return f"{'+' if amount > 0 else '−'}{won(abs(amount))}"

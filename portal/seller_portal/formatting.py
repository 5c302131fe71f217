"""How the portal writes figures: whole won with thousands separators, watch time as h:mm."""

from __future__ import annotations


def won(amount: int) -> str:
    """₩1,234,567 (amounts are whole won, §9)."""
    return f"₩{amount:,}"


def hmm(seconds: int) -> str:
    """Watch time as hours and minutes: 0:00, 2:05, 1,234:59."""
    return f"{seconds // 3600:,}:{seconds % 3600 // 60:02d}"


def number(value: int) -> str:
    return f"{value:,}"


def signed_pct(pct: float | None) -> str:
    return "new" if pct is None else f"{pct:+.1f}%"

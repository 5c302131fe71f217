"""Figures per view (issue 22): average view duration and RPM, in Python and in SQL side by side
(the content table sorts by them in SQL; cards and CSV compute them in Python), with
tests/test_audience_figures.py holding the two forms equal.

Both are floored to whole units, as §8 floors watch seconds and §9 floors money: the average
view duration in whole seconds, RPM (revenue per 1,000 views) in whole won. A period without
views has neither: 0.
"""

from __future__ import annotations

from models.sql_dialect import Dialect


def average_view_seconds(watch_seconds: int, views: int) -> int:
    """Whole seconds watched per counted view."""
    return watch_seconds // views if views else 0


def rpm(revenue: int, views: int) -> int:
    """Whole won earned per 1,000 counted views."""
    return revenue * 1000 // views if views else 0


def average_view_seconds_sql(d: Dialect, watch_seconds: str, views: str) -> str:
    """SQL of `average_view_seconds` over integer columns or expressions."""
    return f"CASE WHEN {views} > 0 THEN {d.idiv(watch_seconds, f'({views})')} ELSE 0 END"


def rpm_sql(d: Dialect, revenue: str, views: str) -> str:
    """SQL of `rpm` over integer columns or expressions."""
    return f"CASE WHEN {views} > 0 THEN {d.idiv(f'({revenue}) * 1000', f'({views})')} ELSE 0 END"

"""The period calendar (§7): the day, ISO week (Monday–Sunday) or calendar month a business day
falls in, in Python and in SQL.

Business days themselves (the date of an instant in the business time zone) are
models/business_time.py's; this module says which period a business day belongs to. The Top-5,
the settlement tables, receipts, the figure cache's scopes and the batch's week and month
rollups all ask here, so a week cannot start on a Monday in one place and on a Sunday in
another. The SQL form (`period_start_sql`) is what the rollups group by and the settlement
table matches restatements with; tests/test_period_calendar.py holds it equal to the Python
form on MariaDB and SQLite.
"""

from __future__ import annotations

from datetime import date, timedelta

from models.business_time import month_range, month_start, week_range, week_start
from models.figures.tables import PeriodKind, RollupPeriod
from models.sql_dialect import Dialect

# The granularities a period is asked for by (`PeriodKind` values; RollupPeriod is week and month).
GRANULARITIES = tuple(kind.value for kind in PeriodKind)


def period_start(kind: str, day: date) -> date:
    """The first day of the period of `kind` (day, week, month) that `day` falls in."""
    if kind == PeriodKind.WEEK:
        return week_start(day)
    if kind == PeriodKind.MONTH:
        return month_start(day)
    if kind == PeriodKind.DAY:
        return day
    raise ValueError(f"no such period kind: {kind!r}")


def period_end(kind: str, day: date) -> date:
    """The last day of the period of `kind` that `day` falls in."""
    if kind == PeriodKind.WEEK:
        return week_range(day)[1]
    if kind == PeriodKind.MONTH:
        return month_range(day)[1]
    if kind == PeriodKind.DAY:
        return day
    raise ValueError(f"no such period kind: {kind!r}")


def period_range(kind: str, day: date) -> tuple[date, date]:
    """The first and last day of the period of `kind` that `day` falls in."""
    return period_start(kind, day), period_end(kind, day)


def periods_span(kind: str, first: date, last: date) -> tuple[date, date]:
    """The first and last day of the periods of `kind` that the days `first`..`last` overlap."""
    return period_start(kind, first), period_end(kind, last)


def month_starts(first: date, last: date) -> list[date]:
    """The first day of every calendar month the days `first`..`last` overlap."""
    starts, current = [], month_start(first)
    while current <= last:
        starts.append(current)
        current = month_range(current)[1] + timedelta(days=1)
    return starts


def rollup_periods(day: date) -> list[tuple[RollupPeriod, date, date]]:
    """The week and month rows a day's figures are summed into, with their first and last day."""
    return [(period, *period_range(period, day)) for period in RollupPeriod]


def period_start_sql(dialect: Dialect, kind: str, day: str) -> str:
    """SQL: the first day of the period of `kind` that the date expression `day` falls in."""
    if kind == PeriodKind.WEEK:  # back to Monday (MariaDB's WEEKDAY and the shifted %w: Monday 0)
        if dialect.mysql:
            return f"DATE_SUB({day}, INTERVAL WEEKDAY({day}) DAY)"
        return f"date({day}, '-' || ((CAST(strftime('%w', {day}) AS INTEGER) + 6) % 7) || ' days')"
    if kind == PeriodKind.MONTH:
        if dialect.mysql:
            return f"DATE_SUB({day}, INTERVAL DAYOFMONTH({day}) - 1 DAY)"
        return f"date({day}, 'start of month')"
    if kind == PeriodKind.DAY:
        return day
    raise ValueError(f"no such period kind: {kind!r}")

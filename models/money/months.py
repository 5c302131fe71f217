"""Statement months: parsing `2026-11`, the month after, and the one lock on a month row.

A month is identified by its first day. The `statement_months` row is what finalization
(exclusive) and the adjustments of a re-run (shared) serialise on, so an adjustment is
either seen by the finalization of its month or goes to the next one, never lost.
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import Connection, text

from models.errors import DomainError
from models.sql_dialect import Dialect

_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")  # ASCII digits only


class BadMonth(DomainError):
    kind = "invalid"
    code = "bad_month"


def month_of(text: str) -> date | None:
    """`2026-11` as date(2026, 11, 1), or None for anything else (ASCII digits, months 1–12).
    The one month syntax: the API's `Month` type reads it too, then applies the date window."""
    match = _MONTH.fullmatch(text.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
        return None
    return date(int(match.group(1)), int(match.group(2)), 1)


def parse_month(value: str | date) -> date:
    """`2026-11` (or any date in it) → date(2026, 11, 1); a clear error for anything else."""
    if isinstance(value, date):
        return value.replace(day=1)
    month = month_of(value)
    if month is None or month.year < 2000:
        raise BadMonth(f"{value!r} is not a month (YYYY-MM)")
    return month


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_label(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def ensure_month_row(conn: Connection, month: date) -> None:
    """Create the month's row (open) if it is missing; concurrent callers all succeed."""
    verb = "INSERT IGNORE INTO" if Dialect(conn).mysql else "INSERT OR IGNORE INTO"
    conn.execute(text(f"{verb} statement_months (month, state) VALUES (:month, 'open')"), {"month": month})


def lock_month(conn: Connection, month: date) -> str | None:
    """The month's state, its row locked until the transaction ends (MariaDB: FOR UPDATE;
    SQLite has one writer, whose lock the caller's first write takes)."""
    mysql = Dialect(conn).mysql
    if not mysql:  # take SQLite's write lock now, before reading the state
        conn.execute(text("UPDATE statement_months SET state = state WHERE month = :month"), {"month": month})
    tail = " FOR UPDATE" if mysql else ""
    return conn.execute(text(f"SELECT state FROM statement_months WHERE month = :month{tail}"),
                        {"month": month}).scalar()


def final_months(conn: Connection, *, share_lock: bool = False) -> list[date]:
    """Every final month, oldest first. With `share_lock` (MariaDB) every month row and the
    gaps between them are share-locked until the transaction ends, so a finalization running
    now is waited for and one starting later waits for this transaction."""
    tail = " LOCK IN SHARE MODE" if share_lock and Dialect(conn).mysql else ""
    rows = conn.execute(text(f"SELECT month, state FROM statement_months ORDER BY month{tail}")).all()
    return [_as_date(m) for m, state in rows if state == "final"]


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))

"""Monthly statements (§13): estimated while the month runs, final once finalized.

Finalization of month M, exactly once however many presses, schedulers or workers:
1. the month's `statement_months` row is created if missing (INSERT IGNORE, its own commit);
2. one transaction (READ COMMITTED on MariaDB, so reading the settlements takes no locks
   a re-run could deadlock with) locks that row FOR UPDATE — a second caller waits here and
   then finds the month final and does nothing;
3. the month is refused, with nothing written but the reason (which days are not `final`
   per models/figures/data_status.py, or which earlier month is not final), unless every day is
   final and every month since the first settled one is final (months finalize in order, so
   "the earliest open month" of the adjustments is simply the month after the last final one);
4. set-based INSERT … SELECTs write every seller's lines (Σ of the month's daily
   settlements per video), the statements (lines + the adjustments carried to M) and their
   ledger entries, and flip the row to final — all in that one transaction.
A re-run restating a day of M while M is being finalized waits on the row (adjustments.py
share-locks it) and its adjustment goes to M+1; one that locked first is waited for and
its adjustment is in M. Final rows are never updated or deleted (no code path does).

The estimated statement is computed on demand from the month's daily settlements and
the adjustments already carried to it; nothing is stored for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import groupby
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from models.base import utcnow
from models.business_time import month_range
from models.errors import DomainError
from models.figures.data_status import DataStatus, DayStatus, day_statuses
from models.money import ledger
from models.money.months import ensure_month_row, lock_month, month_label, next_month, parse_month
from models.sql_dialect import Dialect

_REASON_LIMIT = 1000


class MonthNotReady(DomainError):
    """The month cannot be finalized yet; the message names the days (or month) in the way."""

    kind = "conflict"
    code = "month_not_ready"


@dataclass(frozen=True)
class FinalizeResult:
    month: date
    finalized: bool  # False: it was already final (another press, scheduler or worker did it)
    statements: int = 0
    earnings: int = 0  # Σ earnings of the statements written (what a caller may mail about)


def _ranges(days: list[DayStatus]) -> list[str]:
    """Consecutive days with the same status as `first…last status`."""
    parts = []
    for status, run in groupby(enumerate(days), key=lambda item: (item[1].status, item[1].day.toordinal() - item[0])):
        items = [d for _, d in run]
        span = str(items[0].day) if len(items) == 1 else f"{items[0].day}…{items[-1].day}"
        parts.append(f"{span} {status[0].value}")
    return parts


def days_not_final(conn: Connection, month: date, tz: ZoneInfo, now: datetime | None = None) -> list[DayStatus]:
    """The days of `month` that are not `final` (live, stale or pending), in order."""
    first, last = month_range(month)
    statuses = day_statuses(Session(bind=conn), first, last, tz, now)
    return [s for s in statuses.values() if s.status != DataStatus.FINAL]


def _blocker(conn: Connection, month: date, tz: ZoneInfo, now: datetime | None) -> str | None:
    missing = days_not_final(conn, month, tz, now)
    if missing:
        return (f"{month_label(month)} has days that are not final: " + ", ".join(_ranges(missing)))[:_REASON_LIMIT]
    first_day = conn.execute(text("SELECT MIN(day) FROM video_daily_settlements")).scalar()
    if first_day is not None:
        finals = {row[0] if isinstance(row[0], date) else date.fromisoformat(str(row[0]))
                  for row in conn.execute(text("SELECT month FROM statement_months WHERE state = 'final'"))}
        earlier = parse_month(first_day if isinstance(first_day, date) else date.fromisoformat(str(first_day)))
        while earlier < month:
            if earlier not in finals:
                return f"{month_label(earlier)} is not final yet (months are finalized in order)"
            earlier = next_month(earlier)
    return None


def _record_refusal(engine: Engine, month: date, reason: str, now: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE statement_months SET last_refusal = :reason, refused_at = :now "
                          "WHERE month = :month AND state = 'open'"), {"reason": reason, "now": now, "month": month})


def _write_final(conn: Connection, month: date, now: datetime, by: int | None) -> FinalizeResult:
    first, last = month_range(month)
    params = {"month": month, "first": first, "last": last, "now": now, "by": by}
    conn.execute(text("""
        INSERT INTO statement_lines (month, seller_id, video_id, views, ad_views, video_amount, ad_amount, total)
        SELECT :month, seller_id, video_id, SUM(views), SUM(ad_views), SUM(video_amount), SUM(ad_amount),
               SUM(total_amount)
        FROM video_daily_settlements WHERE day BETWEEN :first AND :last
        GROUP BY seller_id, video_id"""), params)
    written = conn.execute(text("""
        INSERT INTO statements (month, seller_id, lines_total, adjustments_total, earnings, finalized_at)
        SELECT :month, seller_id, SUM(line), SUM(adjustment), SUM(line) + SUM(adjustment), :now FROM (
            SELECT seller_id, total AS line, 0 AS adjustment FROM statement_lines WHERE month = :month
            UNION ALL
            SELECT seller_id, 0, amount FROM statement_adjustments WHERE month = :month
        ) u GROUP BY seller_id"""), params).rowcount
    ledger.post_statements(conn, month, now)
    conn.execute(text("UPDATE statement_months SET state = 'final', finalized_at = :now, finalized_by = :by, "
                      "last_refusal = NULL, refused_at = NULL WHERE month = :month"), params)
    earnings = conn.execute(text("SELECT COALESCE(SUM(earnings), 0) FROM statements WHERE month = :month"),
                            params).scalar()
    return FinalizeResult(month, True, written, int(earnings))


def finalize_month(engine: Engine, month: date | str, tz: ZoneInfo, *, by: int | None = None,
                   now: datetime | None = None) -> FinalizeResult:
    """Finalize `month` once (see the module docstring); commits. Raises MonthNotReady with
    the reason, which is also recorded on the month's row, when it cannot be finalized."""
    month = parse_month(month)
    now = now or utcnow()
    with engine.begin() as conn:
        ensure_month_row(conn, month)
    isolated = engine.connect()
    if Dialect(isolated).mysql:
        isolated = isolated.execution_options(isolation_level="READ COMMITTED")
    with isolated as conn, conn.begin():
        if lock_month(conn, month) == "final":
            return FinalizeResult(month, False)
        reason = _blocker(conn, month, tz, now)
        if reason is None:
            return _write_final(conn, month, now, by)
    _record_refusal(engine, month, reason, now)
    raise MonthNotReady(f"{month_label(month)} was not finalized: {reason}")


# ------------------------------------------------------------------ reading a statement


@dataclass(frozen=True)
class Line:
    video_id: int
    views: int
    ad_views: int
    video_amount: int
    ad_amount: int
    total: int


@dataclass(frozen=True)
class AdjustmentLine:
    restatement_id: int
    video_id: int
    day: date
    amount: int


@dataclass(frozen=True)
class StatementView:
    """What a seller's statement of a month says: final (stored) or estimated (so far)."""

    month: date
    seller_id: int
    status: str  # "final" | "estimated"
    lines: list[Line]
    adjustments: list[AdjustmentLine]
    days_not_final: list[DayStatus] = field(default_factory=list)  # empty once final

    @property
    def lines_total(self) -> int:
        return sum(line.total for line in self.lines)

    @property
    def adjustments_total(self) -> int:
        return sum(a.amount for a in self.adjustments)

    @property
    def earnings(self) -> int:
        return self.lines_total + self.adjustments_total


def seller_statement(conn: Connection, seller_id: int, month: date | str, tz: ZoneInfo,
                     now: datetime | None = None) -> StatementView:
    """The seller's statement of `month`: the stored final one, or the estimate so far naming
    the days not computed yet (for the views)."""
    month = parse_month(month)
    params = {"month": month, "seller": seller_id}
    adjustments = [AdjustmentLine(*row) for row in conn.execute(text(
        "SELECT restatement_id, video_id, day, amount FROM statement_adjustments "
        "WHERE month = :month AND seller_id = :seller ORDER BY day, video_id, restatement_id"), params)]
    state = conn.execute(text("SELECT state FROM statement_months WHERE month = :month"), params).scalar()
    if state == "final":
        lines = [Line(*row) for row in conn.execute(text(
            "SELECT video_id, views, ad_views, video_amount, ad_amount, total FROM statement_lines "
            "WHERE month = :month AND seller_id = :seller ORDER BY video_id"), params)]
        return StatementView(month, seller_id, "final", lines, adjustments)
    first, last = month_range(month)
    lines = [Line(*(int(v) for v in row)) for row in conn.execute(text(
        "SELECT video_id, SUM(views), SUM(ad_views), SUM(video_amount), SUM(ad_amount), SUM(total_amount) "
        "FROM video_daily_settlements WHERE seller_id = :seller AND day BETWEEN :first AND :last "
        "GROUP BY video_id ORDER BY video_id"), {**params, "first": first, "last": last})]
    return StatementView(month, seller_id, "estimated", lines, adjustments, days_not_final(conn, month, tz, now))


def month_state(conn: Connection, month: date | str) -> tuple[str, str | None]:
    """(open | final, the last refusal reason) of a month, for the console and /healthz/batch."""
    row = conn.execute(text("SELECT state, last_refusal FROM statement_months WHERE month = :month"),
                       {"month": parse_month(month)}).first()
    return ("open", None) if row is None else (row[0], row[1])


def open_refusals(conn: Connection) -> list[tuple[date, str, datetime | None]]:
    """Months still open whose last finalization attempt was refused: (month, reason, when),
    oldest first — what the operations console and /healthz/batch show."""
    rows = conn.execute(text("SELECT month, last_refusal, refused_at FROM statement_months "
                             "WHERE state = 'open' AND last_refusal IS NOT NULL ORDER BY month")).all()
    return [(parse_month(m if isinstance(m, date) else date.fromisoformat(str(m))), reason,
             at if at is None or isinstance(at, datetime) else datetime.fromisoformat(str(at)))
            for m, reason, at in rows]

"""What a seller (or an admin about a seller) reads of their money: the months with a
statement, the balance brought forward into a month, the payout or carry of a month, the
payout history and the dashboard's outlook.

Reads only: the rules stay in their modules (statements.py says what a statement holds,
ledger.py what the balance is, payouts.py why a balance is carried). The views, the PDF and
the API all read through here, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from models.accounts.users import User
from models.business_time import today
from models.money import ledger
from models.money.months import _as_date, next_month, parse_month
from models.money.payouts import CARRY_REASONS, carry_reason
from models.money.statements import StatementView, seller_statement
from models.money.tables import PayoutDetails, PayoutHold


@dataclass(frozen=True)
class MonthSummary:
    month: date
    status: str  # final | estimated
    earnings: int


def _final_months(conn: Connection) -> set[date]:
    return {_as_date(m) for m in conn.execute(text("SELECT month FROM statement_months WHERE state = 'final'")).scalars()}


def open_months(conn: Connection, current: date) -> list[date]:
    """The months after the last final one up to `current`'s month: the estimated statements."""
    finals = _final_months(conn)
    first = next_month(max(finals)) if finals else None
    if first is None:
        earliest = conn.execute(text("SELECT MIN(day) FROM video_daily_settlements")).scalar()
        first = parse_month(_as_date(earliest)) if earliest is not None else parse_month(current)
    months, month = [], first
    while month <= parse_month(current):
        months.append(month)
        month = next_month(month)
    return months


def seller_months(conn: Connection, seller_id: int, tz: ZoneInfo, now: datetime | None = None) -> list[MonthSummary]:
    """The seller's statements, newest first: the open months (estimated so far), then every
    final statement they have."""
    current = today(tz, now)
    estimated = [MonthSummary(m, "estimated", seller_statement(conn, seller_id, m, tz, now).earnings)
                 for m in open_months(conn, current)]
    finals = [MonthSummary(_as_date(m), "final", int(e)) for m, e in conn.execute(text(
        "SELECT month, earnings FROM statements WHERE seller_id = :s ORDER BY month DESC"), {"s": seller_id})]
    return sorted(estimated, key=lambda s: s.month, reverse=True) + finals


def has_statement(conn: Connection, seller_id: int, month: date, tz: ZoneInfo, now: datetime | None = None) -> bool:
    """Whether the seller has a statement of `month`: a final one, or the month is open (an
    estimate, possibly empty so far). A final month without their statement, or a month in
    the future, is not theirs."""
    if conn.execute(text("SELECT 1 FROM statements WHERE seller_id = :s AND month = :m"),
                    {"s": seller_id, "m": month}).first():
        return True
    return month in open_months(conn, today(tz, now))


def brought_forward(conn: Connection, seller_id: int, month: date) -> int:
    """The balance the seller carried into `month`: every ledger posting of earlier months
    (their statements, their payout runs and those payouts' failures)."""
    total = conn.execute(text(
        "SELECT COALESCE(SUM(p.amount), 0) FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id "
        "WHERE p.account = 'seller_payable' AND p.seller_id = :s AND e.month < :m"), {"s": seller_id, "m": month}).scalar()
    return int(total)


@dataclass(frozen=True)
class PayoutLine:
    """A payout (or a carry) of a month's run, as the seller sees it."""

    month: date
    state: str  # scheduled | sent | paid | failed | carried
    gross: int
    income_tax: int
    local_tax: int
    net: int
    reference: str | None
    sent_at: datetime | None
    settled_at: datetime | None
    reason: str | None  # a failure's reason or why it was carried, in words

    @property
    def taxes(self) -> int:
        return self.income_tax + self.local_tax


_PAYOUTS = """SELECT r.month, p.state, p.gross, p.income_tax, p.local_tax, p.net, p.reference, p.sent_at,
                     p.settled_at, p.failure_reason
              FROM payouts p JOIN payout_runs r ON r.id = p.run_id WHERE p.seller_id = :s"""
_CARRIES = """SELECT r.month, c.balance, c.reason FROM payout_carries c JOIN payout_runs r ON r.id = c.run_id
              WHERE c.seller_id = :s"""


def _payout(row) -> PayoutLine:  # type: ignore[no-untyped-def]
    month, state, gross, income, local, net, reference, sent, settled, failure = row
    return PayoutLine(_as_date(month), str(state), int(gross), int(income), int(local), int(net), reference,
                      sent, settled, failure)


def _carry(row) -> PayoutLine:  # type: ignore[no-untyped-def]
    month, balance, reason = row
    return PayoutLine(_as_date(month), "carried", int(balance), 0, 0, 0, None, None, None,
                      CARRY_REASONS.get(reason, reason))


def month_payout(conn: Connection, seller_id: int, month: date) -> PayoutLine | None:
    """The payout or carry of the seller in `month`'s run; None while the month has no run."""
    row = conn.execute(text(_PAYOUTS + " AND r.month = :m"), {"s": seller_id, "m": month}).first()
    if row is not None:
        return _payout(row)
    row = conn.execute(text(_CARRIES + " AND r.month = :m"), {"s": seller_id, "m": month}).first()
    return _carry(row) if row is not None else None


def payout_history(conn: Connection, seller_id: int) -> list[PayoutLine]:
    """Every payout and carry of the seller, newest month first."""
    lines = [_payout(r) for r in conn.execute(text(_PAYOUTS), {"s": seller_id})]
    lines += [_carry(r) for r in conn.execute(text(_CARRIES), {"s": seller_id})]
    return sorted(lines, key=lambda line: line.month, reverse=True)


def run_exists(conn: Connection, month: date) -> bool:
    return conn.execute(text("SELECT 1 FROM payout_runs WHERE month = :m"), {"m": month}).first() is not None


@dataclass(frozen=True)
class Document:
    """Everything a statement page, its PDF and the API show for a seller's month."""

    statement: StatementView
    seller: User
    brought_forward: int
    payout: PayoutLine | None
    run_exists: bool
    video_titles: dict[int, str]

    @property
    def balance_after(self) -> int:
        return self.brought_forward + self.statement.earnings


def statement_document(conn: Connection, seller: User, month: date | str, tz: ZoneInfo,
                       now: datetime | None = None) -> Document:
    month = parse_month(month)
    statement = seller_statement(conn, seller.id, month, tz, now)
    ids = {line.video_id for line in statement.lines} | {a.video_id for a in statement.adjustments}
    titles: dict[int, str] = {}
    if ids:
        titles = {int(i): t for i, t in conn.execute(text(
            "SELECT id, title FROM videos WHERE id IN (" + ", ".join(str(int(i)) for i in ids) + ")"))}
    return Document(statement, seller, brought_forward(conn, seller.id, month), month_payout(conn, seller.id, month),
                    run_exists(conn, month), titles)


@dataclass(frozen=True)
class Outlook:
    """The dashboard's money cards: the balance now and what this month may bring."""

    balance: int
    this_month: int  # the current month's estimate so far
    pending: int  # earlier months not final yet (estimated)
    month: date
    payout_after: date  # when the current month's statement becomes final (the payout run follows)
    carry: str | None  # why there would be no payout, in words; None: a payout is expected

    @property
    def projected(self) -> int:
        return self.balance + self.pending + self.this_month


def outlook(conn: Connection, seller: User, tz: ZoneInfo, *, threshold_won: int, finalize_day: int,
            now: datetime | None = None) -> Outlook:
    """The seller's balance, this month's estimate and whether it would be paid (the carry
    rule of payouts.py applied to the projected balance)."""
    current = today(tz, now)
    month = parse_month(current)
    estimates = {m: seller_statement(conn, seller.id, m, tz, now).earnings for m in open_months(conn, current)}
    balance = ledger.balance(conn, seller.id)
    this_month = estimates.pop(month, 0)
    pending = sum(estimates.values())
    session = Session(bind=conn)
    details = session.get(PayoutDetails, seller.id)
    held = session.scalars(select(PayoutHold.id).where(PayoutHold.seller_id == seller.id,
                                                       PayoutHold.released_at.is_(None))).first() is not None
    reason = carry_reason(balance + pending + this_month, threshold_won, held, details, seller)
    return Outlook(balance, this_month, pending, month, next_month(month).replace(day=finalize_day),
                   CARRY_REASONS[reason] if reason else None)

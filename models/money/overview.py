"""What the operations console and the admin API read of §13 money: each month's state,
refusal and totals, a month's sellers (earnings, payout or why carried), a payout run with
its payouts, carries and transfer-file downloads, and the open holds.

Reads only; the rules stay in statements.py, payouts.py and ledger.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, text

from models.money.months import _as_date
from models.money.payouts import CARRY_REASONS


@dataclass(frozen=True)
class MonthRow:
    month: date
    state: str  # open | final
    finalized_at: datetime | None
    refusal: str | None
    refused_at: datetime | None
    statements: int
    earnings: int
    run_id: int | None


def months(conn: Connection) -> list[MonthRow]:
    """Every month with a row (finalized, or tried), newest first, with its totals."""
    rows = conn.execute(text("""
        SELECT m.month, m.state, m.finalized_at, m.last_refusal, m.refused_at,
               (SELECT COUNT(*) FROM statements s WHERE s.month = m.month),
               (SELECT COALESCE(SUM(s.earnings), 0) FROM statements s WHERE s.month = m.month),
               (SELECT r.id FROM payout_runs r WHERE r.month = m.month)
        FROM statement_months m ORDER BY m.month DESC""")).all()
    return [MonthRow(_as_date(m), str(state), fin, refusal, refused, int(n), int(e), run)
            for m, state, fin, refusal, refused, n, e, run in rows]


def month_row(conn: Connection, month: date) -> MonthRow | None:
    return next((row for row in months(conn) if row.month == month), None)


@dataclass(frozen=True)
class SellerMonth:
    seller_id: int
    name: str
    email: str | None
    earnings: int
    outcome: str  # paid | sent | scheduled | failed | carried | no run yet
    net: int | None
    reason: str | None  # why carried (words) or why failed


def month_sellers(conn: Connection, month: date) -> list[SellerMonth]:
    """The month's final statements, with each seller's payout or carry in the month's run."""
    rows = conn.execute(text("""
        SELECT s.seller_id, u.display_name, u.email, s.earnings, p.state, p.net, p.failure_reason, c.reason
        FROM statements s JOIN users u ON u.id = s.seller_id
        LEFT JOIN payout_runs r ON r.month = s.month
        LEFT JOIN payouts p ON p.run_id = r.id AND p.seller_id = s.seller_id
        LEFT JOIN payout_carries c ON c.run_id = r.id AND c.seller_id = s.seller_id
        WHERE s.month = :m ORDER BY s.earnings DESC, s.seller_id"""), {"m": month}).all()
    out = []
    for seller, name, email, earnings, state, net, failure, carry in rows:
        if state is not None:
            out.append(SellerMonth(seller, name, email, int(earnings), str(state), int(net), failure))
        elif carry is not None:
            out.append(SellerMonth(seller, name, email, int(earnings), "carried", None, CARRY_REASONS.get(carry, carry)))
        else:
            out.append(SellerMonth(seller, name, email, int(earnings), "no run yet", None, None))
    return out


@dataclass(frozen=True)
class RunPayout:
    id: int
    seller_id: int
    name: str
    reference: str
    kind: str
    gross: int
    income_tax: int
    local_tax: int
    net: int
    state: str
    sent_at: datetime | None
    settled_at: datetime | None
    failure_reason: str | None


@dataclass(frozen=True)
class RunCarry:
    seller_id: int
    name: str
    balance: int
    reason: str  # in words


@dataclass(frozen=True)
class RunExport:
    exported_by: str
    exported_at: datetime
    rows: int


@dataclass(frozen=True)
class RunDetail:
    id: int
    month: date
    created_at: datetime
    payouts: list[RunPayout]
    carries: list[RunCarry]
    exports: list[RunExport]

    @property
    def totals(self) -> dict[str, int]:
        return {"gross": sum(p.gross for p in self.payouts), "taxes": sum(p.income_tax + p.local_tax for p in self.payouts),
                "net": sum(p.net for p in self.payouts)}

    def count(self, state: str) -> int:
        return sum(1 for p in self.payouts if p.state == state)


def run_detail(conn: Connection, run_id: int) -> RunDetail | None:
    run = conn.execute(text("SELECT id, month, created_at FROM payout_runs WHERE id = :id"), {"id": run_id}).first()
    if run is None:
        return None
    payouts = [RunPayout(*row[:5], *(int(v) for v in row[5:9]), str(row[9]), *row[10:]) for row in conn.execute(text("""
        SELECT p.id, p.seller_id, u.display_name, p.reference, p.kind, p.gross, p.income_tax, p.local_tax, p.net,
               p.state, p.sent_at, p.settled_at, p.failure_reason
        FROM payouts p JOIN users u ON u.id = p.seller_id WHERE p.run_id = :id ORDER BY p.id"""), {"id": run_id})]
    carries = [RunCarry(s, n, int(b), CARRY_REASONS.get(r, r)) for s, n, b, r in conn.execute(text("""
        SELECT c.seller_id, u.display_name, c.balance, c.reason FROM payout_carries c JOIN users u ON u.id = c.seller_id
        WHERE c.run_id = :id ORDER BY c.reason, c.seller_id"""), {"id": run_id})]
    exports = [RunExport(n, at, int(rows)) for n, at, rows in conn.execute(text("""
        SELECT u.display_name, e.exported_at, e.rows FROM payout_transfer_exports e JOIN users u ON u.id = e.exported_by
        WHERE e.run_id = :id ORDER BY e.id"""), {"id": run_id})]
    return RunDetail(int(run[0]), _as_date(run[1]), run[2], payouts, carries, exports)


@dataclass(frozen=True)
class OpenHold:
    id: int
    seller_id: int
    name: str
    reason: str
    created_at: datetime


def open_holds(conn: Connection) -> list[OpenHold]:
    return [OpenHold(*row) for row in conn.execute(text("""
        SELECT h.id, h.seller_id, u.display_name, h.reason, h.created_at FROM payout_holds h
        JOIN users u ON u.id = h.seller_id WHERE h.released_at IS NULL ORDER BY h.id"""))]

"""The balance ledger (§13): every balance change is an entry whose postings sum to zero.

Sign convention: an amount is what the platform owes on that account, so
- a final statement posts seller_payable +earnings and cash −earnings (the platform's
  expense, to be paid out of cash);
- a payout posts seller_payable −gross, tax_withheld +taxes and cash +net (the money left
  the payable: part to the seller's bank, part owed to the tax office);
- a failed payout posts the exact opposite of its payout (the gross returns to the balance,
  the taxes are reversed).
A seller's balance is the sum of their seller_payable postings. Entries are written
set-based, in the transaction of the change they record; nothing updates or deletes them,
and the unique keys of `ledger_entries` make every statement and payout post once.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, text

_ENTRY_POSTINGS = """
    INSERT INTO ledger_postings (entry_id, account, seller_id, amount)
    SELECT e.id, p.account, e.seller_id, p.amount
    FROM ledger_entries e
    JOIN ({amounts}) p ON p.ref = {ref}
    WHERE {where}
"""


def post_statements(conn: Connection, month: date, now: datetime) -> int:
    """One statement_final entry per final statement of `month`; returns how many."""
    params = {"month": month, "now": now}
    written = conn.execute(text("""
        INSERT INTO ledger_entries (kind, seller_id, month, payout_id, created_at)
        SELECT 'statement_final', seller_id, month, NULL, :now FROM statements WHERE month = :month
    """), params).rowcount
    amounts = """SELECT seller_id AS ref, 'seller_payable' AS account, earnings AS amount
                 FROM statements WHERE month = :month
                 UNION ALL
                 SELECT seller_id, 'cash', -earnings FROM statements WHERE month = :month"""
    conn.execute(text(_ENTRY_POSTINGS.format(amounts=amounts, ref="e.seller_id",
                                             where="e.kind = 'statement_final' AND e.month = :month")), params)
    return written


def _payout_amounts(sign: int, payouts: str) -> str:
    return f"""SELECT id AS ref, 'seller_payable' AS account, {-sign} * gross AS amount FROM payouts WHERE {payouts}
               UNION ALL
               SELECT id, 'tax_withheld', {sign} * (income_tax + local_tax) FROM payouts WHERE {payouts}
               UNION ALL
               SELECT id, 'cash', {sign} * net FROM payouts WHERE {payouts}"""


def post_payouts(conn: Connection, month: date, payouts: str, params: dict, now: datetime, *,
                 failed: bool = False) -> int:
    """A payout entry (or, with `failed`, its reversal) for each payout selected by the SQL
    condition `payouts` (over the `payouts` table, bound by `params`); returns how many."""
    kind = "payout_failed" if failed else "payout"
    params = {**params, "month": month, "now": now, "kind": kind}
    written = conn.execute(text(f"""
        INSERT INTO ledger_entries (kind, seller_id, month, payout_id, created_at)
        SELECT :kind, seller_id, :month, id, :now FROM payouts WHERE {payouts}
    """), params).rowcount
    amounts = _payout_amounts(-1 if failed else 1, payouts)
    conn.execute(text(_ENTRY_POSTINGS.format(
        amounts=amounts, ref="e.payout_id",
        where=f"e.kind = :kind AND e.payout_id IN (SELECT id FROM payouts WHERE {payouts})")), params)
    return written


def balances(conn: Connection, seller_ids: list[int] | None = None) -> dict[int, int]:
    """Every seller's balance (Σ seller_payable postings), or only the given sellers'."""
    where = ""
    if seller_ids is not None:
        if not seller_ids:
            return {}
        where = " AND seller_id IN (" + ", ".join(str(int(s)) for s in seller_ids) + ")"
    rows = conn.execute(text("SELECT seller_id, SUM(amount) FROM ledger_postings "
                             f"WHERE account = 'seller_payable'{where} GROUP BY seller_id")).all()
    return {int(seller): int(total) for seller, total in rows}


def balance(conn: Connection, seller_id: int) -> int:
    return balances(conn, [seller_id]).get(seller_id, 0)


def check(conn: Connection) -> list[str]:
    """Every broken ledger invariant, one message each; empty when the books are right.

    1. every entry's postings sum to zero (and every entry has postings);
    2. every seller's balance = Σ earnings of their final statements − Σ gross of their
       payouts + Σ gross of their failed payouts;
    3. every final statement's totals = Σ its lines + Σ its adjustments, earnings their sum;
    4. every final statement has exactly one statement_final entry posting its earnings, and
       every payout one payout entry (and a failed one one reversal) posting its gross, taxes
       and net (gross = net + taxes), and every entry belongs to a statement or payout.
    """
    problems: list[str] = []
    for entry_id, total, count in conn.execute(text("""
            SELECT e.id, COALESCE(SUM(p.amount), 0), COUNT(p.entry_id) FROM ledger_entries e
            LEFT JOIN ledger_postings p ON p.entry_id = e.id GROUP BY e.id
            HAVING COALESCE(SUM(p.amount), 0) <> 0 OR COUNT(p.entry_id) = 0""")):
        problems.append(f"ledger entry {entry_id}: postings sum to {total}, not 0"
                        if count else f"ledger entry {entry_id} has no postings")
    for seller, book, expected in conn.execute(text("""
            SELECT seller_id, SUM(book), SUM(expected) FROM (
                SELECT seller_id, amount AS book, 0 AS expected FROM ledger_postings
                WHERE account = 'seller_payable'
                UNION ALL SELECT seller_id, 0, earnings FROM statements
                UNION ALL SELECT seller_id, 0, -gross FROM payouts
                UNION ALL SELECT seller_id, 0, gross FROM payouts WHERE state = 'failed'
            ) u GROUP BY seller_id HAVING SUM(book) <> SUM(expected)""")):
        problems.append(f"seller {seller}: ledger balance {book} but statements and payouts give {expected}")
    for month, seller, lines, adjustments, earnings, line_sum, adjustment_sum in conn.execute(text("""
            SELECT s.month, s.seller_id, s.lines_total, s.adjustments_total, s.earnings,
                   COALESCE((SELECT SUM(l.total) FROM statement_lines l
                             WHERE l.month = s.month AND l.seller_id = s.seller_id), 0),
                   COALESCE((SELECT SUM(a.amount) FROM statement_adjustments a
                             WHERE a.month = s.month AND a.seller_id = s.seller_id), 0)
            FROM statements s""")):
        if lines != line_sum or adjustments != adjustment_sum or earnings != lines + adjustments:
            problems.append(f"statement {month} of seller {seller}: lines {lines} (Σ lines {line_sum}), "
                            f"adjustments {adjustments} (Σ adjustments {adjustment_sum}), earnings {earnings}")
    for month, seller, posted in conn.execute(text("""
            SELECT s.month, s.seller_id, (SELECT SUM(p.amount) FROM ledger_entries e
                JOIN ledger_postings p ON p.entry_id = e.id AND p.account = 'seller_payable'
                WHERE e.kind = 'statement_final' AND e.month = s.month AND e.seller_id = s.seller_id)
            FROM statements s
            WHERE (SELECT COUNT(*) FROM ledger_entries e WHERE e.kind = 'statement_final'
                   AND e.month = s.month AND e.seller_id = s.seller_id) <> 1
               OR NOT EXISTS (SELECT 1 FROM ledger_entries e JOIN ledger_postings p ON p.entry_id = e.id
                   WHERE e.kind = 'statement_final' AND e.month = s.month AND e.seller_id = s.seller_id
                   AND p.account = 'seller_payable' AND p.amount = s.earnings)""")):
        problems.append(f"statement {month} of seller {seller}: its ledger entry posts {posted}, not its earnings")
    for payout_id, state, entries, reversals in conn.execute(text("""
            SELECT o.id, o.state,
                   (SELECT COUNT(*) FROM ledger_entries e WHERE e.kind = 'payout' AND e.payout_id = o.id),
                   (SELECT COUNT(*) FROM ledger_entries e WHERE e.kind = 'payout_failed' AND e.payout_id = o.id)
            FROM payouts o""")):
        if entries != 1 or reversals != (1 if state == "failed" else 0):
            problems.append(f"payout {payout_id} ({state}): {entries} payout entries, {reversals} reversals")
    for payout_id, kind in conn.execute(text("""
            SELECT o.id, e.kind FROM payouts o
            JOIN ledger_entries e ON e.payout_id = o.id
            JOIN ledger_postings p ON p.entry_id = e.id
            GROUP BY o.id, e.id, e.kind, o.gross, o.income_tax, o.local_tax, o.net
            HAVING o.gross <> o.net + o.income_tax + o.local_tax
                OR SUM(CASE WHEN p.account = 'seller_payable' THEN p.amount ELSE 0 END)
                   <> CASE WHEN e.kind = 'payout' THEN -o.gross ELSE o.gross END
                OR SUM(CASE WHEN p.account = 'tax_withheld' THEN p.amount ELSE 0 END)
                   <> CASE WHEN e.kind = 'payout' THEN 1 ELSE -1 END * (o.income_tax + o.local_tax)
                OR SUM(CASE WHEN p.account = 'cash' THEN p.amount ELSE 0 END)
                   <> CASE WHEN e.kind = 'payout' THEN o.net ELSE -o.net END""")):
        problems.append(f"payout {payout_id}: its {kind} entry does not post its gross, taxes and net")
    for entry_id, kind in conn.execute(text("""
            SELECT e.id, e.kind FROM ledger_entries e
            WHERE (e.kind = 'statement_final' AND NOT EXISTS (
                       SELECT 1 FROM statements s WHERE s.month = e.month AND s.seller_id = e.seller_id))
               OR (e.kind <> 'statement_final' AND NOT EXISTS (
                       SELECT 1 FROM payouts o WHERE o.id = e.payout_id AND o.seller_id = e.seller_id))""")):
        problems.append(f"ledger entry {entry_id} ({kind}) refers to no statement or payout of its seller")
    return problems

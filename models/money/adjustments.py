"""Adjustments (§13): a restated day of a final month moves money on the next statement.

`carry` runs inside models/money/restatements.py `record`, in the batch transaction that wrote
the restatements, so an adjustment exists exactly when its restatement does. For every
restatement that call wrote whose day lies in a final month and whose total changed, one
adjustment (seller, video, day, restatement, amount = now_total − was_total) goes to the
seller's earliest statement that is not final: the month after the last final one (months
finalize in order, statements.py). Set-based: one INSERT … SELECT.

Never lost: the month rows are share-locked first, so a finalization in progress is
waited for (then its month counts as final and the adjustment goes to the next month) and
a finalization starting later waits for this transaction (and then includes it).
Never counted twice: the adjustment's key is its restatement's id.
Zero differences (figures changed, money did not) carry nothing.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, text

from models.money.months import final_months, next_month


def carry(conn: Connection, written: str, params: dict) -> int:
    """Adjustments for the restatements selected by the SQL condition `written` (over
    `restatements r`, bound by `params`); returns how many were added."""
    finals = final_months(conn, share_lock=True)
    if not finals:
        return 0
    target: date = next_month(finals[-1])
    return conn.execute(text(f"""
        INSERT INTO statement_adjustments (restatement_id, month, seller_id, video_id, day, amount, created_at)
        SELECT r.id, :target, r.seller_id, r.video_id, r.day, r.now_total_amount - r.was_total_amount, :now
        FROM restatements r
        WHERE {written} AND r.day >= :first_final AND r.day < :target
          AND r.now_total_amount <> r.was_total_amount"""),
        {**params, "target": target, "first_final": finals[0]}).rowcount

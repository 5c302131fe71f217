"""Payout runs (§13): once per final month, the whole balance of every eligible seller.

A run for month M (admin) locks every statement month row (serialising runs with each
other and with finalization; a second run for M finds the first and is refused, and the
unique `payout_runs.month` is the backstop), reads the balances from the ledger and:
- pays a seller whose balance ≥ PAYOUT_THRESHOLD_WON, with complete payout details, a
  verified e-mail (`is_verified`) and no open hold: gross = balance, withholding per
  withholding.py on the details' kind (individual | business), net = gross − taxes;
- carries everyone else with a balance or a statement of M, with the reason (negative
  balance, on hold, below threshold, no payout details, e-mail not verified).
Payout ledger entries are posted in the same transaction (ledger.py has the signs).

States: scheduled → sent (the transfer file was exported) → paid | failed. Failed returns
the gross to the balance and reverses the taxes (a payout_failed entry) in the
transaction that marks it. The result CSV is validated as a whole and applied in one
transaction or not at all. Every function returns what happened, so a caller can mail.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime

from cryptography.fernet import MultiFernet
from sqlalchemy import Connection, Engine, insert, select, text
from sqlalchemy.orm import Session

from models.accounts.users import Role, User
from models.base import utcnow
from models.errors import DomainError
from models.money import ledger
from models.money.months import month_label, parse_month
from models.money.payout_details import decrypt_account
from models.money.tables import (
    Payout,
    PayoutCarry,
    PayoutDetails,
    PayoutHold,
    PayoutRun,
    TransferExport,
)
from models.money.withholding import withhold
from models.sql_dialect import Dialect

TRANSFER_HEADER = ("bank_code", "account_number", "holder", "net", "reference")
RESULT_HEADER = ("reference", "status", "amount", "reason")


class PayoutRefused(DomainError):
    kind = "conflict"
    code = "payout_refused"


class NotAllowed(DomainError):
    kind = "forbidden"
    code = "admins_only"


class BadResultFile(DomainError):
    kind = "invalid"
    code = "bad_result_file"


def is_verified(user: User) -> bool:
    """Whether the seller's e-mail is verified: the account's own rule (`User.is_verified`,
    revision 0008), named here for the payout rules."""
    return user.is_verified


def reference_for(month: date, seller_id: int) -> str:
    return f"PS-{month.year:04d}{month.month:02d}-{seller_id}"


@dataclass(frozen=True)
class RunResult:
    run_id: int
    month: date
    payouts: int
    gross: int
    net: int
    carried: dict[int, str] = field(default_factory=dict)  # seller -> reason


def _lock_months(conn: Connection) -> dict[date, str]:
    tail = " FOR UPDATE" if Dialect(conn).mysql else ""
    if not Dialect(conn).mysql:  # SQLite: take the write lock before reading
        conn.execute(text("UPDATE statement_months SET state = state"))
    return {m if isinstance(m, date) else date.fromisoformat(str(m)): s for m, s in conn.execute(
        text(f"SELECT month, state FROM statement_months ORDER BY month{tail}"))}


# Why a balance is carried, in words for the seller (statements, dashboard, mails, console).
CARRY_REASONS: dict[str, str] = {
    "negative_balance": "the balance is negative (a later month's earnings make it up first)",
    "on_hold": "payouts are on hold for this account (an administrator is reviewing it)",
    "below_threshold": "the balance is below the payout threshold",
    "no_payout_details": "no payout details are on file",
    "email_not_verified": "the account's e-mail address is not verified",
}


def carry_reason(balance: int, threshold: int, held: bool, details: PayoutDetails | None, user: User | None) -> str | None:
    if balance < 0:
        return "negative_balance"
    if held:
        return "on_hold"
    if balance < threshold:
        return "below_threshold"
    if details is None:
        return "no_payout_details"
    if user is None or not is_verified(user):
        return "email_not_verified"
    return None


def create_payout_run(engine: Engine, month: date | str, *, threshold_won: int, by: int | None = None,
                      now: datetime | None = None) -> RunResult:
    """Create month's payout run (see the module docstring; `threshold_won` is
    PAYOUT_THRESHOLD_WON); commits."""
    month = parse_month(month)
    now = now or utcnow()
    with engine.begin() as conn:
        months = _lock_months(conn)
        if months.get(month) != "final":
            raise PayoutRefused(f"{month_label(month)} is not final: no payout run before its statements are")
        later = conn.execute(text("SELECT month FROM payout_runs WHERE month >= :month ORDER BY month"),
                             {"month": month}).scalars().first()
        if later is not None:
            raise PayoutRefused(f"a payout run for {month_label(parse_month(later))} already exists"
                                if parse_month(later) != month else
                                f"the payout run of {month_label(month)} already exists", code="payout_run_exists")
        balances = ledger.balances(conn)
        with_statement = set(conn.execute(text("SELECT seller_id FROM statements WHERE month = :month"),
                                          {"month": month}).scalars())
        sellers = sorted({s for s, b in balances.items() if b != 0} | with_statement)
        session = Session(bind=conn)
        users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(sellers)))} if sellers else {}
        details = {d.seller_id: d for d in session.scalars(
            select(PayoutDetails).where(PayoutDetails.seller_id.in_(sellers)))} if sellers else {}
        held = set(session.scalars(select(PayoutHold.seller_id).where(
            PayoutHold.seller_id.in_(sellers), PayoutHold.released_at.is_(None)))) if sellers else set()
        run_id = conn.execute(insert(PayoutRun).values(month=month, created_at=now, created_by=by)) \
            .inserted_primary_key[0]
        payouts, carried = [], {}
        for seller in sellers:
            balance = balances.get(seller, 0)
            reason = carry_reason(balance, threshold_won, seller in held, details.get(seller),
                                   users.get(seller))
            if reason is not None:
                carried[seller] = reason
                continue
            d = details[seller]
            w = withhold(balance, d.kind)
            payouts.append(dict(run_id=run_id, seller_id=seller, reference=reference_for(month, seller), kind=d.kind,
                                gross=w.gross, income_tax=w.income_tax, local_tax=w.local_tax, net=w.net,
                                bank_code=d.bank_code, account_encrypted=d.account_encrypted,
                                holder_name=d.holder_name, state="scheduled"))
        if payouts:
            conn.execute(insert(Payout), payouts)
            ledger.post_payouts(conn, month, "run_id = :run_id", {"run_id": run_id}, now)
        if carried:
            conn.execute(insert(PayoutCarry), [dict(run_id=run_id, seller_id=s, balance=balances.get(s, 0), reason=r)
                                               for s, r in carried.items()])
    return RunResult(run_id, month, len(payouts), sum(p["gross"] for p in payouts), sum(p["net"] for p in payouts),
                     carried)


def place_hold(session: Session, seller_id: int, reason: str, admin: User) -> int:
    """Hold a seller's payouts (admins only) until released; returns the hold's id; commits."""
    if admin.role != Role.ADMIN:
        raise NotAllowed("only admins may hold payouts")
    if not reason.strip():
        raise PayoutRefused("a hold needs a reason", kind="invalid", code="hold_needs_reason")
    hold = PayoutHold(seller_id=seller_id, reason=reason.strip()[:500], created_by=admin.id, created_at=utcnow())
    session.add(hold)
    session.commit()
    return hold.id


def release_hold(session: Session, hold_id: int, admin: User) -> bool:
    """Release a hold (admins only); False when it was already released; commits."""
    if admin.role != Role.ADMIN:
        raise NotAllowed("only admins may release a payout hold")
    hold = session.get(PayoutHold, hold_id, with_for_update=True)
    if hold is None:
        raise PayoutRefused(f"there is no payout hold {hold_id}", kind="not_found", code="no_such_hold")
    if hold.released_at is not None:
        session.rollback()
        return False
    hold.released_at = utcnow()
    session.commit()
    return True


# ------------------------------------------------------------------ transfer file and results


def transfer_file(engine: Engine, cipher: MultiFernet, run_id: int, admin: User, *,
                  now: datetime | None = None) -> str:
    """The bank transfer CSV of a run's unsettled payouts (admins only; every export is
    logged): bank code, account number (decrypted), holder, net, reference. Scheduled
    payouts become `sent`; commits."""
    if admin.role != Role.ADMIN:
        raise NotAllowed("only admins may download a transfer file")
    now = now or utcnow()
    with engine.begin() as conn:
        rows = conn.execute(select(Payout).where(Payout.run_id == run_id, Payout.state.in_(["scheduled", "sent"]))
                            .order_by(Payout.id).with_for_update()).all()
        if conn.execute(select(PayoutRun.id).where(PayoutRun.id == run_id)).first() is None:
            raise PayoutRefused(f"there is no payout run {run_id}", kind="not_found", code="no_such_run")
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(TRANSFER_HEADER)
        for p in rows:
            writer.writerow((p.bank_code, decrypt_account(cipher, p.account_encrypted), p.holder_name, p.net,
                             p.reference))
        conn.execute(text("UPDATE payouts SET state = 'sent', sent_at = :now WHERE run_id = :run AND state = 'scheduled'"),
                     {"now": now, "run": run_id})
        conn.execute(insert(TransferExport).values(run_id=run_id, exported_by=admin.id, exported_at=now,
                                                   rows=len(rows)))
    return out.getvalue()


@dataclass(frozen=True)
class Settled:
    """Payouts a result marked, for the caller's mail: (reference, seller, net) each."""

    paid: list[tuple[str, int, int]]
    failed: list[tuple[str, int, int, str]]


def _apply(conn: Connection, results: list[tuple[str, str, int | None, str]], now: datetime) -> Settled:
    """Validate every (reference, status, amount or None, reason) against the locked payouts and
    apply them all, or raise with nothing applied (the caller's transaction rolls back)."""
    refs = [r[0] for r in results]
    if len(set(refs)) != len(refs):
        raise BadResultFile("a reference appears twice")
    found = {p.reference: p for p in conn.execute(
        select(Payout).where(Payout.reference.in_(refs)).with_for_update())} if refs else {}
    problems = []
    for reference, status, amount, reason in results:
        p = found.get(reference)
        if p is None:
            problems.append(f"{reference}: unknown reference")
        elif status not in ("paid", "failed"):
            problems.append(f"{reference}: status must be paid or failed, not {status!r}")
        elif amount is not None and amount != p.net:
            problems.append(f"{reference}: amount {amount} does not match the payout's net {p.net}")
        elif p.state != "sent":
            problems.append(f"{reference}: the payout is {p.state}, only a sent payout can be marked {status}")
        elif status == "failed" and not reason.strip():
            problems.append(f"{reference}: a failed payout needs a reason")
    if problems:
        raise BadResultFile("nothing was applied: " + "; ".join(problems[:20]))
    paid = [found[r].id for r, s, _, _ in results if s == "paid"]
    failed = [(found[r].id, reason.strip()[:500]) for r, s, _, reason in results if s == "failed"]
    if paid:
        conn.execute(text("UPDATE payouts SET state = 'paid', settled_at = :now WHERE id IN ("
                          + ", ".join(str(int(i)) for i in paid) + ")"), {"now": now})
    for payout_id, reason in failed:
        conn.execute(text("UPDATE payouts SET state = 'failed', settled_at = :now, failure_reason = :reason "
                          "WHERE id = :id"), {"now": now, "reason": reason, "id": payout_id})
    if failed:
        by_month: dict[date, list[int]] = {}
        for payout_id, _ in failed:
            run_month = conn.execute(text("SELECT r.month FROM payouts p JOIN payout_runs r ON r.id = p.run_id "
                                          "WHERE p.id = :id"), {"id": payout_id}).scalar()
            by_month.setdefault(parse_month(run_month), []).append(payout_id)
        for run_month, ids in by_month.items():
            ledger.post_payouts(conn, run_month, "id IN (" + ", ".join(str(int(i)) for i in ids) + ")", {}, now,
                                failed=True)
    return Settled([(r, found[r].seller_id, found[r].net) for r, s, _, _ in results if s == "paid"],
                   [(r, found[r].seller_id, found[r].net, reason) for r, s, _, reason in results if s == "failed"])


def record_result(engine: Engine, reference: str, status: str, *, reason: str = "",
                  now: datetime | None = None) -> Settled:
    """Mark one sent payout paid or failed (a failure returns its gross to the balance); commits."""
    with engine.begin() as conn:
        return _apply(conn, [(reference, status, None, reason)], now or utcnow())


def import_results(engine: Engine, content: str, *, now: datetime | None = None) -> Settled:
    """Apply a bank's result CSV (reference, status, amount, reason), all rows or none; commits."""
    reader = csv.reader(io.StringIO(content))
    header = next(reader, None)
    if header is None or tuple(h.strip().lower() for h in header) != RESULT_HEADER:
        raise BadResultFile("the first line must be: " + ",".join(RESULT_HEADER))
    results = []
    for number, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(RESULT_HEADER):
            raise BadResultFile(f"line {number}: expected {len(RESULT_HEADER)} fields, got {len(row)}")
        reference, status, amount, reason = (cell.strip() for cell in row)
        if not amount.isdigit():
            raise BadResultFile(f"line {number}: the amount must be whole won, got {amount!r}")
        results.append((reference, status.lower(), int(amount), reason))
    if not results:
        raise BadResultFile("the file has no results")
    with engine.begin() as conn:
        return _apply(conn, results, now or utcnow())

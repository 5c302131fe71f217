"""The tables of §13 money: statement months, final statements with their lines and
adjustments, the ledger, payout details, holds and payout runs.

Money is BIGINT whole won. Final statements, their lines, adjustments and ledger rows are
written once, set-based, in the transaction that creates them; no code path updates or
deletes them (the services in this package are the only writers). The rules live in the
modules named after them (statements, adjustments, ledger, payouts, payout_details).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, PrimaryKeyConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TABLE_ARGS, Base, BigId, UTCDateTime, enum_column_type, utcnow


class MonthState(enum.StrEnum):
    OPEN = "open"
    FINAL = "final"


class StatementMonth(Base):
    """One row per calendar month: the lock finalization and adjustments serialise on.

    `last_refusal` says why the latest finalization attempt was refused (the days not final),
    for the operations console and `/healthz/batch`.
    """

    __tablename__ = "statement_months"
    __table_args__ = (TABLE_ARGS,)

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # the first day of the month
    state: Mapped[MonthState] = mapped_column(enum_column_type(MonthState, "statement_month_state"),
                                              default=MonthState.OPEN)
    finalized_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finalized_by: Mapped[int | None] = mapped_column(BigId)
    last_refusal: Mapped[str | None] = mapped_column(String(1000))
    refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Statement(Base):
    """A seller's final statement of a month: earnings = lines_total + adjustments_total."""

    __tablename__ = "statements"
    __table_args__ = (PrimaryKeyConstraint("month", "seller_id"), Index(None, "seller_id", "month"), TABLE_ARGS)

    month: Mapped[date] = mapped_column(Date)
    seller_id: Mapped[int] = mapped_column(BigId)
    lines_total: Mapped[int] = mapped_column(BigInteger)
    adjustments_total: Mapped[int] = mapped_column(BigInteger)
    earnings: Mapped[int] = mapped_column(BigInteger)
    finalized_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StatementLine(Base):
    """One video's month on a final statement (Σ of its daily settlements)."""

    __tablename__ = "statement_lines"
    __table_args__ = (PrimaryKeyConstraint("month", "seller_id", "video_id"), TABLE_ARGS)

    month: Mapped[date] = mapped_column(Date)
    seller_id: Mapped[int] = mapped_column(BigId)
    video_id: Mapped[int] = mapped_column(BigId)
    views: Mapped[int] = mapped_column(BigInteger)
    ad_views: Mapped[int] = mapped_column(BigInteger)
    video_amount: Mapped[int] = mapped_column(BigInteger)
    ad_amount: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)


class Adjustment(Base):
    """A restatement of a day in a final month, carried to the seller's earliest open month.

    Keyed by the restatement: one restatement can never be counted twice.
    """

    __tablename__ = "statement_adjustments"
    __table_args__ = (Index(None, "month", "seller_id"), TABLE_ARGS)

    restatement_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    month: Mapped[date] = mapped_column(Date)  # the statement it is added to
    seller_id: Mapped[int] = mapped_column(BigId)
    video_id: Mapped[int] = mapped_column(BigId)
    day: Mapped[date] = mapped_column(Date)  # the restated day (in an earlier, final month)
    amount: Mapped[int] = mapped_column(BigInteger)  # now_total − was_total
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EntryKind(enum.StrEnum):
    STATEMENT_FINAL = "statement_final"
    PAYOUT = "payout"
    PAYOUT_FAILED = "payout_failed"


class Account(enum.StrEnum):
    SELLER_PAYABLE = "seller_payable"
    TAX_WITHHELD = "tax_withheld"
    CASH = "cash"


class LedgerEntry(Base):
    """One balance change; its postings sum to zero. The unique keys make each statement and
    payout post at most once, whatever retries or races happen."""

    __tablename__ = "ledger_entries"
    __table_args__ = (UniqueConstraint("kind", "month", "seller_id"), UniqueConstraint("kind", "payout_id"),
                      Index(None, "seller_id"), TABLE_ARGS)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[EntryKind] = mapped_column(enum_column_type(EntryKind, "ledger_entry_kind"))
    seller_id: Mapped[int] = mapped_column(BigId)
    month: Mapped[date] = mapped_column(Date)
    payout_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerPosting(Base):
    __tablename__ = "ledger_postings"
    __table_args__ = (PrimaryKeyConstraint("entry_id", "account"), Index(None, "seller_id", "account"), TABLE_ARGS)

    entry_id: Mapped[int] = mapped_column(BigId)
    account: Mapped[Account] = mapped_column(enum_column_type(Account, "ledger_account"))
    seller_id: Mapped[int] = mapped_column(BigId)
    amount: Mapped[int] = mapped_column(BigInteger)


class PayoutDetails(Base):
    """Where a seller's money goes. The account number is stored only encrypted (Fernet) and
    as its last 4 digits, the only part ever shown."""

    __tablename__ = "payout_details"
    __table_args__ = (TABLE_ARGS,)

    seller_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    legal_name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(12))  # individual | business
    business_number: Mapped[str | None] = mapped_column(String(10))
    bank_code: Mapped[str] = mapped_column(String(3))
    account_encrypted: Mapped[str] = mapped_column(Text)
    account_last4: Mapped[str] = mapped_column(String(4))
    holder_name: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PayoutDetailsChange(Base):
    """Who changed a seller's payout details and when (the fields' names, never the values)."""

    __tablename__ = "payout_details_changes"
    __table_args__ = (Index(None, "seller_id"), TABLE_ARGS)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    seller_id: Mapped[int] = mapped_column(BigId)
    changed_by: Mapped[int] = mapped_column(BigId)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fields: Mapped[str] = mapped_column(String(200))


class PayoutHold(Base):
    __tablename__ = "payout_holds"
    __table_args__ = (Index(None, "seller_id"), TABLE_ARGS)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    seller_id: Mapped[int] = mapped_column(BigId)
    reason: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PayoutRun(Base):
    """The payouts of one final month; the unique month makes a second run impossible."""

    __tablename__ = "payout_runs"
    __table_args__ = (TABLE_ARGS,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    month: Mapped[date] = mapped_column(Date, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(BigId)


class PayoutState(enum.StrEnum):
    SCHEDULED = "scheduled"
    SENT = "sent"
    PAID = "paid"
    FAILED = "failed"


class Payout(Base):
    """One seller's payout of a run, with the bank details it was sent to (a snapshot)."""

    __tablename__ = "payouts"
    __table_args__ = (UniqueConstraint("run_id", "seller_id"), Index(None, "seller_id"), TABLE_ARGS)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(BigId)
    seller_id: Mapped[int] = mapped_column(BigId)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(12))
    gross: Mapped[int] = mapped_column(BigInteger)
    income_tax: Mapped[int] = mapped_column(BigInteger)
    local_tax: Mapped[int] = mapped_column(BigInteger)
    net: Mapped[int] = mapped_column(BigInteger)
    bank_code: Mapped[str] = mapped_column(String(3))
    account_encrypted: Mapped[str] = mapped_column(Text)
    holder_name: Mapped[str] = mapped_column(String(100))
    state: Mapped[PayoutState] = mapped_column(enum_column_type(PayoutState, "payout_state"),
                                               default=PayoutState.SCHEDULED)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # paid or failed
    failure_reason: Mapped[str | None] = mapped_column(String(500))


class PayoutCarry(Base):
    """A seller of the run's month who was not paid, and why (their balance is carried)."""

    __tablename__ = "payout_carries"
    __table_args__ = (PrimaryKeyConstraint("run_id", "seller_id"), TABLE_ARGS)

    run_id: Mapped[int] = mapped_column(BigId)
    seller_id: Mapped[int] = mapped_column(BigId)
    balance: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(40))


class TransferExport(Base):
    """Every download of a run's transfer file (it carries decrypted account numbers)."""

    __tablename__ = "payout_transfer_exports"
    __table_args__ = (Index(None, "run_id"), TABLE_ARGS)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(BigId)
    exported_by: Mapped[int] = mapped_column(BigId)
    exported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rows: Mapped[int] = mapped_column(BigInteger)

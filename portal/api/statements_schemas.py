"""Typed request and response schemas of the §13 money API (portal/api/statements.py),
pydantic v2, documented in /api/v1/openapi.json by spectree. Amounts are whole won
(integers); instants are UTC (ISO 8601); months are `YYYY-MM`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

MONTH = {"pattern": r"^\d{4}-\d{2}$", "examples": ["2026-11"]}


class StatementSummary(BaseModel):
    month: str = Field(json_schema_extra=MONTH)
    status: Literal["final", "estimated"]
    earnings: int


class StatementList(BaseModel):
    seller_id: int
    statements: list[StatementSummary] = Field(description="Newest first: the open months (estimated), then the final ones.")


class DayNotFinal(BaseModel):
    day: date
    status: str = Field(description="live, stale or pending.")


class StatementLineOut(BaseModel):
    video_id: int
    title: str | None
    views: int
    ad_views: int
    video_amount: int
    ad_amount: int
    total: int


class AdjustmentOut(BaseModel):
    restatement_id: int
    video_id: int
    day: date = Field(description="The restated day, in an earlier final month.")
    amount: int = Field(description="now − was, may be negative.")


class PayoutOut(BaseModel):
    month: str = Field(json_schema_extra=MONTH)
    state: Literal["scheduled", "sent", "paid", "failed", "carried"]
    gross: int = Field(description="The balance paid (or, when carried, the balance carried forward).")
    income_tax: int
    local_tax: int
    net: int
    reference: str | None
    sent_at: datetime | None
    settled_at: datetime | None
    reason: str | None = Field(description="Why it failed, or why the balance was carried.")


class StatementOut(BaseModel):
    seller_id: int
    month: str = Field(json_schema_extra=MONTH)
    status: Literal["final", "estimated"]
    days_not_final: list[DayNotFinal] = Field(description="Estimated statements: the days not computed yet.")
    lines: list[StatementLineOut]
    adjustments: list[AdjustmentOut]
    lines_total: int
    adjustments_total: int
    earnings: int
    brought_forward: int = Field(description="The balance carried into this month.")
    balance_after: int
    payout: PayoutOut | None = Field(description="This month's payout or carry; null while the month has no run.")


class BalanceOut(BaseModel):
    seller_id: int
    balance: int = Field(description="Unpaid earnings of final statements (the ledger).")
    this_month: int = Field(description="The current month's estimate so far.")
    pending: int = Field(description="Earlier months not final yet (estimated).")
    month: str = Field(json_schema_extra=MONTH)
    payout_after: date = Field(description="When the current month's statement becomes final; its payout run follows.")
    no_payout_reason: str | None = Field(description="Why no payout is expected; null when one is.")


class PayoutList(BaseModel):
    seller_id: int
    payouts: list[PayoutOut]


class FinalizeOut(BaseModel):
    month: str = Field(json_schema_extra=MONTH)
    finalized: bool = Field(description="False: it was already final (nothing changed).")
    statements: int
    earnings: int


class PayoutRunBody(BaseModel):
    month: str = Field(json_schema_extra=MONTH, description="A final month, YYYY-MM.")


class RunPayoutOut(BaseModel):
    id: int
    seller_id: int
    reference: str
    kind: Literal["individual", "business"]
    gross: int
    income_tax: int
    local_tax: int
    net: int
    state: Literal["scheduled", "sent", "paid", "failed"]
    sent_at: datetime | None
    settled_at: datetime | None
    failure_reason: str | None


class RunCarryOut(BaseModel):
    seller_id: int
    balance: int
    reason: str


class PayoutRunOut(BaseModel):
    id: int
    month: str = Field(json_schema_extra=MONTH)
    created_at: datetime
    gross: int
    taxes: int
    net: int
    payouts: list[RunPayoutOut] = Field(description="Account numbers are never in the API (the transfer file only).")
    carried: list[RunCarryOut]



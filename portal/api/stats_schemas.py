"""Typed request and response schemas of the statistics and settlement API (pydantic v2).

spectree validates the endpoints' query strings with the request models (portal/api/stats.py)
and the answers with the response models, and builds /api/v1/openapi.json from the same
classes, so the document describes exactly what is checked and returned.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field, RootModel

from portal.api.paging_schemas import PageFields
from portal.api.skip_schemas import SkipFigures
from portal.queries.fields import Granularity

# What a seller is shown of a day (models/figures/data_status.py `seller_day_statuses`).
Status = Literal["live", "final", "stale", "pending", "no_data"]


# ---------------------------------------------------------------------------------- responses


class Change(BaseModel):
    value: int
    previous: int
    delta: int
    pct: float | None = Field(description="Change in percent; null when the previous period is zero.")


class Card(BaseModel):
    label: Literal["yesterday", "month_to_date"]
    first: date
    last: date
    previous_first: date
    previous_last: date
    status: Status
    figures: dict[str, Change] = Field(description="views, watch_seconds, ad_views, video_amount, ad_amount, "
                                                   "total_amount (money in whole won).")


class TierProgress(BaseModel):
    video_id: int
    title: str
    basis: Literal["daily", "lifetime"]
    plan: str
    counted_since: date | None
    count: int
    rate: str
    next_rate: str | None
    to_next: int | None


class Summary(BaseModel):
    today: date
    timezone: str
    cards: list[Card]
    tier_progress: list[TierProgress]


class TopItem(BaseModel):
    rank: int
    video_id: int
    title: str
    value: int


class Top5(BaseModel):
    metric: Literal["views", "watch_seconds"]
    period: Granularity
    first: date
    last: date
    status: Status
    items: list[TopItem]


class SettlementLine(BaseModel):
    period_start: date
    period_end: date
    video_id: int
    title: str
    views: int
    ad_views: int
    video_amount: int
    ad_amount: int
    total_amount: int
    restated: bool = Field(False, description="A day of this line was restated; see its receipt.")


class PeriodTotal(BaseModel):
    period_start: date
    period_end: date
    views: int
    ad_views: int
    video_amount: int
    ad_amount: int
    total_amount: int


class Totals(BaseModel):
    views: int
    ad_views: int
    video_amount: int
    ad_amount: int
    total_amount: int


class SettlementPage(PageFields):
    granularity: Granularity
    first: date
    last: date
    sort: str
    descending: bool
    total_rows: int
    status: Status
    rows: list[SettlementLine]
    periods: list[PeriodTotal]
    totals: Totals


class Figures(BaseModel):
    views: int
    watch_seconds: int
    ad_views: int
    video_amount: int
    ad_amount: int
    total_amount: int


class Restatement(BaseModel):
    id: int
    day: date
    video_id: int
    run_id: int | None
    recorded_at: str = Field(description="UTC instant (ISO 8601).")
    reason: Literal["events_changed", "price_plan", "earlier_day"]
    reason_text: str
    title: str | None = Field(description="The video's title.")
    was: Figures
    now: Figures
    net_change: int = Field(description="now.total_amount − was.total_amount, whole won (negative: worth less now).")


class Bracket(BaseModel):
    from_unit: int
    to_unit: int | None
    units: int
    unit_price: str = Field(description="Won per unit, exact decimal.")
    exact: str = Field(description="units × unit price before flooring.")
    amount: int = Field(description="Floored to whole won.")


class Units(BaseModel):
    units: int
    before: int = Field(description="Units counted before the day (lifetime basis; 0 on the daily basis).")
    brackets: list[Bracket]
    sum: int


class Plan(BaseModel):
    id: int
    name: str
    effective_from: date
    basis: Literal["daily", "lifetime"]


class DayReceipt(BaseModel):
    kind: Literal["day"]
    video_id: int
    title: str
    day: date
    plan: Plan
    views: Units
    ad_views: Units
    computed_total: int
    stored: dict[str, int]
    restatements: list[Restatement]


class ReceiptDay(BaseModel):
    day: date
    views: int
    ad_views: int
    video_amount: int
    ad_amount: int
    total_amount: int


class PeriodReceipt(BaseModel):
    kind: Literal["week", "month"]
    video_id: int
    title: str
    first: date
    last: date
    days: list[ReceiptDay]
    sum: Totals
    stored: Totals | None
    restatements: list[Restatement]


class Receipt(RootModel[DayReceipt | PeriodReceipt]):
    """A day's receipt (`kind: day`) or a week's or month's (`kind: week|month`)."""


class SeriesDay(Figures):
    day: date
    status: Status
    rejected_own_video: int
    rejected_repeat: int


class Series(BaseModel):
    first: date
    last: date
    video_id: int | None
    days: list[SeriesDay]
    totals: Figures


class VideoSeries(Series):
    ad_skips: SkipFigures = Field(description="Skips of the ads shown in this video's breaks over the range.")


class LedgerDay(BaseModel):
    day: date
    status: Status
    started: int
    counted: int
    own_video: int
    repeat_within_30s: int
    avg_watch_seconds: int


class Ledger(BaseModel):
    first: date
    last: date
    video_id: int
    days: list[LedgerDay]


class RestatementList(PageFields):
    items: list[Restatement] = Field(description="This page, newest first.")
    total_rows: int = Field(description="Restatements matching the query, on every page.")
    net_change_total: int = Field(description="Σ net_change of every matching restatement (all pages), whole won.")

"""Typed request and response schemas of the statistics and settlement API (pydantic v2).

spectree validates the endpoints' query strings with the request models (portal/api/stats.py)
and the answers with the response models, and builds /api/v1/openapi.json from the same
classes, so the document describes exactly what is checked and returned.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

from models.business_time import today
from portal.api.skip_schemas import SkipFigures
from portal.numbers import MAX_ID, MAX_PAGE
from portal.settings import settings

MAX_RANGE_DAYS = 366
# The days the API accepts: far around any real data, and far enough from date.max that the
# week and month arithmetic (and a 366-day range) never overflows into a 500.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)
Day = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Status = Literal["live", "final", "stale", "pending"]
Granularity = Literal["day", "week", "month"]


class _Query(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    seller_id: Id | None = Field(None, description="Admins only: one seller's figures (default: platform).")

    @model_validator(mode="before")
    @classmethod
    def _first_of_repeated(cls, data: Any) -> Any:
        """A repeated parameter counts once, by its first value (as `request.args.get` reads it)."""
        if isinstance(data, dict):
            return {k: v[0] if isinstance(v, list) and v else v for k, v in data.items()}
        return data


class _Range(_Query):
    first: Day = Field(alias="from", description="First business day (YYYY-MM-DD).")
    last: Day = Field(alias="to", description="Last business day (YYYY-MM-DD), at most 366 days after `from`.")

    @model_validator(mode="after")
    def _ordered_and_bounded(self) -> _Range:
        if self.last < self.first:
            raise ValueError("the end date is before the start date")
        if (self.last - self.first).days + 1 > MAX_RANGE_DAYS:
            raise ValueError(f"a range covers at most {MAX_RANGE_DAYS} days")
        return self


class SummaryQuery(_Query):
    pass


class Top5Query(_Query):
    metric: Literal["views", "watch_seconds"] = "views"
    period: Granularity = "day"
    day: Day | None = Field(None, alias="date", description="Any day of the period (default: yesterday).")


class SettlementsQuery(_Range):
    granularity: Granularity = "day"
    video_id: Id | None = None
    sort: Literal["period", "video", "views", "ad_views", "video_amount", "ad_amount", "total_amount"] = "period"
    direction: Literal["asc", "desc"] = Field("asc", alias="dir")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(50, ge=1, le=500)


class ReceiptQuery(_Query):
    granularity: Granularity = "day"


def _thirty_days_ago() -> date:
    return today(settings().tz) - timedelta(days=29)


def _today() -> date:
    return today(settings().tz)


class SeriesQuery(_Range):
    """A range that defaults to the 30 days ending today (business time)."""

    first: Day = Field(default_factory=_thirty_days_ago, alias="from",
                        description="First business day (YYYY-MM-DD; default: 29 days before today).")
    last: Day = Field(default_factory=_today, alias="to",
                       description="Last business day (YYYY-MM-DD; default: today), at most 366 days after `from`.")


class RestatementsQuery(_Query):
    first: Day | None = Field(None, alias="from")
    last: Day | None = Field(None, alias="to")
    video_id: Id | None = None


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


class SettlementPage(BaseModel):
    granularity: Granularity
    first: date
    last: date
    sort: str
    descending: bool
    page: int
    per_page: int
    pages: int
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
    was: Figures
    now: Figures


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


class RestatementList(BaseModel):
    items: list[Restatement]

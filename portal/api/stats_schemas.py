"""Typed request and response schemas of the statistics and settlement API (pydantic v2).

spectree validates the endpoints' query strings with the request models (portal/api/stats.py)
and the answers with the response models, and builds /api/v1/openapi.json from the same
classes, so the document describes exactly what is checked and returned.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from flask import has_app_context
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from models.business_time import today
from models.date_window import DateOutOfRange, DayWindow, day_window
from portal.api.openapi import RequestInvalid, first_problem
from portal.api.skip_schemas import SkipFigures
from portal.numbers import MAX_ID, MAX_PAGE
from portal.settings import settings

MAX_RANGE_DAYS = 366
# The key of the validation context under which a caller outside a Flask app context (the read
# fast path, portal/api/read_fast_path.py) hands over the window of its app.
WINDOW = "day_window"


def _window(info: ValidationInfo) -> DayWindow:
    given = (info.context or {}).get(WINDOW)
    if given is not None:
        return given
    if not has_app_context():
        raise ValueError("no date window to check against")  # never silently unchecked
    return day_window(settings())


def in_window(value: date, info: ValidationInfo) -> date:
    """The one date window (models/date_window.py), for every date of every query model: far
    from it the week and month arithmetic overflows (a 500), and no real data lives there."""
    try:
        return _window(info).check(value, "the date")
    except DateOutOfRange as exc:
        raise ValueError(exc.message) from None


Day = Annotated[date, AfterValidator(in_window)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# What a seller is shown of a day (models/data_status.py `seller_day_statuses`).
Status = Literal["live", "final", "stale", "pending", "no_data"]
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


def ordered_and_bounded(first: date, last: date) -> None:
    """A range's rule for every query model: ordered, and at most MAX_RANGE_DAYS days."""
    if last < first:
        raise ValueError("the end date is before the start date")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise ValueError(f"a range covers at most {MAX_RANGE_DAYS} days")


# The base of every figures query, public for the audience models (portal/api/audience_schemas.py).
ScopedQuery = _Query


class _Range(_Query):
    first: Day = Field(alias="from", description="First business day (YYYY-MM-DD).")
    last: Day = Field(alias="to", description="Last business day (YYYY-MM-DD), at most 366 days after `from`.")

    @model_validator(mode="after")
    def _ordered_and_bounded(self) -> _Range:
        ordered_and_bounded(self.first, self.last)
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


class SettlementsPageQuery(SettlementsQuery):
    """The settlements page: the API's query with the page's default range (the 30 days up to
    yesterday)."""

    first: Day = Field(default_factory=lambda: _today() - timedelta(days=30), alias="from")
    last: Day = Field(default_factory=lambda: _today() - timedelta(days=1), alias="to")


RangePreset = Literal["7", "28", "90", "this_month", "last_month", "custom"]


class DashboardQuery(Top5Query):
    """The dashboard page: its Top-5 switches (the API's Top-5 query) and the revenue chart's
    range, a preset or, with `range=custom`, `from` / `to`."""

    range: RangePreset = "28"
    first: Day | None = Field(None, alias="from")
    last: Day | None = Field(None, alias="to")


_DAY = TypeAdapter(Day)


def path_day(raw: str, status: int) -> date:
    """A day in a URL path (`/settlements/{video_id}/{day}`), checked as the query models' days
    are; RequestInvalid with `status` (422 for the API, 400 for a page) otherwise."""
    try:
        return _DAY.validate_python(raw[:40])
    except ValidationError as exc:
        raise RequestInvalid("day: " + first_problem(exc).partition(": ")[2], status) from None


def query_of(model: type[BaseModel], args: Any, status: int = 400) -> Any:
    """A page's query string validated by the API's query model of the same question (one parser
    for page and endpoint); RequestInvalid (`status`, 400 for a page) names the first problem."""
    given = args.to_dict(flat=False) if hasattr(args, "to_dict") else dict(args)
    # A page's form sends an empty field for "not chosen" (e.g. all sellers): its default applies.
    given = {name: value for name, value in given.items() if value not in ("", [""])}
    try:
        return model.model_validate(given)
    except ValidationError as exc:
        first = exc.errors()[0] if exc.errors() else {}
        loc = first.get("loc", ())
        raise RequestInvalid(first_problem(exc), status, field=str(loc[0]) if loc else None,
                             problem=_sentence(str(first.get("msg", "")))) from None


def _sentence(msg: str) -> str:
    """A pydantic message as a sentence for a form ("Value error, the end date is …" → "The end date is ….")."""
    text = msg.removeprefix("Value error, ").strip() or "This value is not valid"
    text = text[0].upper() + text[1:]
    return text if text.endswith(".") else text + "."


class RestatementsQuery(_Query):
    first: Day | None = Field(None, alias="from")
    last: Day | None = Field(None, alias="to")
    video_id: Id | None = None
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(50, ge=1, le=500)


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


class RestatementList(BaseModel):
    items: list[Restatement] = Field(description="This page, newest first.")
    page: int
    per_page: int
    pages: int
    total_rows: int = Field(description="Restatements matching the query, on every page.")
    net_change_total: int = Field(description="Σ net_change of every matching restatement (all pages), whole won.")

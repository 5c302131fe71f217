"""Answer models of the audience endpoints (`/api/v1/audience/…`, issue 22); their query models
are portal/queries/audience.py, which the seller pages read too."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from portal.api.paging_schemas import PageFields
from portal.api.stats_schemas import Change, Figures, Status
from portal.queries.audience import (  # noqa: F401  (the endpoints' query models, documented by spectree)
    ComparisonQuery,
    ContentPageQuery,
    ContentQuery,
    Last48HoursQuery,
    PeriodQuery,
    VideoPageQuery,
)

# ---------------------------------------------------------------------------------- answers


class ComparedDay(Figures):
    day: date
    status: Status


class Comparison(BaseModel):
    preset: str
    first: date
    last: date
    previous_first: date
    previous_last: date
    video_id: int | None
    status: Status
    previous_status: Status
    figures: dict[str, Change] = Field(description="views, watch_seconds, ad_views, video_amount, ad_amount, "
                                                   "total_amount, average_view_seconds, rpm (money in whole won).")
    days: list[ComparedDay]
    previous_days: list[ComparedDay]


class ContentLine(BaseModel):
    video_id: int
    title: str
    views: int
    watch_seconds: int
    average_view_seconds: int = Field(description="watch_seconds ÷ views, floored (0 without views).")
    ad_views: int
    revenue: int = Field(description="Whole won.")
    rpm: int = Field(description="Revenue per 1,000 views, whole won, floored (0 without views).")


class ContentTotals(BaseModel):
    views: int
    watch_seconds: int
    average_view_seconds: int
    ad_views: int
    revenue: int
    rpm: int


class ContentTable(PageFields):
    first: date
    last: date
    closed_last: date = Field(description="The last day counted: the batch tables hold closed days only.")
    sort: str
    descending: bool
    total_rows: int
    rows: list[ContentLine]
    totals: ContentTotals


class Hour(BaseModel):
    hour_start: str = Field(description="UTC instant (ISO 8601).")
    local_start: str = Field(description="The same instant in the business time zone (ISO 8601).")
    label: str
    views: int


class Last48Hours(BaseModel):
    since: str
    until: str
    generated_at: str
    timezone: str
    estimate: bool = Field(description="Always true: live from the raw events, not final (§10).")
    video_id: int | None
    hours: list[Hour]
    total_views: int

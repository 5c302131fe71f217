"""Query and answer models of the audience endpoints (`/api/v1/audience/…`, issue 22), validated
like the statistics endpoints' (portal/api/stats_schemas.py: the same date window, ids, paging
and "first of a repeated parameter"); the seller pages read their query strings with the same
models (`query_of`)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from models.figures.content_table import MAX_PER_PAGE, Sort
from models.figures.period_windows import DEFAULT_PRESET, Preset
from portal.api.stats_schemas import (
    Change,
    Day,
    Figures,
    Id,
    ScopedQuery,
    SeriesQuery,
    Status,
    ordered_and_bounded,
)
from portal.numbers import MAX_PAGE


class PeriodQuery(ScopedQuery):
    """The page-wide period (models/figures/period_windows.py says what each one is and what it is
    compared with); `from` / `to` only with `period=custom`."""

    period: Preset = Field(DEFAULT_PRESET, description="7, 28 or 90 days ending yesterday; this_month (to today); "
                                                       "last_month; custom (from, to).")
    first: Day | None = Field(None, alias="from", description="First business day of a custom period (YYYY-MM-DD).")
    last: Day | None = Field(None, alias="to", description="Last business day of a custom period (YYYY-MM-DD).")

    @model_validator(mode="after")
    def _custom_range(self) -> PeriodQuery:
        if self.period != "custom":
            return self
        if self.first is None or self.last is None:
            raise ValueError("a custom period needs both from and to")
        ordered_and_bounded(self.first, self.last)
        return self


class ComparisonQuery(PeriodQuery):
    video_id: Id | None = Field(None, description="One of your videos (default: all of them).")


class ContentQuery(PeriodQuery):
    sort: Sort = "views"
    direction: Literal["asc", "desc"] = Field("desc", alias="dir")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(50, ge=1, le=MAX_PER_PAGE)


class Last48HoursQuery(ScopedQuery):
    video_id: Id | None = Field(None, description="One of your videos (default: all of them).")


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


class ContentTable(BaseModel):
    first: date
    last: date
    closed_last: date = Field(description="The last day counted: the batch tables hold closed days only.")
    sort: str
    descending: bool
    page: int
    per_page: int
    pages: int
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


# ---------------------------------------------------------------------------------- pages


class ContentPageQuery(ScopedQuery):
    """The content page (`/content`): the dashboard's `range` (the same presets as `period` above,
    so a period carries over between the seller pages) with `from` / `to`, and the table's sort and page."""

    range: Preset = DEFAULT_PRESET
    first: Day | None = Field(None, alias="from")
    last: Day | None = Field(None, alias="to")
    sort: Sort = "views"
    direction: Literal["asc", "desc"] = Field("desc", alias="dir")
    page: int = Field(1, ge=1, le=MAX_PAGE)


class VideoPageQuery(SeriesQuery):
    """The per-video page: its series' `from` / `to` (the API's series query) as the custom part of
    the page-wide period `range` (none given: custom with `from` / `to`, or the default period)."""

    range: Preset | None = None

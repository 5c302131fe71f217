"""The query models of the audience questions (issue 22): the period comparison, the content
table and the last 48 hours, read by the seller pages (`parse_query`) and the audience endpoints
(spectree) alike, with the figures questions' date window, ids, paging and range rule."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from models.figures.content_table import MAX_PER_PAGE, Sort
from models.figures.period_windows import DEFAULT_PRESET, Preset
from portal.numbers import MAX_PAGE
from portal.queries.fields import Day, Id
from portal.queries.figures import ScopedQuery, SeriesQuery, ordered_and_bounded


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

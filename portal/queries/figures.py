"""The query models of the figures questions (summary, Top-5, settlements, receipts, series,
restatements), read by the seller pages and the statistics API alike: the API validates with
them through spectree (portal/api/stats.py), the pages through `parse_query`
(portal/queries/parse.py), so one value is refused the same way on both.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.business_time import today
from portal.queries.fields import WINDOW, Day, Granularity, Id, Page, rows_per_page
from portal.settings import settings

__all__ = ["WINDOW"]  # the read fast path hands its date window over under this context key

MAX_RANGE_DAYS = 366


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
    page: Page = 1
    per_page: int = rows_per_page(50, 500)


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



class RestatementsQuery(_Query):
    first: Day | None = Field(None, alias="from")
    last: Day | None = Field(None, alias="to")
    video_id: Id | None = None
    page: Page = 1
    per_page: int = rows_per_page(50, 500)




class RetentionQuery(_Query):
    """The audience retention of a video (portal/api/retention.py, the video's stats page)."""

    period: Granularity = "day"
    day: Day | None = Field(None, alias="date", description="Any day of the period (default: yesterday).")

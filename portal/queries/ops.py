"""The operations pages' questions (`/admin/runs`, `/admin/status`, `/admin/ads/impressions`),
read by the pages and by the operations API alike."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

from models.money.months import month_of
from portal.queries.base import LenientQuery
from portal.queries.fields import Day, Id, Page, TypedDay, in_window


class RunsQuery(LenientQuery):
    page: Page = Field(1, description="Page of run days, from 1.")


def _first_of_month(value: Any) -> Any:
    """`2026-11` (ASCII digits) as the first day of that month (models/money/months.py
    `month_of`, the one month syntax); anything else is refused."""
    if isinstance(value, str):
        month = month_of(value)
        if month is None:
            raise ValueError(f"must look like 2026-11, got {value[:20]!r}")
        return month
    return value


# A month (YYYY-MM), as its first day, inside the one date window.
Month = Annotated[date, BeforeValidator(_first_of_month), AfterValidator(in_window),
                  WithJsonSchema({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"})]


class StatusQuery(LenientQuery):
    month: Month | None = Field(None, description="YYYY-MM (default: the current business month).")


class AdImpressionsQuery(LenientQuery):
    first: Day | None = Field(None, alias="from", description="YYYY-MM-DD (default: 13 days before `to`).")
    last: Day | None = Field(None, alias="to", description="YYYY-MM-DD (default: today); at most 93 days from `from`.")


class RunDayForm(LenientQuery):
    """The runs page's "run one day" form (the window is checked where the runs are planned)."""

    day: TypedDay


class BackfillForm(LenientQuery):
    """The runs page's backfill form."""

    first: TypedDay
    last: TypedDay


class PlansQuery(LenientQuery):
    """The plans page after a plan was created (`?created=<id>`: its stale days are shown)."""

    created: Id | None = None

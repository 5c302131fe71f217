"""The operations pages' questions (`/admin/runs`, `/admin/status`, `/admin/ads/impressions`),
read by the pages and by the operations API alike, and their forms (runs, statements, price plans)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema, model_validator

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


class FinalizeForm(LenientQuery):
    """The statements console's Finalize button: the month to finalize."""

    month: Month


class HoldForm(LenientQuery):
    """The statements console's hold form (whether the id is a seller, and the reason, are the
    service's rules: models/money/payouts.py `place_hold`)."""

    seller_id: Id
    reason: Annotated[str, Field(max_length=1000)] = ""


# The bracket rows of the price plan form, and each row's fields (`b0_from_unit` … `b5_ad_rate`).
PLAN_FORM_ROWS = 6
BRACKET_FIELDS = ("from_unit", "to_unit", "view_rate", "ad_rate")
FormText = Annotated[str, Field(max_length=200)]


class PlanForm(LenientQuery):
    """The price plan form as typed: text fields, and the bracket rows that are not blank. The
    plan's rules (numbers, order of brackets, the date window) are checked in one place,
    models/money/price_plans.py `parse_plan`, for this page and the API alike."""

    name: FormText = ""
    basis: FormText = ""
    effective_from: FormText = ""
    brackets: list[dict[str, FormText]] = []

    @model_validator(mode="before")
    @classmethod
    def _bracket_rows(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "brackets" in data:
            return data
        rows = []
        for i in range(PLAN_FORM_ROWS):
            row = {key: str(data.get(f"b{i}_{key}", "")).strip() for key in BRACKET_FIELDS}
            if any(row.values()):
                rows.append(row)
        # A tuple: LenientQuery reads a list as a repeated parameter and keeps its first value.
        return {**data, "brackets": tuple(rows)}

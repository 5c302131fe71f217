"""Typed request and response schemas of the operations API (portal/api/ops.py), pydantic v2.

spectree validates the requests with these models and builds /api/v1/openapi.json from them.
The models check the JSON *types*; the business rules of a plan or a batch request stay in
their one home (models.price_plans.parse_plan, jobs.enqueue), which answers with its own
error codes, so the view still hands them the body as sent.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

from models.batch import RunState, RunTrigger
from models.money.months import month_of
from models.ops_status import CalendarStatus
from models.price_plans import MAX_BRACKETS, NAME_LENGTH
from portal.numbers import MAX_PAGE
from portal.queries.fields import Day, in_window

Basis = Literal["daily", "lifetime"]
DATE_TEXT = {"format": "date"}


class LenientQuery(BaseModel):
    """A query string as the hand-written checks read it: a repeated parameter counts by its
    first value and an empty one as absent (so its default applies)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _first_non_empty(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        firsts = {k: v[0] if isinstance(v, list) and v else v for k, v in data.items()}
        return {k: v for k, v in firsts.items() if v != ""}


# ------------------------------------------------------------------------------ price plans


class PricePlanBracketIn(BaseModel):
    from_unit: int = Field(description="First unit of the bracket: 1, then right after the previous bracket.")
    to_unit: int | None = Field(None, description="Last unit; null (or absent) for the last, open-ended bracket.")
    view_rate: float | str = Field(description='Won per view, up to 4 decimals, e.g. "1.1" (a string keeps it exact).')
    ad_rate: float | str = Field(description="Won per ad view, up to 4 decimals.")


class PricePlanBody(BaseModel):
    """A price plan to create or to put in place of an unused one."""

    name: str = Field(description=f"1 to {NAME_LENGTH} characters.")
    basis: Basis = Field("daily", description="Count views per day or over the video's lifetime.")
    effective_from: str = Field(json_schema_extra=DATE_TEXT, description="First business day, YYYY-MM-DD.")
    brackets: list[PricePlanBracketIn] = Field(description=f"1 to {MAX_BRACKETS} contiguous brackets from unit 1.")


class PricePlanBracket(BaseModel):
    from_unit: int
    to_unit: int | None
    view_rate: str = Field(description="Exact decimal.")
    ad_rate: str = Field(description="Exact decimal.")


class PricePlan(BaseModel):
    id: int
    name: str
    basis: Basis
    effective_from: date
    created_at: str = Field(description="UTC instant (ISO 8601).")
    used: bool = Field(description="A computed day was priced with it: it can no longer be edited or deleted.")
    brackets: list[PricePlanBracket]


class PricePlanList(BaseModel):
    plans: list[PricePlan]


class DayRange(BaseModel):
    first: date
    last: date


class PricePlanCreated(BaseModel):
    plan: PricePlan
    stale_days: list[date] = Field(description="Computed days the new plan now covers, to be re-priced.")
    backfill: DayRange | None = Field(description="The backfill that re-prices them (null: none needed).")


# ------------------------------------------------------------------------------ batch runs


class RunsQuery(LenientQuery):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="Page of run days, from 1.")


def _date_without_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)
    schema.update(DATE_TEXT)


class RunsRequest(BaseModel):
    first: str = Field(json_schema_extra=DATE_TEXT, description="The day to compute, YYYY-MM-DD.")
    # Optional but not nullable (the view refuses null): no `null` type and no `default: null` in the document.
    last: str = Field(None, json_schema_extra=_date_without_default,  # type: ignore[assignment]
                      description="With `last`, a backfill of every day from `first` to `last`.")


class RunPartition(BaseModel):
    index: int
    video_id_lo: int
    video_id_hi: int
    state: RunState
    attempt: int
    worker: str | None
    started_at: str | None
    finished_at: str | None
    rows_written: int | None
    error: str | None


class BatchRunInfo(BaseModel):
    id: int
    day: date
    state: RunState
    trigger: RunTrigger
    backfill_id: int | None
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    rows_written: int | None
    error: str | None
    partitions: list[RunPartition]


class RunDay(BaseModel):
    day: date
    runs: list[BatchRunInfo]


class RunHistory(BaseModel):
    days: list[RunDay]
    page: int
    per_page: int
    pages: int
    total: int


class RunsStarted(BaseModel):
    started: list[int] = Field(description="Runs this request queued (202 when any).")
    already_active: list[int] = Field(description="Runs of those days already queued or running.")


class RetryStarted(BaseModel):
    run_id: int
    partitions: list[int] = Field(description="Indexes of the failed partitions queued again.")


class BackfillCancelled(BaseModel):
    cancelled: list[int] = Field(description="Runs of the backfill cancelled before they started.")


# ------------------------------------------------------------------------------ data status


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


class NightlyHealthInfo(BaseModel):
    ok: bool
    day: date
    reason: str = Field(description="succeeded, not_due, missing, failed, running or queued.")
    message: str
    deadline: str = Field(description="When yesterday's run must have succeeded (ISO 8601, business time).")
    run_id: int | None
    run_state: RunState | None


class StatusDay(BaseModel):
    day: date
    status: CalendarStatus
    run_id: int | None
    run_state: RunState | None
    changed_events: int
    plan_changed: bool


class DataStatusMonth(BaseModel):
    month: str
    nightly: NightlyHealthInfo
    days: list[StatusDay]


# ------------------------------------------------------------------------------ ads


class AdImpressionsQuery(LenientQuery):
    first: Day | None = Field(None, alias="from", description="YYYY-MM-DD (default: 13 days before `to`).")
    last: Day | None = Field(None, alias="to", description="YYYY-MM-DD (default: today); at most 93 days from `from`.")


class AdImpressionDay(BaseModel):
    day: date
    impressions: int
    counted: int


class AdImpressionsOfAd(BaseModel):
    ad_id: int
    title: str
    active: bool
    impressions: int
    counted: int = Field(description="Impressions inside counted play sessions.")
    days: list[AdImpressionDay]


class AdImpressions(BaseModel):
    first: date
    last: date
    ads: list[AdImpressionsOfAd]

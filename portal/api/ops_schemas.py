"""Typed request and response schemas of the operations API (portal/api/ops.py), pydantic v2.

spectree validates the requests with these models and builds /api/v1/openapi.json from them.
The models check the JSON *types*; the business rules of a plan or a batch request stay in
their one home (models.money.price_plans.parse_plan, jobs.enqueue), which answers with its own
error codes, so the view still hands them the body as sent.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from models.batch.ops_status import CalendarStatus
from models.batch.tables import RunState, RunTrigger
from models.money.price_plans import MAX_BRACKETS, NAME_LENGTH
from portal.api.paging_schemas import PageFields
from portal.queries.fields import TypedDay

Basis = Literal["daily", "lifetime"]
DATE_TEXT = {"format": "date"}


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


def _date_without_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)
    schema.update(DATE_TEXT)


class RunsRequest(BaseModel):
    first: TypedDay = Field(json_schema_extra=DATE_TEXT, description="The day to compute, YYYY-MM-DD.")
    # Optional but not nullable (the view refuses null): no `null` type and no `default: null` in the document.
    last: TypedDay = Field(None, json_schema_extra=_date_without_default,  # type: ignore[assignment]
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


class RunHistory(PageFields):
    days: list[RunDay]
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

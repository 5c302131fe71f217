"""Read endpoints of the statistics and settlements (`/api/v1`): the same query functions as
the pages, validated and shaped by the pydantic models in `portal/api/stats_schemas.py`.

spectree validates each query string against its model before the view runs (a refusal is a
422 `invalid_request` naming the first problem) and each answer against its response model;
the same models make the routes' part of /api/v1/openapi.json.

Sellers see their own videos only (another seller's video is 404, a list is empty);
admins see the platform or, with `seller_id`, one seller; viewers get 403.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import Response, jsonify
from flask.typing import ResponseReturnValue
from pydantic import BaseModel

from models import Role
from models.seller_figures import (
    FigureError,
    cards,
    daily_series,
    day_receipt,
    period_receipt,
    restatement_page,
    settlement_table,
    tier_progress,
    top5,
    view_ledger,
)
from models.skip_rates import video_skip_rate
from models.stats import Metric, PeriodKind
from portal.api import response_cache
from portal.api import stats_schemas as schema
from portal.api.auth import api_auth, current_api_caller
from portal.api.blueprint import api_bp
from portal.api.openapi import api_spec, responses, validated_query
from portal.database import db_session
from portal.errors import api_error
from portal.figures import figure_cache
from portal.settings import settings

TAGS = ["statistics"]


def _seller(query: schema._Query) -> int | None:
    """Sellers are always scoped to themselves; admins choose (None: platform-wide)."""
    caller = current_api_caller()
    return response_cache.seller_scope(caller.role, caller.id, query.seller_id)


def _kept(plan: response_cache.AnswerPlan | None, query: schema._Query, answer: Response) -> Response:
    """Store a closed period's answer whole for the fast path (portal/api/read_fast_path.py),
    in the same Redis round trip as the figures the request computed (`hold_writes`).
    `plan` is made before the answer is computed: a period still live then is never stored."""
    cache = figure_cache()
    writes = []
    if plan is not None and cache.redis is not None and answer.status_code == 200:
        # The versions this request read its figures under (already known: no extra query).
        key = response_cache.response_key(plan, _seller(query), cache.versions(plan.scopes))
        writes = response_cache.answer_writes(key, answer.get_data(), settings().figure_status_ttl_seconds)
    cache.write_held(writes)
    return answer


def _answer(model: type[BaseModel], body: dict[str, Any]) -> ResponseReturnValue:
    return jsonify(model.model_validate(body).model_dump(mode="json"))


def _refusal(exc: FigureError) -> ResponseReturnValue:
    if exc.kind == "not_found":
        return api_error(404, exc.code, exc.message)
    return api_error(422, exc.code, exc.message)


def handled(view):  # type: ignore[no-untyped-def]
    """Map the figure functions' refusals to the API's error shape (also for portal/api/audience.py)."""
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        try:
            return view(*args, **kwargs)
        except FigureError as exc:
            return _refusal(exc)

    return wrapped


_handled = handled


@api_bp.get("/stats/summary")
@api_auth(Role.SELLER)
@api_spec.validate(query=schema.SummaryQuery, resp=responses(schema.Summary, 401, 403, 422), tags=TAGS)
@_handled
def stats_summary() -> ResponseReturnValue:
    """Yesterday's and month-to-date cards with their changes, and tier progress."""
    query = validated_query()
    seller_id, tz = _seller(query), settings().tz
    body = cards(db_session(), figure_cache(), seller_id, tz)
    return _answer(schema.Summary, {**body, "timezone": settings().timezone,
                                    "tier_progress": tier_progress(db_session(), seller_id, tz)})


@api_bp.get("/stats/top5")
@api_auth(Role.SELLER)
@api_spec.validate(query=schema.Top5Query, resp=responses(schema.Top5, 401, 403, 422), tags=TAGS)
@_handled
def stats_top5() -> ResponseReturnValue:
    """The five best videos of a day, week or month by views or watch time."""
    tz = settings().tz
    # The default day resolved once: the answer and its cache key are about the same day.
    query = validated_query()
    query = query.model_copy(update={"day": response_cache.top5_day(query, tz)})
    plan = response_cache.answer_plan(response_cache.TOP5, query, tz)
    answer = jsonify(schema.Top5.model_validate(top5(
        db_session(), figure_cache(), _seller(query), Metric(query.metric), PeriodKind(query.period), query.day,
        tz)).model_dump(mode="json"))
    return _kept(plan, query, answer)


@api_bp.get("/settlements")
@api_auth(Role.SELLER)
@api_spec.validate(query=schema.SettlementsQuery, resp=responses(schema.SettlementPage, 401, 403, 404, 422),
                   tags=TAGS)
@_handled
def settlements_list() -> ResponseReturnValue:
    """Settlement lines per video and day, week or month, with period totals (404: not your video)."""
    query = validated_query()
    plan = response_cache.answer_plan(response_cache.SETTLEMENTS, query, settings().tz)
    figure_cache().hold_writes()  # stored with the answer by `_kept`
    # The table is already the shape of `SettlementPage`, in JSON types (dates as ISO strings):
    # encoded as it is, not rebuilt as pydantic models of every line and dumped again. The answer
    # is checked against the model wherever answers are validated (development, tests), and
    # tests/test_stats_api.py holds the bytes equal to the model's.
    answer = jsonify(settlement_table(db_session(), figure_cache(), _seller(query), tz=settings().tz,
                                      **response_cache.settlement_args(query)))
    return _kept(plan, query, answer)


@api_bp.get("/settlements/<int:video_id>/<day>")
@api_auth(Role.SELLER)
@api_spec.validate(query=schema.ReceiptQuery,
                   resp=responses(schema.Receipt, 401, 403, 404, 422),
                   path_parameter_descriptions={"video_id": "One of your videos.",
                                                "day": "A business day, YYYY-MM-DD."},
                   tags=TAGS)
@_handled
def settlement_receipt(video_id: int, day: str) -> ResponseReturnValue:
    """The arithmetic of a video-day (brackets) or, with granularity week/month, its days."""
    query = validated_query()
    when = schema.path_day(day, 422)
    if query.granularity == "day":
        return _answer(schema.DayReceipt, day_receipt(db_session(), _seller(query), video_id, when))
    return _answer(schema.PeriodReceipt, period_receipt(db_session(), _seller(query), video_id, query.granularity,
                                                        when))


@api_bp.get("/videos/<int:video_id>/stats")
@api_auth(Role.SELLER)
@api_spec.validate(query=schema.SeriesQuery, resp=responses(schema.VideoSeries, 401, 403, 404, 422), tags=TAGS)
@_handled
def video_stats(video_id: int) -> ResponseReturnValue:
    """A video's figures per business day (default: the 30 days ending today), and how often its ads were skipped."""
    query = validated_query()
    body = daily_series(db_session(), figure_cache(), _seller(query), query.first, query.last, settings().tz, video_id)
    skips = video_skip_rate(db_session(), video_id, query.first, query.last)  # after the seller's check above
    return _answer(schema.VideoSeries, {**body, "ad_skips": skips.as_json()})


@api_bp.get("/videos/<int:video_id>/ledger")
@api_auth(Role.SELLER)
@api_spec.validate(query=schema.SeriesQuery, resp=responses(schema.Ledger, 401, 403, 404, 422), tags=TAGS)
@_handled
def video_ledger(video_id: int) -> ResponseReturnValue:
    """Started, counted and rejected plays of a video per business day (default: the last 30 days)."""
    query = validated_query()
    return _answer(schema.Ledger, view_ledger(db_session(), figure_cache(), _seller(query), video_id, query.first,
                                              query.last, settings().tz))


@api_bp.get("/restatements")
@api_auth(Role.SELLER)
@api_spec.validate(query=schema.RestatementsQuery, resp=responses(schema.RestatementList, 401, 403, 422), tags=TAGS)
@_handled
def restatements() -> ResponseReturnValue:
    """The restatements of the caller's videos, newest first, a page at a time, with their count and
    net change in total (empty for another seller's video)."""
    query = validated_query()
    return _answer(schema.RestatementList, restatement_page(
        db_session(), _seller(query), first=query.first, last=query.last, video_id=query.video_id, page=query.page,
        per_page=query.per_page))

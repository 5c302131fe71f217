"""Read endpoints of the statistics and settlements (`/api/v1`): the same query functions as
the pages, validated and shaped by the pydantic models in `portal/api/stats_schemas.py`.

spectree validates each query string against its model before the view runs (a refusal is a
422 `invalid_request` naming the first problem) and each answer against its response model;
the same models make the routes' part of /api/v1/openapi.json.

Sellers see their own videos only (another seller's video is 404, a list is empty);
admins see the platform or, with `seller_id`, one seller; viewers get 403.
"""

from __future__ import annotations

from flask import Response, jsonify
from flask.typing import ResponseReturnValue

from models import Role
from models.figures.receipts import day_receipt, period_receipt
from models.figures.restatement_pages import restatement_page
from models.figures.series import daily_series, view_ledger
from models.figures.settlements import settlement_table
from models.figures.skip_rates import video_skip_rate
from models.figures.summary import cards, tier_progress
from models.figures.tables import Metric, PeriodKind
from models.figures.top import top5
from portal import read_pipeline
from portal.api import stats_schemas as schema
from portal.api.auth import api_auth, scoped_seller
from portal.api.blueprint import api_bp
from portal.api.openapi import api_spec, model_answer, responses, validated_query
from portal.figures import figure_cache
from portal.queries import figures as queries
from portal.queries.parse import path_day
from portal.read_replica import figure_session, figures_from_replica
from portal.settings import settings

TAGS = ["statistics"]


def _kept(plan: read_pipeline.AnswerPlan | None, seller_id: int | None, answer: Response) -> Response:
    """Store a closed period's 200 answer whole for the read router (portal/read_router), through
    the read pipeline it reads them with, in the request's one Redis round trip (`hold_writes`)."""
    read_pipeline.keep_answer(figure_cache(), plan, seller_id, answer.get_data() if answer.status_code == 200 else None,
                              settings().figure_status_ttl_seconds)
    return answer


@api_bp.get("/stats/summary")
@api_auth(Role.SELLER)
@api_spec.validate(query=queries.SummaryQuery, resp=responses(schema.Summary, 401, 403, 422), tags=TAGS)
@figures_from_replica
def stats_summary() -> ResponseReturnValue:
    """Yesterday's and month-to-date cards with their changes, and tier progress."""
    query = validated_query()
    seller_id, tz = scoped_seller(query), settings().tz
    body = cards(figure_session(), figure_cache(), seller_id, tz)
    return model_answer(schema.Summary, {**body, "timezone": settings().timezone,
                                    "tier_progress": tier_progress(figure_session(), seller_id, tz)})


@api_bp.get("/stats/top5")
@api_auth(Role.SELLER)
@api_spec.validate(query=queries.Top5Query, resp=responses(schema.Top5, 401, 403, 422), tags=TAGS)
@figures_from_replica
def stats_top5() -> ResponseReturnValue:
    """The five best videos of a day, week or month by views or watch time."""
    tz = settings().tz
    # The default day resolved once: the answer and its cache key are about the same day.
    query = validated_query()
    query = query.model_copy(update={"day": read_pipeline.top5_day(query, tz)})
    plan, seller_id = read_pipeline.answer_plan(read_pipeline.TOP5, query, tz), scoped_seller(query)
    answer = jsonify(schema.Top5.model_validate(top5(
        figure_session(), figure_cache(), seller_id, Metric(query.metric), PeriodKind(query.period), query.day,
        tz)).model_dump(mode="json"))
    return _kept(plan, seller_id, answer)


@api_bp.get("/settlements")
@api_auth(Role.SELLER)
@api_spec.validate(query=queries.SettlementsQuery, resp=responses(schema.SettlementPage, 401, 403, 404, 422),
                   tags=TAGS)
@figures_from_replica
def settlements_list() -> ResponseReturnValue:
    """Settlement lines per video and day, week or month, with period totals (404: not your video)."""
    query = validated_query()
    plan, seller_id = read_pipeline.answer_plan(read_pipeline.SETTLEMENTS, query, settings().tz), scoped_seller(query)
    figure_cache().hold_writes()  # stored with the answer by `_kept`
    # The table is already the shape of `SettlementPage`, in JSON types (dates as ISO strings):
    # encoded as it is, not rebuilt as pydantic models of every line and dumped again. The answer
    # is checked against the model wherever answers are validated (development, tests), and
    # tests/test_stats_api.py holds the bytes equal to the model's.
    answer = jsonify(settlement_table(figure_session(), figure_cache(), seller_id, tz=settings().tz,
                                      **read_pipeline.settlement_args(query)))
    return _kept(plan, seller_id, answer)


@api_bp.get("/settlements/<int:video_id>/<day>")
@api_auth(Role.SELLER)
@api_spec.validate(query=queries.ReceiptQuery,
                   resp=responses(schema.Receipt, 401, 403, 404, 422),
                   path_parameter_descriptions={"video_id": "One of your videos.",
                                                "day": "A business day, YYYY-MM-DD."},
                   tags=TAGS)
@figures_from_replica
def settlement_receipt(video_id: int, day: str) -> ResponseReturnValue:
    """The arithmetic of a video-day (brackets) or, with granularity week/month, its days."""
    query = validated_query()
    when = path_day(day)
    if query.granularity == "day":
        return model_answer(schema.DayReceipt, day_receipt(figure_session(), scoped_seller(query), video_id, when))
    return model_answer(schema.PeriodReceipt, period_receipt(figure_session(), scoped_seller(query), video_id, query.granularity,
                                                        when))


@api_bp.get("/videos/<int:video_id>/stats")
@api_auth(Role.SELLER)
@api_spec.validate(query=queries.SeriesQuery, resp=responses(schema.VideoSeries, 401, 403, 404, 422), tags=TAGS)
@figures_from_replica
def video_stats(video_id: int) -> ResponseReturnValue:
    """A video's figures per business day (default: the 30 days ending today), and how often its ads were skipped."""
    query = validated_query()
    body = daily_series(figure_session(), figure_cache(), scoped_seller(query), query.first, query.last, settings().tz, video_id)
    skips = video_skip_rate(figure_session(), video_id, query.first, query.last)  # after the seller's check above
    return model_answer(schema.VideoSeries, {**body, "ad_skips": skips.as_json()})


@api_bp.get("/videos/<int:video_id>/ledger")
@api_auth(Role.SELLER)
@api_spec.validate(query=queries.SeriesQuery, resp=responses(schema.Ledger, 401, 403, 404, 422), tags=TAGS)
@figures_from_replica
def video_ledger(video_id: int) -> ResponseReturnValue:
    """Started, counted and rejected plays of a video per business day (default: the last 30 days)."""
    query = validated_query()
    return model_answer(schema.Ledger, view_ledger(figure_session(), figure_cache(), scoped_seller(query), video_id, query.first,
                                              query.last, settings().tz))


@api_bp.get("/restatements")
@api_auth(Role.SELLER)
@api_spec.validate(query=queries.RestatementsQuery, resp=responses(schema.RestatementList, 401, 403, 422), tags=TAGS)
@figures_from_replica
def restatements() -> ResponseReturnValue:
    """The restatements of the caller's videos, newest first, a page at a time, with their count and
    net change in total (empty for another seller's video)."""
    query = validated_query()
    return model_answer(schema.RestatementList, restatement_page(
        figure_session(), scoped_seller(query), first=query.first, last=query.last, video_id=query.video_id, page=query.page,
        per_page=query.per_page))

"""Audience endpoints (`/api/v1/audience/…`, issue 22): the period comparison, the content table
and the last 48 hours, the same model functions as the seller pages (models/figures/).

Sellers see their own videos (another seller's video is 404), admins the platform or, with
`seller_id`, one seller; viewers get 403. A bad query is a 422 naming the first problem.
"""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from models import Role
from models.business_time import today
from models.figures.content_table import content_table
from models.figures.last_48_hours import last_48_hours
from models.figures.period_comparison import comparison
from models.figures.period_windows import PeriodWindow, period_window
from models.figures.scope import seller_video
from portal.api import audience_schemas as schema
from portal.api.auth import api_auth, scoped_seller
from portal.api.blueprint import api_bp
from portal.api.openapi import api_spec, model_answer, responses, validated_query
from portal.database import db_session
from portal.figures import figure_cache
from portal.queries import audience as queries
from portal.read_replica import figure_session, figures_from_replica
from portal.settings import settings

TAGS = ["audience"]


def window_of(query: queries.PeriodQuery) -> PeriodWindow:
    """The query's period on today's business date."""
    return period_window(query.period, today(settings().tz), query.first, query.last)


@api_bp.get("/audience/comparison")
@api_auth(Role.SELLER)
@api_spec.validate(query=schema.ComparisonQuery, resp=responses(schema.Comparison, 401, 403, 404, 422), tags=TAGS)
@figures_from_replica
def audience_comparison() -> ResponseReturnValue:
    """The period's totals and daily series against the previous period's, with the change as a number
    and a percentage (one video with `video_id`)."""
    query = validated_query()
    return model_answer(schema.Comparison, comparison(figure_session(), figure_cache(), scoped_seller(query), window_of(query),
                                                 settings().tz, video_id=query.video_id))


@api_bp.get("/audience/content")
@api_auth(Role.SELLER)
@api_spec.validate(query=schema.ContentQuery, resp=responses(schema.ContentTable, 401, 403, 422), tags=TAGS)
@figures_from_replica
def audience_content() -> ResponseReturnValue:
    """Every video with views, watch time, average view duration, ad views, revenue and RPM over the
    period's closed days, sorted and paged."""
    query = validated_query()
    window = window_of(query)
    return model_answer(schema.ContentTable, content_table(
        figure_session(), figure_cache(), scoped_seller(query), window.first, window.last, today(settings().tz),
        sort=query.sort, descending=query.direction == "desc", page=query.page, per_page=query.per_page))


@api_bp.get("/audience/last-48-hours")
@api_auth(Role.SELLER)
@api_spec.validate(query=schema.Last48HoursQuery, resp=responses(schema.Last48Hours, 401, 403, 404, 422),
                   tags=TAGS)
def audience_last_48_hours() -> ResponseReturnValue:
    """Counted views per hour over the last 48 hours, live from the raw events: an estimate."""
    query = validated_query()
    seller_id = scoped_seller(query)
    if query.video_id is not None:
        seller_video(db_session(), seller_id, query.video_id)
    return model_answer(schema.Last48Hours, last_48_hours(db_session(), seller_id, settings().tz,
                                                     video_id=query.video_id))

"""GET /api/v1/videos/{video_id}/retention: a video's audience retention for a day, week or month
(models/figures/retention.py), its seller's or, for admins, any video's."""

from __future__ import annotations

from datetime import timedelta

from flask.typing import ResponseReturnValue

from models import Role
from models.business_time import today
from models.figures.period_calendar import period_range
from models.figures.retention import retention_over_days
from models.figures.scope import seller_video
from models.figures.skip_rates import video_skip_rate
from portal.api.auth import api_auth, scoped_seller
from portal.api.blueprint import api_bp
from portal.api.openapi import api_spec, model_answer, responses, validated_query
from portal.api.retention_schemas import Retention, RetentionQuery
from portal.api.stats import TAGS
from portal.read_replica import figure_session, figures_from_replica
from portal.settings import settings


@api_bp.get("/videos/<int:video_id>/retention")
@api_auth(Role.SELLER)
@api_spec.validate(query=RetentionQuery, resp=responses(Retention, 401, 403, 404, 422), tags=TAGS)
@figures_from_replica
def video_retention(video_id: int) -> ResponseReturnValue:
    """Share of the counted views still watching at each 1 % of the video, average view duration and
    percentage viewed, ad slots and the skip rate of its breaks, for the day, week or month of `date`
    (default: yesterday). Only days the nightly batch has computed are in it."""
    query = validated_query()
    session = figure_session()
    video = seller_video(session, scoped_seller(query), video_id)
    day = query.day or today(settings().tz) - timedelta(days=1)
    first, last = period_range(query.period, day)
    figures = retention_over_days(session, video.id, video.duration_seconds, first, last)
    skips = video_skip_rate(session, video.id, first, last)
    return model_answer(Retention, {"video_id": video.id, "period": query.period, "period_start": first,
                               "period_end": last, **figures.as_json(), "ad_skips": skips.as_json()})

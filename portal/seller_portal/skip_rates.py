"""The skip rate of a video's ads on its statistics page (issue 21, item 12).

Kept apart from views.py (a template global the page's figures fragment calls for its range)
so the per-video page gains it without its view changing: the page has already checked that
the video is the seller's before the fragment is rendered.
"""

from __future__ import annotations

from datetime import date

from models.figures.skip_rates import SkipRate, video_skip_rate
from portal.read_replica import figure_session
from portal.seller_portal.views import bp


def template_day(value: str | date) -> date:
    """A day the page template hands over (an ISO date it rendered, or a date)."""
    return value if isinstance(value, date) else date.fromisoformat(value)


@bp.app_template_global("video_skip_rate")
def video_skip_rate_global(video_id: int, first: str | date, last: str | date) -> SkipRate:
    """Skipped / skippable ad views of `video_id` over the business days `first` … `last` (ISO dates or dates)."""
    return video_skip_rate(figure_session(), video_id, template_day(first), template_day(last))

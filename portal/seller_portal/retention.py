"""The audience retention section of a video's statistics page (issue 22, items 1 and 5).

A template global, as the skip rate's (portal/seller_portal/skip_rates.py), so the page's
figures fragment gains it for its range without the view changing: the page has checked that
the video is the seller's before the fragment is rendered, and the htmx range switch re-renders
the fragment (same URL, `HX-Request`, `Vary`), retention included.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from models.catalog.tables import Video
from models.figures.retention import Retention, retention_over_days
from portal.read_replica import figure_session
from portal.seller_portal.charts import retention_figure
from portal.seller_portal.skip_rates import template_day
from portal.seller_portal.views import bp


@bp.app_template_global("video_retention")
def video_retention_global(video: Video, first: str | date, last: str | date) -> dict[str, Any]:
    """The retention of `video` over the computed business days `first` … `last`, with its chart."""
    figures: Retention = retention_over_days(figure_session(), video.id, video.duration_seconds,
                                             template_day(first), template_day(last))
    return {"figures": figures, "chart_json": retention_figure(figures) if figures.views else None}

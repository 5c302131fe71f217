"""A period against the previous one (issue 22, item 2): totals with their changes and both
daily series, for the dashboard, the per-video page and `/api/v1/audience/comparison`.

Both periods are read with `seller_figures.daily_series`, so their days are the batch's rows
(cached under the months they overlap) and today's live estimate (never cached, §10), and a
card's total is exactly the sum of the chart's days.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from models.figures.cache import FigureCache
from models.figures.changes import changes
from models.figures.data_status import DataStatus
from models.figures.per_view import average_view_seconds, rpm
from models.figures.period_windows import PeriodWindow
from models.figures.scope import FIGURES
from models.figures.series import daily_series
from models.figures.shown_status import status_summary

# The cards of a comparison: the series' own figures and the two per-view figures of them.
COMPARED = (*FIGURES, "average_view_seconds", "rpm")
SERIES_FIGURES = ("views", "watch_seconds", "ad_views", "video_amount", "ad_amount", "total_amount")


def _with_per_view(totals: dict[str, int]) -> dict[str, int]:
    return {**totals, "average_view_seconds": average_view_seconds(totals["watch_seconds"], totals["views"]),
            "rpm": rpm(totals["total_amount"], totals["views"])}


def _days(series: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"day": d["day"], "status": d["status"], **{n: d[n] for n in SERIES_FIGURES}} for d in series["days"]]


def comparison(session: Session, cache: FigureCache | None, seller_id: int | None, window: PeriodWindow,
               tz: ZoneInfo, video_id: int | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The window's totals against the previous window's, and the days of both (days after today
    are not listed: a `this_month` period ends today)."""
    current = daily_series(session, cache, seller_id, window.first, window.last, tz, video_id, now)
    previous = daily_series(session, cache, seller_id, window.previous_first, window.previous_last, tz, video_id, now)
    return {**window.as_json(), "video_id": video_id,
            "status": status_summary([DataStatus(d["status"]) for d in current["days"]]),
            "previous_status": status_summary([DataStatus(d["status"]) for d in previous["days"]]),
            "figures": changes(_with_per_view(current["totals"]), _with_per_view(previous["totals"]), COMPARED),
            "days": _days(current), "previous_days": _days(previous)}

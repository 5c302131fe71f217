"""The Top-5 of a day, week or month (§8), ranked by models/figures/rankings.py, with titles."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from models.figures.cache import TITLES_SCOPE, FigureCache, get_or_compute_in, scope
from models.figures.data_status import DataStatus
from models.figures.period_calendar import period_range, period_start
from models.figures.rankings import top_videos
from models.figures.scope import cache_key, video_titles
from models.figures.shown_status import shown_statuses, status_summary
from models.figures.tables import Metric, PeriodKind


def top5_scopes(kind: PeriodKind, day: date) -> list[str]:
    return [scope(kind.value, period_start(kind, day)), TITLES_SCOPE]  # it shows titles


def top5_span(kind: PeriodKind, day: date) -> tuple[date, date, list[str]]:
    """The first and last day of the Top-5 period of `day` and the cache scopes it is read under
    (the API's whole-answer cache keys its answer by the same scopes)."""
    start, end = period_range(kind, day)
    return start, end, top5_scopes(kind, day)


def top5(session: Session, cache: FigureCache | None, seller_id: int | None, metric: Metric,
         kind: PeriodKind, day: date, tz: ZoneInfo) -> dict[str, Any]:
    """The Top-5 of a day, week or month (§8), ranked by `models.figures.rankings`, with titles."""
    start, end, scopes = top5_span(kind, day)

    def compute() -> dict[str, Any]:
        ranked = top_videos(session, kind, day, metric, seller_id)
        titles = video_titles(session, [r.video_id for r in ranked])
        return {"items": [{"rank": r.rank, "video_id": r.video_id, "title": titles.get(r.video_id, ""),
                           "value": r.value} for r in ranked]}

    body = get_or_compute_in(cache, scopes, cache_key("top5", seller_id, metric.value), compute)
    statuses = shown_statuses(session, cache, seller_id, start, end, tz)
    return {"metric": metric.value, "period": kind.value, "first": start.isoformat(), "last": end.isoformat(),
            "status": status_summary([DataStatus(s) for s in statuses.values()]), **body}

"""Audience pages (issue 22): the content table (`/content`, with its CSV) and the last 48 hours
(`/audience/last-48-hours`). Like every seller page, a URL serves the whole page or, with
`HX-Request`, its fragment (`Vary: HX-Request`), and switches push their URL."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask.typing import ResponseReturnValue

from models import Role
from models.business_time import today
from models.figures.content_table import closed_last, content_lines, content_table
from models.figures.last_48_hours import last_48_hours
from models.figures.period_windows import PRESET_LABELS
from models.figures.scope import seller_video
from portal.auth import role_required
from portal.csv_export import csv_response
from portal.database import db_session
from portal.figures import figure_cache
from portal.queries import audience as queries
from portal.queries.parse import parse_query
from portal.read_replica import figure_session, figures_from_replica
from portal.seller_portal import charts
from portal.seller_portal.views import (
    _checked_period,
    _form_query,
    _render,
    _with_status,
    bp,
    page_period,
    scope_seller,
)
from portal.settings import settings

PER_PAGE = 50


@bp.get("/content")
@role_required(Role.SELLER)
@figures_from_replica
def content() -> ResponseReturnValue:
    """Every video with its figures over the page-wide period, sortable by each column, paged."""
    seller_id, sellers = scope_seller()
    query, range_error = _form_query(queries.ContentPageQuery)
    current = today(settings().tz)
    window, range_error = _checked_period(current, query, range_error)
    table = content_table(figure_session(), figure_cache(), seller_id, window.first, window.last, current,
                          sort=query.sort, descending=query.direction == "desc", page=query.page, per_page=PER_PAGE)
    state = {"range": window.preset, "from": window.first.isoformat(), "to": window.last.isoformat(),
             "sort": query.sort, "dir": query.direction, "page": query.page, "seller_id": seller_id}

    def link(endpoint: str = "seller_portal.content", **changes: Any) -> str:
        merged = {**state, **changes}
        if merged.get("range") != "custom":
            merged.pop("from", None)
            merged.pop("to", None)
        return url_for(endpoint, **{k: v for k, v in merged.items() if v is not None})

    page = _render("seller/content.html", {"content-table": "seller/_content_table.html"},
                   table=table, window=window, state=state, link=link, sellers=sellers, seller_id=seller_id,
                   presets=PRESET_LABELS, period_url=lambda preset: link(range=preset, page=1),
                   tz_name=settings().timezone, range_error=range_error)
    return _with_status(page, range_error)


@bp.get("/content.csv")
@role_required(Role.SELLER)
@figures_from_replica
def content_csv() -> ResponseReturnValue:
    """The whole table of the period (its closed days), in the page's order."""
    seller_id, _ = scope_seller()
    query = parse_query(queries.ContentPageQuery)  # a download: a bad value is the one 422 refusal
    current = today(settings().tz)
    window = page_period(current, query)
    last = closed_last(window.last, current)
    lines = content_lines(figure_session(), seller_id, window.first, last, query.sort, query.direction == "desc")
    rows = ([r["video_id"], r["title"], r["views"], r["watch_seconds"], r["average_view_seconds"], r["ad_views"],
             r["revenue"], r["rpm"]] for r in lines)
    return csv_response(f"content-{window.first}-{last}.csv",
                        ["video_id", "title", "views", "watch_seconds", "average_view_seconds", "ad_views",
                         "revenue_won", "rpm_won"], rows)


@bp.get("/audience/last-48-hours")
@role_required(Role.SELLER)
def last_48_hours_page() -> ResponseReturnValue:
    """Views per hour of the last 48 hours, live (an estimate), refreshed by htmx every minute."""
    seller_id, sellers = scope_seller()
    query = parse_query(queries.Last48HoursQuery)
    video = None
    if query.video_id is not None:
        video = seller_video(db_session(), seller_id, query.video_id)
    body = last_48_hours(db_session(), seller_id, settings().tz, video_id=query.video_id)
    state = {"seller_id": seller_id, "video_id": query.video_id}
    return _render("seller/last_48_hours.html", {"last-48-hours": "seller/_last_48_hours.html"},
                   body=body, chart_json=charts.hourly_views_figure(body), video=video, state=state, sellers=sellers,
                   seller_id=seller_id, tz_name=settings().timezone,
                   self_url=url_for("seller_portal.last_48_hours_page",
                                    **{k: v for k, v in state.items() if v is not None}))

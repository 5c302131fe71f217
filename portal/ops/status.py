"""The data-status calendar (`/admin/status`): each business day of a month as final,
stale (with how many raw events changed since its run), pending, live or failed.

A missing or failed nightly run of yesterday (the rule of `/healthz/batch`) is shown at
the top, loudly, with the button that fixes it; stale days offer the backfill that
recomputes them (after a past-dated price plan, that is the re-pricing run).
"""

from __future__ import annotations

import calendar as calendar_module
from datetime import date, timedelta

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from models import Role
from models.batch.ops_status import CalendarStatus, calendar, nightly_health
from models.business_time import month_range, today
from portal.auth import role_required
from portal.database import db_session
from portal.extensions import htmx
from portal.queries.ops import StatusQuery
from portal.queries.parse import parse_query
from portal.settings import settings

bp = Blueprint("ops_status", __name__, url_prefix="/admin/status")


def month_arg(current: date) -> date:
    """`?month=YYYY-MM` read by the API's status query model (one parser, one date window)."""
    return parse_query(StatusQuery).month or current.replace(day=1)


def stale_ranges(days: list) -> list[tuple[date, date]]:  # type: ignore[type-arg]
    """Consecutive stale or failed days, as the backfills that would make them final."""
    ranges: list[tuple[date, date]] = []
    for item in days:
        if item.status not in (CalendarStatus.STALE, CalendarStatus.FAILED):
            continue
        if ranges and ranges[-1][1] + timedelta(days=1) == item.day:
            ranges[-1] = (ranges[-1][0], item.day)
        else:
            ranges.append((item.day, item.day))
    return ranges


@bp.get("/")
@role_required(Role.ADMIN)
def index() -> ResponseReturnValue:
    config = settings()
    current = today(config.tz)
    month = month_arg(current)
    first, last = month_range(month)
    session = db_session()
    days = calendar(session, first, last, config.tz)
    health = nightly_health(session, config.tz, config.batch_health_deadline)
    counts = {status.value: sum(1 for d in days if d.status == status) for status in CalendarStatus}
    previous = (first - timedelta(days=1)).replace(day=1)
    following = last + timedelta(days=1)
    context = dict(days=days, month=month, health=health, counts=counts, lead=first.weekday(),
                   weekdays=list(calendar_module.day_abbr), ranges=stale_ranges(days),
                   previous=previous, following=following if following <= current else None, today=current)
    template = "ops/_calendar.html" if htmx else "ops/status.html"
    return render_template(template, **context), 200, {"Vary": "HX-Request"}

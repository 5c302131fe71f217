"""Ad impressions per ad per business day (`/admin/ads/impressions`), from the ad views, and
each ad's skip rate over the range.

A date range (at most MAX_IMPRESSION_DAYS days) picked with htmx: the same URL serves the
page or, with HX-Request, the table, and the range goes into the address bar.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from models import Role
from models.business_time import days_between, today
from models.ops_status import MAX_IMPRESSION_DAYS, ad_impressions
from models.skip_rates import ad_skip_rates
from portal.auth import role_required
from portal.database import db_session
from portal.extensions import htmx
from portal.queries.ops import AdImpressionsQuery
from portal.queries.parse import RequestInvalid, parse_query
from portal.settings import settings

bp = Blueprint("ops_ads", __name__, url_prefix="/admin/ads")


def date_range() -> tuple[date, date]:
    """`from` / `to` query arguments; the last 14 business days up to today by default. A range
    the page and the API refuse is the one refusal of a bad argument (422, portal/queries/parse.py)."""
    current = today(settings().tz)
    # The API's query model reads both (portal/api/ops_schemas.py): format and date window.
    query = parse_query(AdImpressionsQuery)
    last = query.last or current
    first = query.first or last - timedelta(days=13)
    if last < first:
        raise RequestInvalid(f"The range ends ({last}) before it starts ({first}).", field="to")
    if (last - first).days + 1 > MAX_IMPRESSION_DAYS:
        raise RequestInvalid(f"Choose at most {MAX_IMPRESSION_DAYS} days.", field="from")
    return first, last


@bp.get("/impressions")
@role_required(Role.ADMIN)
def impressions() -> ResponseReturnValue:
    first, last = date_range()
    ads = ad_impressions(db_session(), first, last)
    days = list(reversed(days_between(first, last)))
    totals = {day: (sum(a.by_day.get(day, (0, 0))[0] for a in ads), sum(a.by_day.get(day, (0, 0))[1] for a in ads))
              for day in days}
    template = "ops/_impressions.html" if htmx else "ops/impressions.html"
    skips = ad_skip_rates(db_session(), first, last)
    return render_template(template, ads=ads, days=days, first=first, last=last, totals=totals, skips=skips,
                           current=today(settings().tz)), 200, {"Vary": "HX-Request"}

"""Ad impressions per ad per business day (`/admin/ads/impressions`), from the ad views, and
each ad's skip rate over the range.

A date range (at most MAX_IMPRESSION_DAYS days) picked with htmx: the same URL serves the
page or, with HX-Request, the table, and the range goes into the address bar.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from models import Role
from models.batch.ops_status import ad_impressions
from models.business_time import days_between, today
from models.figures.skip_rates import ad_skip_rates
from portal.api.impression_range import date_range
from portal.auth import role_required
from portal.database import db_session
from portal.extensions import htmx
from portal.settings import settings

bp = Blueprint("ops_ads", __name__, url_prefix="/admin/ads")


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

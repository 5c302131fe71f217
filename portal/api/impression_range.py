"""The date range of the ad impressions question, read the same way by the page
(portal/ops/ads.py) and the API (portal/api/ops.py): `from` / `to` through the one query model."""

from __future__ import annotations

from datetime import date, timedelta

from models.batch.ops_status import MAX_IMPRESSION_DAYS
from models.business_time import today
from portal.queries.ops import AdImpressionsQuery
from portal.queries.parse import RequestInvalid, parse_query
from portal.settings import settings


def date_range() -> tuple[date, date]:
    """`from` / `to` query arguments; the last 14 business days up to today by default. A range
    the page and the API refuse is the one refusal of a bad argument (422, portal/queries/parse.py)."""
    current = today(settings().tz)
    query = parse_query(AdImpressionsQuery)
    last = query.last or current
    first = query.first or last - timedelta(days=13)
    if last < first:
        raise RequestInvalid(f"The range ends ({last}) before it starts ({first}).", field="to")
    if (last - first).days + 1 > MAX_IMPRESSION_DAYS:
        raise RequestInvalid(f"Choose at most {MAX_IMPRESSION_DAYS} days.", field="from")
    return first, last

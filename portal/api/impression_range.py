"""The date range of the ad impressions question, read the same way by the page
(portal/ops/ads.py) and the API (portal/api/ops.py): `from` / `to` through the API's query model."""

from __future__ import annotations

from datetime import date, timedelta

from flask import request

from models.business_time import today
from models.batch.ops_status import MAX_IMPRESSION_DAYS
from portal.api.ops_schemas import AdImpressionsQuery
from portal.api.stats_schemas import query_of
from portal.settings import settings


class RangeError(ValueError):
    """A date range the page or the API refuses; the message is safe to show."""


def date_range() -> tuple[date, date]:
    """`from` / `to` query arguments; the last 14 business days up to today by default."""
    current = today(settings().tz)
    # The API's query model reads both (portal/api/ops_schemas.py): format and date window.
    query = query_of(AdImpressionsQuery, request.args)
    last = query.last or current
    first = query.first or last - timedelta(days=13)
    if last < first:
        raise RangeError(f"the range ends ({last}) before it starts ({first})")
    if (last - first).days + 1 > MAX_IMPRESSION_DAYS:
        raise RangeError(f"choose at most {MAX_IMPRESSION_DAYS} days")
    return first, last

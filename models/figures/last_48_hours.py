"""The last 48 hours (issue 22, item 4): counted views per hour of a seller's videos, live from
the raw play sessions — an estimate, never cached (§10: today is never final).

A view belongs to the hour its play session started in, as it belongs to the business day it
started on (§7); counted as the batch counts it (`play_sessions.counted`). Hours are grouped in
SQL on the stored UTC instants and labelled in the business time zone by the caller; in a zone
whose offset is a whole number of hours (Asia/Seoul) a UTC hour is exactly a business hour.
The sessions are found through the (day, video_id, …) index: only the business days the 48
hours touch are read.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from models.business_time import business_day
from models.catalog.tables import Video
from models.playback.tables import PlaySession
from models.sql_dialect import Dialect

HOURS = 48


@lru_cache(maxsize=8)
def _hours_sql(mysql: bool, by_seller: bool, by_video: bool) -> TextClause:
    d = Dialect.of(mysql)
    return text(f"""
        SELECT {d.hour_start('p.started_at')} AS hour, COUNT(*) AS views
        FROM {PlaySession.__tablename__} p JOIN {Video.__tablename__} v ON v.id = p.video_id
        WHERE p.day BETWEEN :first_day AND :last_day AND p.started_at >= :since AND p.started_at < :until
              AND p.counted = 1{" AND v.seller_id = :seller_id" if by_seller else ""}
              {"AND p.video_id = :video_id" if by_video else ""}
        GROUP BY hour""")


def hour_window(now: datetime) -> tuple[datetime, datetime]:
    """The 48 whole hours ending with the current (unfinished) one, as UTC instants [since, until)."""
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return current - timedelta(hours=HOURS - 1), current + timedelta(hours=1)


def last_48_hours(session: Session, seller_id: int | None, tz: ZoneInfo, *, video_id: int | None = None,
                  now: datetime | None = None) -> dict[str, Any]:
    """Every hour of the window with its counted views (zero-filled), oldest first."""
    moment = now or datetime.now(UTC)
    since, until = hour_window(moment)
    mysql = Dialect(session.connection()).mysql
    params = {"first_day": business_day(since, tz), "last_day": business_day(until, tz),
              # stored as naive UTC
              "since": since.replace(tzinfo=None), "until": until.replace(tzinfo=None),
              "seller_id": seller_id, "video_id": video_id}
    counted = {str(r.hour): int(r.views) for r in session.execute(
        _hours_sql(mysql, seller_id is not None, video_id is not None), params)}
    hours = []
    for i in range(HOURS):
        start = since + timedelta(hours=i)
        local = start.astimezone(tz)
        hours.append({"hour_start": start.isoformat(), "local_start": local.isoformat(),
                      "label": f"{local:%m-%d %H:00}", "views": counted.get(f"{start:%Y-%m-%d %H:00:00}", 0)})
    return {"since": since.isoformat(), "until": until.isoformat(), "generated_at": moment.astimezone(UTC).isoformat(),
            "timezone": str(tz), "estimate": True, "video_id": video_id, "hours": hours,
            "total_views": sum(h["views"] for h in hours)}

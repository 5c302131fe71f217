"""What a day's figures of a video are (§6–§8), one definition for the batch and the live view.

- `views`: the video's counted play sessions of the business day;
- `watch_seconds`: the floor of the sum of those sessions' credited milliseconds (not a sum
  of per-session floors);
- `ad_views`: the counted ad views of the day (an ad view carries its session's day and
  counted flag);
- and, for the seller's view of what was filtered, the sessions not counted by reason.

`SESSION_COUNTS` and `AD_COUNTS` are that definition as SQL over the raw events of `:day`
and videos `:lo` … `:hi`; the batch (jobs/pipeline.py) builds a partition's daily rows
from them and `live_figures` estimates today from them, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from models.sql_dialect import Dialect

# Per video: counted views, their credited milliseconds, and the sessions not counted by reason.
SESSION_COUNTS = """
            SELECT video_id,
                   SUM(CASE WHEN counted = 1 THEN 1 ELSE 0 END) AS views,
                   SUM(CASE WHEN counted = 1 THEN watch_ms ELSE 0 END) AS watch_ms,
                   SUM(CASE WHEN reject_reason = 'own_video' THEN 1 ELSE 0 END) AS rej_own,
                   SUM(CASE WHEN reject_reason = 'repeat_within_30s' THEN 1 ELSE 0 END) AS rej_repeat
            FROM play_sessions
            WHERE day = :day AND video_id BETWEEN :lo AND :hi
            GROUP BY video_id"""
# Per video: counted ad views.
AD_COUNTS = """
            SELECT video_id, COUNT(*) AS ad_views
            FROM ad_views
            WHERE day = :day AND video_id BETWEEN :lo AND :hi AND counted = 1
            GROUP BY video_id"""
_ALL_VIDEOS = (0, 2**63 - 1)


def watch_seconds(d: Dialect, watch_ms: str) -> str:
    """SQL: whole seconds of a day's summed credited milliseconds (floored once, per video-day)."""
    return d.idiv(watch_ms, 1000)


@dataclass(frozen=True)
class LiveFigures:
    """A video-day as the batch writes it to `video_daily_stats` (the figures and the sessions
    filtered by reason), so today's ledger and series show what the day will show once final."""

    video_id: int
    views: int
    watch_seconds: int
    ad_views: int
    rejected_own_video: int
    rejected_repeat: int


def live_figures(db: Session | Connection, day: date, video_ids: list[int] | None = None) -> dict[int, LiveFigures]:
    """A day's figures straight from the raw events (today's `live` estimate, §10), counted
    exactly as the batch counts them."""
    conn = db.connection() if isinstance(db, Session) else db
    d = Dialect(conn)
    lo, hi = (min(video_ids), max(video_ids)) if video_ids else _ALL_VIDEOS
    if video_ids is not None and not video_ids:
        return {}
    rows = conn.execute(text(f"""
        SELECT p.video_id, p.views, {watch_seconds(d, 'p.watch_ms')} AS watch_seconds,
               COALESCE(a.ad_views, 0) AS ad_views, p.rej_own AS rejected_own_video,
               p.rej_repeat AS rejected_repeat
        FROM ({SESSION_COUNTS}) p
        LEFT JOIN ({AD_COUNTS}) a ON a.video_id = p.video_id
    """), {"day": day, "lo": lo, "hi": hi}).all()
    wanted = None if video_ids is None else set(video_ids)
    return {int(r.video_id): LiveFigures(**{name: int(value) for name, value in r._mapping.items()})
            for r in rows if wanted is None or r.video_id in wanted}

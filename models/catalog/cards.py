"""What a catalog card shows besides the video row: its views and the viewer's resume point.

The home page and the catalog pages show the same cards (issue 14, items 3–4). Both
numbers are read for a whole page of videos at once (one grouped query each), never per card.
Views are counted play sessions (§6), the same rule the statistics use, read live so a new
video does not show 0 until the night's batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from models.catalog.tables import Video
from models.playback.tables import PlayHistory, PlaySession, PlayStatus
from models.playback.watch_rules import resume_position_ms

CONTINUE_WATCHING_LIMIT = 8


@dataclass(frozen=True)
class Card:
    video: Video
    views: int
    # Where this viewer continues (ms), or None when they never started it or finished it.
    resume_ms: int | None

    @property
    def resume_percent(self) -> int:
        """How far the resume bar is filled, 1–100 (a started video always shows a sliver)."""
        if not self.resume_ms:
            return 0
        return max(1, min(100, self.resume_ms * 100 // max(1, self.video.duration_seconds * 1000)))


def _view_counts(db: Session, video_ids: Sequence[int]) -> dict[int, int]:
    if not video_ids:
        return {}
    rows = db.execute(
        select(PlaySession.video_id, func.count())
        .where(PlaySession.video_id.in_(video_ids), PlaySession.counted.is_(True))
        .group_by(PlaySession.video_id)
    )
    return {video_id: count for video_id, count in rows}


def _resume_points(db: Session, viewer_id: int | None, videos: Sequence[Video]) -> dict[int, int]:
    if viewer_id is None or not videos:
        return {}
    by_id = {video.id: video for video in videos}
    rows = db.execute(
        select(PlayHistory.video_id, PlayHistory.status, PlayHistory.last_position_ms)
        .where(PlayHistory.viewer_id == viewer_id, PlayHistory.video_id.in_(by_id))
    )
    points = {}
    for video_id, status, position in rows:
        ms = resume_position_ms(status, position, by_id[video_id].duration_seconds * 1000)
        if ms > 0:
            points[video_id] = ms
    return points


def cards_for(db: Session, videos: Sequence[Video], viewer_id: int | None) -> list[Card]:
    """Cards for a page of videos, in the given order."""
    ids = [video.id for video in videos]
    views, resume = _view_counts(db, ids), _resume_points(db, viewer_id, videos)
    return [Card(video, views.get(video.id, 0), resume.get(video.id)) for video in videos]


def continue_watching(db: Session, viewer_id: int, limit: int = CONTINUE_WATCHING_LIMIT) -> list[Card]:
    """The viewer's unfinished published videos, most recently watched first (the home page row)."""
    videos = db.scalars(
        select(Video)
        .join(PlayHistory, PlayHistory.video_id == Video.id)
        .options(joinedload(Video.seller))
        .where(PlayHistory.viewer_id == viewer_id, PlayHistory.status != PlayStatus.END,
               PlayHistory.last_position_ms > 0, Video.is_published.is_(True), Video.deleted_at.is_(None))
        .order_by(PlayHistory.updated_at.desc(), Video.id.desc())
        .limit(limit)
    ).all()
    return [card for card in cards_for(db, videos, viewer_id) if card.resume_ms]


def has_videos(db: Session, seller_id: int, *, ever: bool = False) -> bool:
    """Whether a seller has uploaded anything that is not deleted (the first-run prompt asks), or
    with `ever` anything at all: a deleted video keeps its figures, so the dashboard shows them."""
    query = select(Video.id).where(Video.seller_id == seller_id)
    if not ever:
        query = query.where(Video.deleted_at.is_(None))
    return db.scalar(query.limit(1)) is not None

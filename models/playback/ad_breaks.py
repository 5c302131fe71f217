"""Skipping an ad (§5): an ad longer than 15 s can be skipped after 5 s; the skip is recorded.

The ad view itself stays recorded (it was recorded when the ad started playing); the skip is
noted on it so sellers and admins can tell watched ads from skipped ones. The 5 s are
measured by the server from the ad view it recorded, with a small allowance for the time the
"ad started" request spent on the network (it is sent when the ad starts, then the clock
runs on the viewer's side).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.catalog.tables import Ad
from models.playback.tables import AdView, PlaySession
from models.playback.watch_rules import PlaybackError

# §5: only ads longer than this can be skipped …
SKIPPABLE_LONGER_THAN_SECONDS = 15
# … and only once they have played this long.
SKIP_AFTER_SECONDS = 5
# Network allowance between the player's clock and the server's record of the ad start.
_SKIP_CLOCK_SLACK = timedelta(seconds=1)


def is_skippable(duration_seconds: int) -> bool:
    """Whether an ad of this length offers a Skip button at all (§5)."""
    return duration_seconds > SKIPPABLE_LONGER_THAN_SECONDS


def check_skip(duration_seconds: int, viewed_at: datetime, skipped_at: datetime | None, now: datetime) -> None:
    """PlaybackError(conflict) unless the ad may be skipped at `now` (§5)."""
    if skipped_at is not None:
        raise PlaybackError("conflict", "already_skipped", "This ad has already been skipped.")
    if not is_skippable(duration_seconds):
        raise PlaybackError("conflict", "not_skippable",
                            f"Only ads longer than {SKIPPABLE_LONGER_THAN_SECONDS} s can be skipped.")
    if now - viewed_at < timedelta(seconds=SKIP_AFTER_SECONDS) - _SKIP_CLOCK_SLACK:
        raise PlaybackError("conflict", "skip_too_early",
                            f"An ad can be skipped once it has played {SKIP_AFTER_SECONDS} s.")


def record_ad_skip(db: Session, *, viewer_id: int, video_id: int, session_id: int, slot_index: int,
                   now: datetime) -> AdView:
    """Note that the viewer skipped the ad of a slot; committed. The ad view stays counted."""
    row = db.execute(
        select(AdView, Ad.duration_seconds)
        .join(PlaySession, PlaySession.id == AdView.session_id)
        .join(Ad, Ad.id == AdView.ad_id)
        .where(AdView.session_id == session_id, AdView.slot_index == slot_index,
               PlaySession.viewer_id == viewer_id, PlaySession.video_id == video_id)
        .with_for_update(of=AdView)
    ).one_or_none()
    if row is None:
        db.rollback()
        raise PlaybackError("not_found", "no_ad_view",
                            f"No ad has started in slot {slot_index} of your play session {session_id}.")
    view, duration = row
    try:
        check_skip(duration, view.viewed_at, view.skipped_at, now)
    except PlaybackError:
        db.rollback()
        raise
    view.skipped_at = now
    db.commit()
    return view

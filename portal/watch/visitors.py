"""What a visitor who is not signed in sees on a video page (issue 14, item 3).

Watching needs an account (a play session belongs to a viewer), but a link to a video is
shared with people who have none: instead of a bare sign-in form they see which video it
is and are offered both ways in, coming back to the video afterwards.
"""

from __future__ import annotations

from flask import render_template, url_for
from flask.typing import ResponseReturnValue

from models import Video
from models.errors import NotFound
from portal.database import db_session


def account_needed(video_id: int) -> ResponseReturnValue:
    video = db_session().get(Video, video_id)
    if video is None or not video.is_published or video.deleted_at is not None:
        raise NotFound(f"There is no video {video_id}.")
    here = url_for("watch.player", video_id=video_id)
    return render_template("watch/account_needed.html", video=video, next_url=here)

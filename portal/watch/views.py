"""The player page and the endpoints its script calls (cookie session + CSRF header).

Watching needs a signed-in user (a play session belongs to a viewer); so does fetching media.
The catalog itself is public (portal/catalog).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from models import Ad, User
from models.catalog.service import watchable_video
from models.errors import DomainError, NotFound
from models.playback.service import resume_state
from portal.database import db_session
from portal.errors import answer_in_json
from portal.media import send_media
from portal.playback import http
from portal.playback.http import REPORT_EVERY_SECONDS
from portal.watch.visitors import account_needed

bp = Blueprint("watch", __name__)


def signed_in_json(view: Callable[..., Any]) -> Callable[..., Any]:
    """Like login_required, but a script gets a JSON 401 instead of a redirect to the sign-in page;
    every refusal of the view is JSON (portal/errors.py `answer_in_json`), answered by the one
    error handler."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        answer_in_json()
        if not current_user.is_authenticated:
            raise DomainError("Sign in to watch videos.", kind="unauthorized", code="not_signed_in")
        return view(*args, **kwargs)

    return wrapped


def _viewer() -> User:
    return current_user._get_current_object()


def _media_url(kind: str, item_id: int) -> str:
    return url_for("watch.ad_media", ad_id=item_id) if kind == "ad" else url_for("watch.video_media", video_id=item_id)


def _video_for_viewer(video_id: int):  # type: ignore[no-untyped-def]
    return watchable_video(db_session(), video_id, _viewer())  # CatalogError: the 404 page, unknown_video


@bp.get("/videos/<int:video_id>")
def player(video_id: int) -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return account_needed(video_id)
    video = _video_for_viewer(video_id)
    state = resume_state(db_session(), current_user.id, video)
    config = {
        "videoId": video.id,
        "durationMs": video.duration_seconds * 1000,
        "slots": [slot.position_seconds for slot in video.slots],
        "resumeMs": state.position_ms,
        "sessionsUrl": url_for("watch.open_session", video_id=video.id),
        # A little under the §4 maximum of 10 s, so timer drift never stretches a gap past it.
        "reportEveryMs": REPORT_EVERY_SECONDS * 1000 - 1000,
    }
    return render_template("watch/player.html", video=video, config=config, resume_ms=state.position_ms)


@bp.get("/media/videos/<int:video_id>")
@login_required
def video_media(video_id: int) -> ResponseReturnValue:
    video = _video_for_viewer(video_id)
    return send_media(video.media_path, video.content_type)


@bp.get("/media/ads/<int:ad_id>")
@login_required
def ad_media(ad_id: int) -> ResponseReturnValue:
    ad = db_session().get(Ad, ad_id)
    if ad is None:
        raise NotFound(f"There is no ad {ad_id}.")
    return send_media(ad.media_path, ad.content_type)


# The player's session endpoints: the same handlers and URLs as the API's (portal/playback/http.py).


@bp.get(http.HISTORY, endpoint="history")
@signed_in_json
def watch_history(video_id: int) -> ResponseReturnValue:
    return http.history(_viewer(), video_id)


@bp.post(http.SESSIONS, endpoint="open_session")
@signed_in_json
def watch_open_session(video_id: int) -> ResponseReturnValue:
    return http.open_playback(_viewer(), video_id)


@bp.get(http.SESSION, endpoint="session")
@signed_in_json
def watch_session(video_id: int, session_id: int) -> ResponseReturnValue:
    return http.details(current_user.id, video_id, session_id)


@bp.post(http.PROGRESS, endpoint="progress")
@signed_in_json
def watch_progress(video_id: int, session_id: int) -> ResponseReturnValue:
    return http.progress(current_user.id, video_id, session_id)


@bp.get(http.AD_FOR_SLOT, endpoint="ad_for_slot")
@signed_in_json
def watch_ad_for_slot(video_id: int, session_id: int, slot_index: int) -> ResponseReturnValue:
    return http.ad_for_slot(current_user.id, video_id, session_id, slot_index, _media_url)


@bp.post(http.AD_VIEWS, endpoint="ad_view")
@signed_in_json
def watch_ad_view(video_id: int, session_id: int) -> ResponseReturnValue:
    return http.ad_view(current_user.id, video_id, session_id)


@bp.post(http.AD_SKIP, endpoint="ad_skip")
@signed_in_json
def watch_ad_skip(video_id: int, session_id: int, slot_index: int) -> ResponseReturnValue:
    return http.ad_skip(current_user.id, video_id, session_id, slot_index)

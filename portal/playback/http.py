"""The playback endpoints' work over HTTP, shared by the browser player's and the API's views.

The browser player (cookie session, CSRF header, portal/watch/views.py) and other players
(`/api/v1`, bearer token, portal/api/playback.py) do the same things with the same JSON at the
same URLs: each has plain view functions, with its own guard, that pass the signed-in viewer
(and how to name media URLs) to the handlers here; the bodies are read by the models of
portal/queries/playback.py and the work is done by models/playback/service.py. A refusal (a
`DomainError`: PlaybackError, CatalogError, RequestInvalid) is answered as JSON by the one error
handler (the browser player's views mark their requests as JSON ones, portal/errors.py). The API's progress endpoint, the hottest of all, is
served in front of Flask (portal/api/progress_fast_path.py) with the same `progress_reply`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from models import Ad, User
from models.catalog.service import watchable_video
from models.playback.ad_breaks import SKIP_AFTER_SECONDS, is_skippable, record_ad_skip
from models.playback.progress_recorder import ProgressRecorder
from models.playback.service import (
    open_session,
    pick_ad,
    record_ad_view,
    resume_state,
    session_details,
)
from models.playback.watch_rules import PlaybackError, ProgressReport
from portal.database import db_session, progress_recorder
from portal.errors import error_body, status_of
from portal.queries.parse import RequestInvalid, parse_body
from portal.queries.playback import AdViewBody, OpenSessionBody, ProgressBody
from portal.settings import settings

# Players report at least this often while playing (§4: at least every 10 s).
REPORT_EVERY_SECONDS = 10

MediaUrl = Callable[[str, int], str]


def now() -> datetime:
    return datetime.now(UTC)


def _body() -> Any:
    """This request's body as JSON (None when it is not JSON), for `parse_body`: reading, not
    parsing (the models of portal/queries/playback.py judge it)."""
    return request.get_json(silent=True)


def open_session_input() -> int | None:
    """The optional `start_position_ms` of a request opening a session (no body: None)."""
    return parse_body(OpenSessionBody, _body() if request.content_length else {}).start_position_ms


def progress_input() -> ProgressBody:
    return parse_body(ProgressBody, _body())


def ad_view_input() -> tuple[int, int]:
    """`slot_index` and `ad_id` of an ad view report."""
    body = parse_body(AdViewBody, _body())
    return body.slot_index, body.ad_id


def progress_reply(recorder: ProgressRecorder, *, viewer_id: int, video_id: int, session_id: int,
                   body: Any, session_version: int | None = None) -> tuple[int, dict[str, Any]]:
    """Status and JSON of a progress report (§4) whose decoded body is `body` (None if not JSON);
    `session_version` is the bearer token's `sv` when a token authenticated the viewer."""
    try:
        report = parse_body(ProgressBody, body)
        result = recorder.record(viewer_id=viewer_id, video_id=video_id, session_id=session_id,
                                 report=ProgressReport(report.position_ms, report.playing, report.seek_to_ms),
                                 now=now(), session_version=session_version)
    except (RequestInvalid, PlaybackError) as exc:  # answered here: the fast path in front of Flask has no handler
        return status_of(exc), error_body(exc.code, exc.message)
    return 200, {"session_id": session_id, "position_ms": result.position_ms, "status": result.status.value,
                 "ended": result.ended}


def ad_json(ad: Ad, media_url: MediaUrl) -> dict[str, Any]:
    return {
        "id": ad.id,
        "title": ad.title,
        "duration_seconds": ad.duration_seconds,
        "content_type": ad.content_type,
        "media_url": media_url("ad", ad.id),
        # §5: when the player may offer Skip (seconds into the ad), or None for a short ad.
        "skippable_after_seconds": SKIP_AFTER_SECONDS if is_skippable(ad.duration_seconds) else None,
    }


# The session endpoints' URLs, the same under the browser player's blueprint and the API's.
HISTORY = "/videos/<int:video_id>/history"
SESSIONS = "/videos/<int:video_id>/sessions"
SESSION = "/videos/<int:video_id>/sessions/<int:session_id>"
PROGRESS = f"{SESSION}/progress"
AD_FOR_SLOT = f"{SESSION}/slots/<int:slot_index>/ad"
AD_VIEWS = f"{SESSION}/ad-views"
AD_SKIP = f"{SESSION}/slots/<int:slot_index>/skip"


def history(viewer: User, video_id: int) -> ResponseReturnValue:
    video = watchable_video(db_session(), video_id, viewer)  # CatalogError: 404 unknown_video
    state = resume_state(db_session(), viewer.id, video)
    return jsonify(video_id=video_id, resume_position_ms=state.position_ms,
                   status=state.status.value if state.status else None)


def open_playback(viewer: User, video_id: int) -> ResponseReturnValue:
    db = db_session()
    video = watchable_video(db, video_id, viewer)  # CatalogError: 404 unknown_video
    opened = open_session(db, viewer=viewer, video=video, now=now(), tz=settings().tz,
                          start_position_ms=open_session_input())
    return jsonify(
        session_id=opened.session_id,
        video_id=video_id,
        counted=opened.counted,
        reject_reason=opened.reject_reason.value if opened.reject_reason else None,
        day=opened.day.isoformat(),
        start_position_ms=opened.start_position_ms,
        duration_ms=video.duration_seconds * 1000,
        ad_slots=opened.slot_positions,
        due_slots=opened.due_slots,
        report_every_seconds=REPORT_EVERY_SECONDS,
    ), 201


def progress(viewer_id: int, video_id: int, session_id: int) -> ResponseReturnValue:
    # The hot path: no ORM session, connections of its own (models/playback/progress_recorder.py).
    status, reply = progress_reply(progress_recorder(), viewer_id=viewer_id, video_id=video_id,
                                   session_id=session_id, body=_body())
    return jsonify(reply), status


def details(viewer_id: int, video_id: int, session_id: int) -> ResponseReturnValue:
    found = session_details(db_session(), viewer_id=viewer_id, video_id=video_id, session_id=session_id)
    return jsonify(
        session_id=found.session_id,
        video_id=found.video_id,
        day=found.day.isoformat(),
        counted=found.counted,
        reject_reason=found.reject_reason.value if found.reject_reason else None,
        started_at=found.started_at.isoformat(),
        last_position_ms=found.last_position_ms,
        furthest_position_ms=found.furthest_position_ms,
        watch_ms=found.watch_ms,
        ended=found.ended,
        ad_slots=found.slot_positions,
        ad_views=[{"slot_index": slot, "ad_id": ad} for slot, ad in sorted(found.ad_views.items())],
        due_slots=found.due_slots,
    )


def ad_for_slot(viewer_id: int, video_id: int, session_id: int, slot_index: int,
                media_url: MediaUrl) -> ResponseReturnValue:
    ad = pick_ad(db_session(), viewer_id=viewer_id, video_id=video_id, session_id=session_id,
                 slot_index=slot_index, now=now(), window_hours=settings().ad_balance_window_hours)
    return jsonify(slot_index=slot_index, ad=ad_json(ad, media_url))


def ad_view(viewer_id: int, video_id: int, session_id: int) -> ResponseReturnValue:
    slot_index, ad_id = ad_view_input()
    view = record_ad_view(db_session(), viewer_id=viewer_id, video_id=video_id, session_id=session_id,
                          slot_index=slot_index, ad_id=ad_id, now=now())
    return jsonify(session_id=session_id, slot_index=view.slot_index, ad_id=view.ad_id,
                   day=view.day.isoformat()), 201


def ad_skip(viewer_id: int, video_id: int, session_id: int, slot_index: int) -> ResponseReturnValue:
    view = record_ad_skip(db_session(), viewer_id=viewer_id, video_id=video_id, session_id=session_id,
                          slot_index=slot_index, now=now())
    return jsonify(session_id=session_id, slot_index=slot_index, ad_id=view.ad_id,
                   skipped_at=view.skipped_at.isoformat() if view.skipped_at else None)

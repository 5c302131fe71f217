"""Playback endpoints of the JSON API (bearer token): sessions, ads (§4–§5).

The same handlers and URLs as the browser player's (portal/playback/http.py), for other
players. Progress reports arrive every 10 s from every player: that endpoint is answered in
front of Flask by portal/api/progress_fast_path.py. It is registered here as well, with the
same reply, so Flask's url_map, `url_for('api.progress', …)` and the API's description know
it; a request reaches this view only where the fast path is not mounted.

The view functions carry no docstrings: the API's description names them by function name.
"""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from portal.api.auth import api_auth, current_api_claims, current_api_user
from portal.api.blueprint import api_bp
from portal.api.catalog import media_url
from portal.api.playback_schemas import API_PLAYBACK
from portal.playback import http


@api_bp.get(http.HISTORY, endpoint="history")
@api_auth()
@API_PLAYBACK["history"]
def api_history(video_id: int) -> ResponseReturnValue:
    return http.history(current_api_user(), video_id)


@api_bp.post(http.SESSIONS, endpoint="open_session")
@api_auth()
@API_PLAYBACK["open_session"]
def api_open_session(video_id: int) -> ResponseReturnValue:
    return http.open_playback(current_api_user(), video_id)


@api_bp.get(http.SESSION, endpoint="session")
@api_auth()
@API_PLAYBACK["session"]
def api_session(video_id: int, session_id: int) -> ResponseReturnValue:
    return http.details(current_api_claims().user_id, video_id, session_id)


@api_bp.post(http.PROGRESS, endpoint="progress")
@api_auth()
@API_PLAYBACK["progress"]
def api_progress(video_id: int, session_id: int) -> ResponseReturnValue:
    return http.progress(current_api_claims().user_id, video_id, session_id)


@api_bp.get(http.AD_FOR_SLOT, endpoint="ad_for_slot")
@api_auth()
@API_PLAYBACK["ad_for_slot"]
def api_ad_for_slot(video_id: int, session_id: int, slot_index: int) -> ResponseReturnValue:
    return http.ad_for_slot(current_api_claims().user_id, video_id, session_id, slot_index, media_url)


@api_bp.post(http.AD_VIEWS, endpoint="ad_view")
@api_auth()
@API_PLAYBACK["ad_view"]
def api_ad_view(video_id: int, session_id: int) -> ResponseReturnValue:
    return http.ad_view(current_api_claims().user_id, video_id, session_id)


@api_bp.post(http.AD_SKIP, endpoint="ad_skip")
@api_auth()
@API_PLAYBACK["ad_skip"]
def api_ad_skip(video_id: int, session_id: int, slot_index: int) -> ResponseReturnValue:
    return http.ad_skip(current_api_claims().user_id, video_id, session_id, slot_index)

"""Playback endpoints of the JSON API (bearer token): sessions, progress, ads (§4–§5).

The same handlers as the browser player's (portal/playback_http.py), for other players.
Progress reports arrive every 10 s from every player, so that endpoint verifies the token
without loading the user (`load_user=False`): report_progress refuses, in the query it runs
anyway, a session that is not the caller's (404) or whose account is switched off (401).
"""

from __future__ import annotations

from portal.api import api_bp
from portal.api.auth import api_auth, current_api_claims, current_api_user
from portal.api.catalog import media_url
from portal.playback_http import add_playback_routes

add_playback_routes(api_bp, prefix="", guard=api_auth(), user=current_api_user,
                    viewer_id=lambda: current_api_claims().user_id, media_url=media_url,
                    progress_guard=api_auth(load_user=False))

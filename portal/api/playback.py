"""Playback endpoints of the JSON API (bearer token): sessions, ads (§4–§5).

The same handlers as the browser player's (portal/playback_http.py), for other players.
Progress reports arrive every 10 s from every player: that endpoint is served in front of
Flask by portal/api/progress_fast_path.py.
"""

from __future__ import annotations

from portal.api import api_bp
from portal.api.auth import api_auth, current_api_claims, current_api_user
from portal.api.catalog import media_url
from portal.playback_http import add_playback_routes

add_playback_routes(api_bp, prefix="", guard=api_auth(), user=current_api_user,
                    viewer_id=lambda: current_api_claims().user_id, media_url=media_url, with_progress=False)

"""Playback endpoints of the JSON API (bearer token): sessions, ads (§4–§5).

The same handlers as the browser player's (portal/playback/http.py), for other players.
Progress reports arrive every 10 s from every player: that endpoint is answered in front of
Flask by portal/playback/fast_path.py. It is registered here as well, with the same reply,
so Flask's url_map, `url_for('api.progress', …)` and the API's description know it; a
request reaches this view only where the fast path is not mounted.
"""

from __future__ import annotations

from portal.api.auth import api_auth, current_api_claims, current_api_user
from portal.api.blueprint import api_bp
from portal.api.catalog import media_url
from portal.playback.http import add_playback_routes
from portal.playback.playback_schemas import API_PLAYBACK

add_playback_routes(api_bp, prefix="", guard=api_auth(), user=current_api_user,
                    viewer_id=lambda: current_api_claims().user_id, media_url=media_url, describe=API_PLAYBACK)

"""Playback endpoints of the JSON API (bearer token): sessions, progress, ads (§4–§5).

The same handlers as the browser player's (portal/playback_http.py), for other players.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g
from redis.exceptions import RedisError

from portal.api import api_bp, api_error
from portal.api.auth import api_auth, bearer_token, current_api_claims, current_api_user, is_revoked
from portal.api.catalog import media_url
from portal.api.tokens import TokenError, decode_token
from portal.playback_http import add_playback_routes
from portal.settings import settings


def token_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """`api_auth()` for the progress hot path, minus loading the user from the database.

    The token is verified and checked against the revocation list in the same way and with
    the same answers; instead of a User load per report, report_progress refuses in its own
    query a session that is not the caller's (404) or whose account is switched off (401).
    Progress reports arrive every 10 s from every player, so the saved query matters.
    """

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        token = bearer_token()
        if token is None:
            return api_error(401, "missing_token", "Send an 'Authorization: Bearer <token>' header.")
        try:
            claims = decode_token(token, settings())
            revoked = is_revoked(claims.jti)
        except TokenError as exc:
            return api_error(401, exc.code, exc.message)
        except RedisError:
            return api_error(503, "unavailable", "Token revocation cannot be checked right now; try again.")
        if revoked:
            return api_error(401, "token_revoked", "The access token has been revoked.")
        g.api_claims = claims
        return view(*args, **kwargs)

    return wrapped


add_playback_routes(api_bp, prefix="", guard=api_auth(), user=current_api_user,
                    viewer_id=lambda: current_api_claims().user_id, media_url=media_url, progress_guard=token_only)

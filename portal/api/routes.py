"""Every endpoint module of `/api/v1`, loaded so their routes are on `api_bp` (the app factory
imports this module; endpoint modules import portal/api/blueprint.py, never this one)."""

from __future__ import annotations

from portal.api import admin_users, audience, auth_endpoints, catalog, docs, ops, statements, stats  # noqa: F401  (register their routes)
from portal.api.blueprint import api_bp
from portal.playback import api as playback_api  # noqa: F401  (registers the playback routes)

__all__ = ["api_bp"]

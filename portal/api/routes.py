"""Every endpoint module of `/api/v1`, loaded so their routes are on `api_bp` (the app factory
imports this module; endpoint modules import portal/api/blueprint.py, never this one).

The playback routes are registered last: the API description lists its tags in the order the
routes were registered."""

from __future__ import annotations

# isort: off
from portal.api import admin_users, audience, auth_endpoints, catalog, docs, ops, retention, statements, stats  # noqa: F401  (register their routes)
from portal.api import playback  # noqa: F401  (registers the playback routes)
from portal.api.blueprint import api_bp
# isort: on

__all__ = ["api_bp"]

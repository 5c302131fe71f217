"""JSON API `/api/v1`: bearer-token authentication, JSON errors (portal/errors.py).

Importing this package registers every endpoint module's routes on `api_bp`
(portal/api/blueprint.py); the endpoint modules import the blueprint, never this package.
"""

from __future__ import annotations

from portal.api import admin_users, auth_endpoints, catalog, docs, ops, statements, stats  # noqa: F401  (register their routes)
from portal.api.blueprint import api_bp
from portal.playback import api as playback_api  # noqa: F401  (registers the playback routes)

__all__ = ["api_bp"]

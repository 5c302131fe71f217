"""JSON API `/api/v1`: bearer-token authentication, JSON errors (portal/errors.py).

Importing this package (or any module in it) has no side effects: the endpoint modules are
loaded, and so their routes registered on `api_bp`, by portal/api/routes.py, which the app
factory imports. (This package used to import them all, so any `portal.api.x` import ran
every endpoint module and, through the playback routes, made import circles.)
"""

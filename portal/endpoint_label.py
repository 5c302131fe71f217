"""The WSGI environ key under which a request's endpoint label reaches the request metrics
(portal/ops/metrics.py): set by the app's first before-request hook, or by a layer in front of
Flask that answers the request itself (portal/read_router)."""

ENDPOINT_KEY = "paysystem.endpoint"

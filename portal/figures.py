"""The app's figure cache (`models/figures/cache.py`) shared by pages and API in a process."""

from __future__ import annotations

from flask import current_app, g, has_request_context, request

from models.figures.cache import FigureCache
from models.figures.status_memo import StatusMemo
from portal.database import session_factory
from portal.read_pipeline import CHECKED_READ
from portal.read_replica import figure_session, reads_replica
from portal.redis_client import redis_client
from portal.settings import settings

_CACHE = "paysystem.figure_cache"


def app_figure_cache() -> FigureCache:
    """One cache, and so one circuit breaker, per app: when Redis dies the first few requests
    notice and the rest go straight to the database until the breaker tries again. The scope
    versions are read from the database (models/figures/cache.py), so an invalidation the batch
    made while Redis was down is not lost."""
    cache = current_app.extensions.get(_CACHE)
    if cache is None:
        cache = current_app.extensions[_CACHE] = FigureCache(
            redis_client(), engine=session_factory().kw["bind"],
            statuses=StatusMemo(settings().figure_status_ttl_seconds))
    return cache


def figure_cache() -> FigureCache:
    """The app's cache bound to this request's figure session (the replica's in a view marked
    `@figures_from_replica` while it is usable, portal/read_replica.py): the scope versions are
    read on that one connection, each at most once per request (`FigureCache.for_session`)."""
    if not has_request_context():
        return app_figure_cache()
    bound: FigureCache | None = g.get("figure_cache")
    if bound is None:
        bound = g.figure_cache = app_figure_cache().for_session(figure_session())
        checked = request.environ.get(CHECKED_READ)
        # The router read the versions on the primary: figures read on a replica are kept under
        # the versions the replica holds, never old rows under new versions.
        if checked is not None and not reads_replica():
            bound.already_read(checked.versions)
    return bound

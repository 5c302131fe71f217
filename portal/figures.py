"""The app's figure cache (`models/figure_cache.py`) shared by pages and API in a process."""

from __future__ import annotations

from flask import current_app

from models.figure_cache import FigureCache
from portal.database import session_factory
from portal.redis_client import redis_client

_CACHE = "paysystem.figure_cache"


def figure_cache() -> FigureCache:
    """One cache, and so one circuit breaker, per app: when Redis dies the first few requests
    notice and the rest go straight to the database until the breaker tries again. The scope
    versions are read from the database (models/figure_cache.py), so an invalidation the batch
    made while Redis was down is not lost."""
    cache = current_app.extensions.get(_CACHE)
    if cache is None:
        cache = current_app.extensions[_CACHE] = FigureCache(
            redis_client(), engine=session_factory().kw["bind"])
    return cache

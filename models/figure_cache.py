"""Read-aside cache of portal figures in Redis, versioned per business day and period.

A cached value's key carries the current version number of its scope (a day, an ISO
week or a month), so the batch invalidates everything computed from a day with one
INCR per scope: old keys are never read again and expire on their own. When Redis is
slow or down the figures are computed from the database; a circuit breaker stops a
dead Redis from adding its timeout to every page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any, TypeVar

import pybreaker
from redis import Redis
from redis.exceptions import RedisError

from models.business_time import month_start, week_start

T = TypeVar("T")
log = logging.getLogger(__name__)

PREFIX = "paysystem:figures"
DEFAULT_TTL_SECONDS = 6 * 3600


def scope(kind: str, start: date) -> str:
    """`day:2026-03-01`, `week:2026-02-23` (Monday) or `month:2026-03-01`."""
    return f"{kind}:{start.isoformat()}"


def scopes_of_day(day: date) -> list[str]:
    """What a change of one day's figures makes stale: the day, its week and its month."""
    return [scope("day", day), scope("week", week_start(day)), scope("month", month_start(day))]


class FigureCache:
    def __init__(self, redis: Redis | None, *, ttl_seconds: int = DEFAULT_TTL_SECONDS,
                 breaker: pybreaker.CircuitBreaker | None = None) -> None:
        self.redis = redis
        self.ttl = ttl_seconds
        self.breaker = breaker or pybreaker.CircuitBreaker(fail_max=3, reset_timeout=30,
                                                           exclude=[lambda e: not isinstance(e, RedisError)])

    def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.breaker.call(fn, *args)

    def _version(self, scope_name: str) -> int:
        assert self.redis is not None
        value = self._call(self.redis.get, f"{PREFIX}:version:{scope_name}")
        return int(value or 0)

    def get_or_compute(self, scope_name: str, key: str, compute: Callable[[], T]) -> T:
        """The cached JSON value of `key` in `scope_name`, or `compute()` (cached when possible)."""
        if self.redis is None:
            return compute()
        try:
            full_key = f"{PREFIX}:{scope_name}:v{self._version(scope_name)}:{key}"
        except (RedisError, pybreaker.CircuitBreakerError) as exc:
            log.warning("figure cache unavailable, reading the database: %s", exc)
            return compute()
        return self.read_through(full_key, compute)

    def read_through(self, full_key: str, compute: Callable[[], T]) -> T:
        """The JSON value stored under `full_key` (already versioned), or `compute()` stored there."""
        assert self.redis is not None
        try:
            cached = self._call(self.redis.get, full_key)
        except (RedisError, pybreaker.CircuitBreakerError) as exc:
            log.warning("figure cache unavailable, reading the database: %s", exc)
            return compute()
        if cached is not None:
            return json.loads(cached)
        value = compute()
        try:
            self._call(self.redis.set, full_key, json.dumps(value, default=str), self.ttl)
        except (RedisError, pybreaker.CircuitBreakerError) as exc:
            log.warning("could not store a figure in the cache: %s", exc)
        return value

    def invalidate_scopes(self, scope_names: Iterable[str]) -> bool:
        """One INCR per scope; False (and nothing raised) when Redis is unavailable."""
        if self.redis is None:
            return False
        names = list(dict.fromkeys(scope_names))
        try:
            pipe = self.redis.pipeline(transaction=False)
            for name in names:
                pipe.incr(f"{PREFIX}:version:{name}")
            self._call(pipe.execute)
        except (RedisError, pybreaker.CircuitBreakerError) as exc:
            log.warning("could not invalidate cached figures %s: %s", names, exc)
            return False
        return True

    def invalidate(self, touched: Iterable[tuple[str, date]]) -> bool:
        """Invalidate (kind, start) pairs; a day also invalidates its week and month."""
        names: list[str] = []
        for kind, start in touched:
            names.extend(scopes_of_day(start) if kind == "day" else [scope(kind, start)])
        return self.invalidate_scopes(names)


def month_scopes(first: date, last: date) -> list[str]:
    """The month scopes a range of days overlaps: a value computed from any of its days is
    invalidated by the batch's per-month INCR of the day it recomputed."""
    names, current = [], month_start(first)
    while current <= last:
        names.append(scope("month", current))
        current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
    return names


def get_or_compute_in(cache: FigureCache | None, scope_names: list[str], key: str, compute: Callable[[], T]) -> T:
    """Like `FigureCache.get_or_compute`, for a value that depends on several scopes (a range of
    days): its key carries every scope's version, read in one MGET, so invalidating any one of
    them makes it unreachable."""
    if cache is None or cache.redis is None:
        return compute()
    if len(scope_names) == 1:
        return cache.get_or_compute(scope_names[0], key, compute)
    try:
        versions = cache._call(cache.redis.mget, [f"{PREFIX}:version:{name}" for name in scope_names])
    except (RedisError, pybreaker.CircuitBreakerError) as exc:
        log.warning("figure cache unavailable, reading the database: %s", exc)
        return compute()
    tag = ",".join(f"{name}@{int(v or 0)}" for name, v in zip(scope_names, versions, strict=True))
    return cache.read_through(f"{PREFIX}:multi:{tag}:{key}", compute)

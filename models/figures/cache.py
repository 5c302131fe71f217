"""Read-aside cache of portal figures in Redis, versioned per business day and period.

A cached value's key carries the current version number of its scope (a day, an ISO
week or a month), so the batch invalidates everything computed from a day by bumping
one version per scope: old keys are never read again and expire on their own. When Redis
is slow or down the figures are computed from the database; a circuit breaker stops a
dead Redis from adding its timeout to every page.

The versions live in the database (`figure_versions`) and only there: a batch that re-runs
a day while Redis is down still bumps them, so once Redis is back no reader is served the
figures from before the re-run (with versions in Redis that bump was lost and old figures
lived up to their 6-hour TTL). Reading a version is one primary-key lookup. Issue 19: the
second version store, Redis counters bumped "for readers built without an engine", is gone;
every cache has an engine (the portal's, the batch's, the benchmark's).

A portal request reads the versions through `for_session(session)`: on the request's own
connection (no second pooled connection with its own ping and rollback), every scope at most
once per request (a page that shows the same month four times asks for its version once), and
`prefetch` lets a page ask for all the scopes it will need in one query.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, TypeVar

import pybreaker
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import BigInteger, Connection, Engine, String, bindparam, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import TABLE_ARGS, Base, UTCDateTime, utcnow
from models.figures.period_calendar import GRANULARITIES, month_starts, period_start
from models.figures.status_memo import StatusMemo
from models.redis_conn import key_namespace
from models.upserts import insert_if_missing

T = TypeVar("T")
log = logging.getLogger(__name__)

# Without a database (tests and benchmarks of the cache alone) keys start with this; an app's
# cache has an engine, and its keys start with the database's namespace (`figures_prefix`).
DEFAULT_TTL_SECONDS = 6 * 3600


# The scope of every cached figure that shows video titles (Top-5s, settlement tables and the
# answers and dashboards built from them): renaming, hiding or deleting a video bumps it in the
# same transaction (`bump_in`), so no cached figure shows an old title (issue 18, item 10).
TITLES_SCOPE = "titles"


def scope(kind: str, start: date) -> str:
    """`day:2026-03-01`, `week:2026-02-23` (Monday) or `month:2026-03-01`."""
    return f"{kind}:{start.isoformat()}"


def scopes_of_day(day: date) -> list[str]:
    """What a change of one day's figures makes stale: the day, its week and its month."""
    return [scope(kind, period_start(kind, day)) for kind in GRANULARITIES]


class FigureVersion(Base):
    """The version of one cache scope; bumped whenever the batch changes its figures."""

    __tablename__ = "figure_versions"
    __table_args__ = (TABLE_ARGS,)

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


_FV = FigureVersion.__table__
# Built once (asked on every cached read): a prebuilt statement skips most of the per-call
# construction and cache-key work of a fresh select.
_VERSIONS = select(_FV.c.scope, _FV.c.version).where(_FV.c.scope.in_(bindparam("scopes", expanding=True)))


class FigureCache:
    def __init__(self, redis: Redis | None, *, engine: Engine, ttl_seconds: int = DEFAULT_TTL_SECONDS,
                 breaker: pybreaker.CircuitBreaker | None = None, statuses: StatusMemo | None = None,
                 namespace: str | None = None) -> None:
        self.redis = redis
        # Keys carry the database's namespace (models/redis_conn.py `key_namespace`): the
        # engine's, or `namespace` for a reader without one that must meet the batch's keys.
        if namespace is None:
            namespace = key_namespace(engine.url)
        self.prefix = figures_prefix(namespace)
        # The data statuses shown next to the figures (never cached in Redis): exact when None.
        self.statuses = statuses
        self.engine = engine
        self.ttl = ttl_seconds
        self.breaker = breaker or pybreaker.CircuitBreaker(fail_max=3, reset_timeout=30,
                                                           exclude=[lambda e: not isinstance(e, RedisError)])
        self._session: Session | None = None
        self._known: dict[str, int] = {}  # versions already read by this request
        self._held: list[tuple[str, bytes, int]] | None = None  # stores kept for one round trip

    def for_session(self, session: Session) -> FigureCache:
        """This cache for one request: the versions are read on `session`'s connection (inside
        its transaction, so they match the rows it reads) and each scope once per request.
        Shares Redis, the breaker and the TTL with `self`; never share it between requests."""
        bound = copy.copy(self)
        bound._session, bound._known, bound._held = session, {}, None
        return bound

    def hold_writes(self) -> None:
        """Keep the values this request computes until `write_held`, which stores them together
        with what the request itself has to store (the API's whole answer): one Redis round
        trip instead of one each. Only for a bound cache whose caller calls `write_held`."""
        if self._session is not None:
            self._held = []

    def write_held(self, extra: Iterable[tuple[str, bytes, int]] = ()) -> None:
        """Store the held values and `extra` (key, value, TTL in seconds) in one pipeline; an
        unavailable Redis only costs the next reads a miss, as for any store."""
        writes = [*(self._held or []), *extra]
        self._held = None
        if not writes or self.redis is None:
            return
        try:
            pipe = self.redis.pipeline(transaction=False)
            for key, value, ttl in writes:
                pipe.set(key, value, ttl)
            self._call(pipe.execute)
        except (RedisError, pybreaker.CircuitBreakerError) as exc:
            log.warning("could not store figures in the cache: %s", exc)

    def already_read(self, versions: dict[str, int]) -> None:
        """Versions this request read earlier, before any of its figures (the read router reads
        them with the caller's role, portal/read_pipeline.py `CheckedRead`): not asked again.
        Read before the figures, they can only be as new as the rows the request then reads or
        older, so a value is never stored under a version newer than its rows (the batch writes
        the rows, then bumps)."""
        if self._session is not None:
            self._known.update(versions)

    def prefetch(self, scope_names: Iterable[str]) -> None:
        """Read the versions of all these scopes in one query (a request bound by `for_session`
        that knows what it will show); later lookups of them cost nothing."""
        if self._session is not None and self.redis is not None:
            self._database_versions(list(dict.fromkeys(scope_names)))

    def versions(self, scope_names: list[str]) -> dict[str, int]:
        """The database versions of these scopes (on the request's connection when bound, so the
        same ones its figures were read under): for keys of values derived from those figures."""
        return self._database_versions(list(dict.fromkeys(scope_names)))

    def _database_versions(self, scope_names: list[str]) -> dict[str, int]:
        missing = [name for name in scope_names if name not in self._known]
        if missing:
            if self._session is not None:
                found = dict(self._session.execute(_VERSIONS, {"scopes": missing}).all())
                self._known.update({name: int(found.get(name) or 0) for name in missing})
            else:
                with self.engine.connect() as conn:
                    found = dict(conn.execute(_VERSIONS, {"scopes": missing}).all())
                return {name: int(found.get(name) or 0) for name in scope_names}
        return {name: self._known[name] for name in scope_names}

    def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.breaker.call(fn, *args)

    def _versioned_key(self, scope_names: list[str], key: str) -> str:
        """The key of a value computed from `scope_names`: every scope's version, read in one
        query, so bumping any one of them makes it unreachable."""
        return versioned_key(self.prefix, scope_names, key, self._database_versions(scope_names))

    def get_or_compute(self, scope_name: str, key: str, compute: Callable[[], T]) -> T:
        """The cached JSON value of `key` in `scope_name`, or `compute()` (cached when possible)."""
        return self.get_or_compute_in([scope_name], key, compute)

    def get_or_compute_in(self, scope_names: list[str], key: str, compute: Callable[[], T]) -> T:
        """The same for a value that depends on several scopes (a range of days)."""
        if self.redis is None:
            return compute()
        try:
            full_key = self._versioned_key(scope_names, key)
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
        if self._held is not None:
            self._held.append((full_key, json.dumps(value, default=str).encode(), self.ttl))
            return value
        try:
            self._call(self.redis.set, full_key, json.dumps(value, default=str), self.ttl)
        except (RedisError, pybreaker.CircuitBreakerError) as exc:
            log.warning("could not store a figure in the cache: %s", exc)
        return value

    def invalidate_scopes(self, scope_names: Iterable[str]) -> bool:
        """Bump each scope's database version; False (and nothing raised) when it could not be
        recorded (the database unavailable): then the values expire on their own."""
        names = list(dict.fromkeys(scope_names))
        try:
            with self.engine.begin() as conn:
                bump_in(conn, names)
        except SQLAlchemyError as exc:
            log.warning("could not record the invalidation of cached figures %s: %s", names, exc)
            return False
        return True

    def invalidate(self, touched: Iterable[tuple[str, date]]) -> bool:
        """Invalidate (kind, start) pairs; a day also invalidates its week and month."""
        names: list[str] = []
        for kind, start in touched:
            names.extend(scopes_of_day(start) if kind == "day" else [scope(kind, start)])
        return self.invalidate_scopes(names)


def bump_in(session: Session | Connection, scope_names: Iterable[str]) -> None:
    """Bump these scopes' database versions in the caller's transaction (not committed): with
    the change that makes their cached figures wrong, so both are committed or neither is, and a
    reader never meets the new version with the old rows (or the reverse)."""
    names = list(dict.fromkeys(scope_names))
    now = utcnow()
    for name in names:
        insert_if_missing(session, _FV, {"scope": name, "version": 0, "updated_at": now})
    session.execute(update(_FV).where(_FV.c.scope.in_(names)).values(version=_FV.c.version + 1, updated_at=now))


def figures_prefix(namespace: str) -> str:
    """The start of the cached figures' keys of the database whose `key_namespace` this is."""
    return f"{namespace}:figures"


def versioned_key(prefix: str, scope_names: list[str], key: str, versions: dict[str, int]) -> str:
    """The full Redis key of a value computed from `scope_names` under these database versions
    (`prefix`: the cache's, `figures_prefix`)."""
    tag = ",".join(f"{name}@d{versions.get(name, 0)}" for name in scope_names)
    return f"{prefix}:{tag}:{key}"


def month_scopes(first: date, last: date) -> list[str]:
    """The month scopes a range of days overlaps: a value computed from any of its days is
    invalidated by the batch's per-month INCR of the day it recomputed."""
    return [scope("month", start) for start in month_starts(first, last)]


def get_or_compute_in(cache: FigureCache | None, scope_names: list[str], key: str, compute: Callable[[], T]) -> T:
    """`FigureCache.get_or_compute_in`, or `compute()` when there is no cache."""
    return compute() if cache is None else cache.get_or_compute_in(scope_names, key, compute)

"""Whole answers of the Top-5 and settlements API, cached in Redis for the WSGI fast path.

A cached read through Flask still costs a few milliseconds of Python (request plumbing, the
ORM, three round trips); issue 11 asks for more than Flask's own ceiling. So the Flask views
store the exact JSON bytes of a 200 answer here, and portal/api/read_fast_path.py answers the
same request from them without Flask. Both sides build the key with `response_key`, from:

- the database's key namespace (models/redis_conn.py `key_namespace`: two databases on one
  Redis never meet);
- the endpoint and the validated query (its fields sorted, defaults resolved — Top-5's
  default day is yesterday — so `?metric=views` and no query are the same answer);
- the effective scope: the seller a seller's token is scoped to, or for an admin the
  `seller_id` asked for or the platform (models/figures/scope.py `seller_scope`, the one rule
  for pages and API);
- the database versions of the figure-cache scopes the answer was computed under
  (models/figures/top.py `top5_span`, models/figures/settlements.py `settlement_span`): a
  batch that recomputes a day bumps them (models/figures/cache.py), so the old answer is never
  read again. The key is a figure-cache key (`versioned_key`): one versioned cache in Redis,
  whose entries are figures or, here, whole answers (issue 19).

Only answers about closed days are stored (`answer_plan` is None when the period reaches
today: the live estimate changes all the time). The body also carries data statuses, which
the portal may show up to FIGURE_STATUS_TTL_SECONDS late (models/figures/status_memo.py), so an answer
lives that long; with the memo switched off (0) nothing is stored.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pybreaker
from redis import Redis
from redis.exceptions import RedisError

from models.business_time import today
from models.figures.date_window import DayWindow
from models.figures.cache import figures_prefix, versioned_key
from models.figures.settlements import settlement_span, settlement_table_key
from models.figures.top import top5_span
from models.figures.tables import PeriodKind
from portal.queries import figures as schema  # the query models (portal/queries)

log = logging.getLogger(__name__)

TOP5, SETTLEMENTS = "top5", "settlements"
# The paths whose answers are cached, with the query model that validates them (the same as Flask's).
ENDPOINTS: dict[str, tuple[str, type[schema._Query]]] = {
    "/api/v1/stats/top5": (TOP5, schema.Top5Query),
    "/api/v1/settlements": (SETTLEMENTS, schema.SettlementsQuery),
}


@dataclass(frozen=True)
class AnswerPlan:
    """What a cached answer depends on besides the caller: its canonical query and scopes."""

    endpoint: str
    query: str
    scopes: list[str]


def top5_day(query: schema.Top5Query, tz: ZoneInfo) -> date:
    """The day a Top-5 query is about (default: yesterday, business time)."""
    return query.day or today(tz) - timedelta(days=1)


def answer_plan(endpoint: str, query: schema._Query, tz: ZoneInfo) -> AnswerPlan | None:
    """The plan of a cacheable answer, or None when it covers today (live figures)."""
    fields = query.model_dump(mode="json", exclude={"seller_id"})
    if endpoint == TOP5:
        assert isinstance(query, schema.Top5Query)
        day = top5_day(query, tz)
        fields["day"] = day.isoformat()
        _, end, scopes = top5_span(PeriodKind(query.period), day)
    else:
        assert isinstance(query, schema.SettlementsQuery)
        _, end, scopes = settlement_span(query.granularity, query.first, query.last)
    if end >= today(tz):
        return None
    canonical = "&".join(f"{name}={'' if value is None else value}" for name, value in sorted(fields.items()))
    return AnswerPlan(endpoint, canonical, scopes)


def response_key(namespace: str, plan: AnswerPlan, seller_id: int | None, versions: dict[str, int]) -> str:
    """The one key of an answer: endpoint, canonical query, scope and every scope's version.
    An entry of the figure cache (models/figures/cache.py `versioned_key`): the same key space,
    versions and invalidation as the figures it is made of."""
    who = "platform" if seller_id is None else f"seller={seller_id}"
    return versioned_key(figures_prefix(namespace), plan.scopes, f"answer:{plan.endpoint}:{who}:{plan.query}", versions)


def settlement_args(query: schema.SettlementsQuery) -> dict[str, Any]:
    """The arguments of `settlement_table` (and of its cache key) a settlements query asks for:
    spelled once, for the view and for the fast path's key below."""
    return {"granularity": query.granularity, "first": query.first, "last": query.last,
            "video_id": query.video_id, "sort": query.sort, "descending": query.direction == "desc",
            "page": query.page, "per_page": query.per_page}


def settlement_figure_key(namespace: str, query: schema.SettlementsQuery, seller_id: int | None,
                          versions: dict[str, int]) -> str:
    """The figure-cache key (models/figures/cache.py) of the table the settlements view computes
    for this query and scope under these versions: fetched with the answer by the fast path, so
    a miss does not cost the view a Redis round trip of its own."""
    scopes, key = settlement_table_key(seller_id, **settlement_args(query))
    return versioned_key(figures_prefix(namespace), scopes, key, versions)


def answer_writes(key: str, body: bytes, ttl_seconds: int) -> list[tuple[str, bytes, int]]:
    """The Redis write (key, value, TTL) that keeps an answer for `ttl_seconds`, for the request's
    one pipelined store (`FigureCache.write_held`); none when answers are not kept (0).

    The value starts with the answer's expiry (Unix time) so that a process that keeps a copy
    (`LocalAnswers`) drops it when Redis does, never later."""
    if ttl_seconds <= 0:
        return []
    return [(key, b"%.3f\n" % (time.time() + ttl_seconds) + body, ttl_seconds)]


def fetch(redis: Redis, breaker: pybreaker.CircuitBreaker, key: str) -> tuple[float, bytes] | None:
    """The stored answer's expiry and bytes, or None (also when Redis is unavailable: Flask answers then)."""
    try:
        value = breaker.call(redis.get, key)
    except (RedisError, pybreaker.CircuitBreakerError):
        return None
    if value is None:
        return None
    expires, _, body = value.partition(b"\n")
    return float(expires), body


def fetch_with(redis: Redis, breaker: pybreaker.CircuitBreaker, key: str,
               others: list[str]) -> tuple[tuple[float, bytes] | None, dict[str, bytes | None]]:
    """`fetch`, and the values of `others` (None: missing) in the same round trip (nothing of
    them when Redis is unavailable)."""
    if not others:
        return fetch(redis, breaker, key), {}
    try:
        value, *rest = breaker.call(redis.mget, [key, *others])
    except (RedisError, pybreaker.CircuitBreakerError):
        return None, {}
    fetched = dict(zip(others, rest, strict=True))
    if value is None:
        return None, fetched
    expires, _, body = value.partition(b"\n")
    return (float(expires), body), fetched


class LocalAnswers:
    """A process's copies of answers it fetched, each until the expiry stored with it (so no
    answer lives longer than in Redis): a repeated read skips the Redis round trip. The key
    carries the versions just read from the database, so a batch's bump is never missed."""

    def __init__(self, max_entries: int = 1024) -> None:
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, bytes]] = {}

    def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= time.time():
            return None
        return entry[1]

    def put(self, key: str, expires: float, body: bytes) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()  # whole-sale: cheaper than an LRU, and entries live seconds
        self._entries[key] = (expires, body)


def parsed_query(endpoint_model: type[schema._Query], params: dict[str, Any],
                 window: DayWindow) -> schema._Query | None:
    """The validated query, or None when it does not validate (Flask then says why). `window`
    is the app's date window (models/figures/date_window.py): the same days as Flask's validation."""
    try:
        return endpoint_model.model_validate(params, context={schema.WINDOW: window})
    except ValueError:
        return None

"""The one read pipeline of the cached API answers (`GET /api/v1/stats/top5`, `/api/v1/settlements`).

query model -> plan -> scope -> versioned key in the figure cache -> answer bytes, stored or
fetched. The Flask views (portal/api/stats.py) and the router in front of Flask
(portal/read_router) both go through these functions, so an answer is planned, scoped and
keyed in one place and the router can only ever serve what a view stored for the same caller
(issue 19, item 3):

- query: the API's pydantic query models (portal/queries), validated with the app's date
  window (`parsed_query`; the views get theirs from spectree, with the same models);
- plan (`answer_plan`): the canonical query (fields sorted, defaults resolved — Top-5's default
  day is yesterday — so `?metric=views` and no query are the same answer) and the figure-cache
  scopes the answer is computed from (models/figures/top.py `top5_span`,
  models/figures/settlements.py `settlement_span`); None when the period reaches today (the
  live estimate changes all the time: never stored);
- scope: the seller a seller's token is scoped to, or for an admin the `seller_id` asked for or
  the platform (models/figures/scope.py `seller_scope`, the one rule for pages and API);
- key (`answer_key`): an entry of the one versioned figure cache (models/figures/cache.py
  `versioned_key`, under the cache's own prefix, so two databases on one Redis never meet):
  a batch that recomputes a day bumps the scopes' versions and the old answer is never read
  again;
- answer: the exact JSON bytes of the view's 200 answer, stored in the request's one pipelined
  Redis write with the figures it computed (`keep_answer`) and fetched by the router
  (`stored_answer`).

One thing crosses from the router to Flask, under one environ key (`CHECKED_READ`): what the
router's one database round trip found when it then cannot answer (a miss): the verified
claims, the active role and the scopes' versions (`CheckedRead`). Without it a settlements
miss costs Flask the token check, the role query and the versions query again (a miss took
~35-50 % longer in-process, README "Portal read benchmark"); `api_auth` and the request's
figure cache take it over. Only code can set it: a client's headers reach the environ as
`HTTP_*` keys only.

The body also carries data statuses, which the portal may show up to FIGURE_STATUS_TTL_SECONDS
late (models/figures/status_memo.py), so an answer lives that long; with the memo switched off
(0) nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pybreaker
from redis.exceptions import RedisError

from models import Role
from models.business_time import today
from models.figures.cache import FigureCache, versioned_key
from models.figures.date_window import DayWindow
from models.figures.settlements import settlement_span
from models.figures.tables import PeriodKind
from models.figures.top import top5_span
from portal.queries import figures as schema  # the query models (portal/queries)

TOP5, SETTLEMENTS = "top5", "settlements"
# The paths whose answers are cached, with the query model that validates them (the same as Flask's).
ENDPOINTS: dict[str, tuple[str, type[schema.ScopedQuery]]] = {
    "/api/v1/stats/top5": (TOP5, schema.Top5Query),
    "/api/v1/settlements": (SETTLEMENTS, schema.SettlementsQuery),
}


CHECKED_READ = "paysystem.read_router.checked"


@dataclass(frozen=True)
class CheckedRead:
    """What `api_auth` and the figure cache would find for this request, found moments ago by the
    router: the verified claims (portal/api/tokens.py `TokenClaims`) of `authorization`, the
    account's role (it is active) and the versions of the plan's figure scopes."""

    authorization: str
    claims: Any
    role: Role
    versions: dict[str, int]


def parsed_query(endpoint_model: type[schema.ScopedQuery], params: dict[str, Any],
                 window: DayWindow) -> schema.ScopedQuery | None:
    """The validated query, or None when it does not validate (Flask then says why). `window`
    is the app's date window (models/figures/date_window.py): the same days as Flask's validation."""
    try:
        return endpoint_model.model_validate(params, context={schema.WINDOW: window})
    except ValueError:
        return None


@dataclass(frozen=True)
class AnswerPlan:
    """What a cached answer depends on besides the caller: its canonical query and scopes."""

    endpoint: str
    query: str
    scopes: list[str]


def top5_day(query: schema.Top5Query, tz: ZoneInfo) -> date:
    """The day a Top-5 query is about (default: yesterday, business time)."""
    return query.day or today(tz) - timedelta(days=1)


def answer_plan(endpoint: str, query: schema.ScopedQuery, tz: ZoneInfo) -> AnswerPlan | None:
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


def settlement_args(query: schema.SettlementsQuery) -> dict[str, Any]:
    """The arguments of `settlement_table` a settlements query asks for."""
    return {"granularity": query.granularity, "first": query.first, "last": query.last,
            "video_id": query.video_id, "sort": query.sort, "descending": query.direction == "desc",
            "page": query.page, "per_page": query.per_page}


def answer_key(cache: FigureCache, plan: AnswerPlan, seller_id: int | None, versions: dict[str, int]) -> str:
    """The one key of an answer: endpoint, canonical query, scope (`seller_scope`'s result) and
    every scope's version, in the figure cache's key space."""
    who = "platform" if seller_id is None else f"seller={seller_id}"
    return versioned_key(cache.prefix, plan.scopes, f"answer:{plan.endpoint}:{who}:{plan.query}", versions)


def keep_answer(cache: FigureCache, plan: AnswerPlan | None, seller_id: int | None, body: bytes | None,
                ttl_seconds: int) -> None:
    """Store a 200 answer's bytes (`body`; None for any other answer) for `ttl_seconds` in the
    same Redis round trip as the figures the request computed (`FigureCache.write_held`), under
    the versions the request read its figures with (already known: no extra query). `plan` is
    made before the answer is computed: a period still live then is never stored."""
    writes = []
    if plan is not None and body is not None and cache.redis is not None and ttl_seconds > 0:
        writes.append((answer_key(cache, plan, seller_id, cache.versions(plan.scopes)), body, ttl_seconds))
    cache.write_held(writes)


def stored_answer(cache: FigureCache, key: str) -> bytes | None:
    """The stored answer's bytes, or None (also when Redis is unavailable: Flask answers then;
    the cache's circuit breaker notices a dead Redis once for the whole process)."""
    if cache.redis is None:
        return None
    try:
        return cache.breaker.call(cache.redis.get, key)
    except (RedisError, pybreaker.CircuitBreakerError):
        return None

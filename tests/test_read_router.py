"""Cached Top-5 and settlements answers served in front of Flask by the read router
(portal/read_router), through the one read pipeline (portal/read_pipeline.py).

The full app (`portal_app.test_client()`) answers a miss through Flask, which stores the answer;
a second `ReadRouter` in front of a stand-in for Flask that records every request it gets
(answering 599) shows whether the router answered by itself or handed the request on.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import timedelta

import pybreaker
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.test import Client

from models import Role, User, Video
from models.accounts.service import create_user
from models.business_time import month_start, today, week_start
from portal.figures import app_figure_cache
from portal.read_router import ReadRouter
from tests.support import TEST_PASSWORD, free_port
from tests.watching_support import bearer

DROPPED = ("Date",)  # differs between two answers anyway


class Standin:
    """What the router hands requests to: records the path and query, answers 599."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        self.seen.append(f"{environ['PATH_INFO']}?{environ.get('QUERY_STRING', '')}")
        start_response("599 Not Flask", [("Content-Type", "text/plain")])
        return [b"flask"]


@pytest.fixture
def paths(portal_app, portal_data):  # type: ignore[no-untyped-def]
    """(get through the whole app, get through the router alone, the stand-in)."""
    full = portal_app.test_client()
    standin = Standin()
    router = Client(ReadRouter(portal_app, standin))
    settings = portal_data.backend.settings

    def through_app(user, url, headers=None):  # type: ignore[no-untyped-def]
        return full.get("/api/v1" + url, headers=headers or bearer(user, settings))

    def through_router(user, url, headers=None):  # type: ignore[no-untyped-def]
        return router.get("/api/v1" + url, headers=headers or bearer(user, settings))

    return through_app, through_router, standin


def _headers(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {k: v for k, v in response.headers.items() if k not in DROPPED}


def _served_by_router(standin: Standin, response) -> bool:  # type: ignore[no-untyped-def]
    return not standin.seen and response.status_code == 200


def test_a_hit_is_the_flask_answer_byte_for_byte_with_the_same_headers(paths, portal_data):
    through_app, through_router, standin = paths
    seller = portal_data.sellers[0]
    last, first = portal_data.last, portal_data.first
    for url in ("/stats/top5", f"/stats/top5?metric=watch_seconds&period=week&date={first}",
                f"/stats/top5?period=month&date={first}&metric=views",
                f"/settlements?from={first}&to={last}", f"/settlements?from={first}&to={week_start(last) - timedelta(days=1)}&granularity=week"
                                                         "&sort=total_amount&dir=desc&per_page=5&page=2"):
        miss = through_app(seller, url)
        assert miss.status_code == 200, (url, miss.get_data())
        hit = through_router(seller, url)
        assert _served_by_router(standin, hit), url
        assert hit.get_data() == miss.get_data()
        assert _headers(hit) == _headers(miss)
        again = through_app(seller, url)  # the whole app (metrics, progress path) serves it too
        assert again.get_data() == miss.get_data() and _headers(again) == _headers(miss)
    # Defaults resolved: no query is yesterday's Top-5 by views, the same answer as spelled out.
    spelled = through_router(seller, f"/stats/top5?metric=views&period=day&date={last}")
    assert _served_by_router(standin, spelled) and spelled.get_data() == through_app(seller, "/stats/top5").get_data()


def test_another_seller_never_gets_a_sellers_cached_answer(paths, portal_data):
    through_app, through_router, standin = paths
    owner, other = portal_data.sellers[0], portal_data.sellers[1]
    url = f"/settlements?from={portal_data.first}&to={portal_data.last}&per_page=500"
    mine = through_app(owner, url)
    assert mine.status_code == 200 and mine.get_json()["rows"]
    # The other seller asks the same, and also forges seller_id (ignored for sellers).
    forged = f"{url}&seller_id={owner.id}"
    for asked in (url, forged):
        answer = through_router(other, asked)
        assert answer.status_code == 599 and standin.seen  # a miss: handed to Flask
        standin.seen.clear()
    theirs = through_app(other, forged)
    assert theirs.status_code == 200 and theirs.get_data() != mine.get_data()
    assert {r["video_id"] for r in theirs.get_json()["rows"]} <= set(portal_data.videos[other.id])
    # Now cached for them: their own answer, whichever seller_id they send.
    for asked in (url, forged):
        hit = through_router(other, asked)
        assert _served_by_router(standin, hit) and hit.get_data() == theirs.get_data()


def test_an_admin_gets_the_platform_or_the_chosen_sellers_answer(paths, portal_data):
    through_app, through_router, standin = paths
    seller, admin = portal_data.sellers[2], portal_data.admin
    url = f"/stats/top5?period=month&date={portal_data.first}"
    of_seller = through_app(seller, url)
    chosen = through_router(admin, f"{url}&seller_id={seller.id}")  # the same answer, computed for the seller
    assert _served_by_router(standin, chosen) and chosen.get_data() == of_seller.get_data()
    assert chosen.get_data() == through_app(admin, f"{url}&seller_id={seller.id}").get_data()
    platform = through_router(admin, url)
    assert platform.status_code == 599  # never the seller's answer
    standin.seen.clear()
    whole = through_app(admin, url)
    assert whole.status_code == 200 and whole.get_data() != of_seller.get_data()
    hit = through_router(admin, url)
    assert _served_by_router(standin, hit) and hit.get_data() == whole.get_data()
    # A seller's token with seller_id is still the seller's own answer.
    own = through_router(seller, f"{url}&seller_id={portal_data.sellers[0].id}")
    assert _served_by_router(standin, own) and own.get_data() == of_seller.get_data()


def test_a_miss_hands_the_checked_caller_and_versions_to_flask_which_stores_the_answer_with_its_figures(
        paths, portal_data, portal_app, monkeypatch):
    """On a miss the router hands over what its one round trip found (`CheckedRead`): Flask asks
    the database for neither the caller nor the versions, only for the table, reads the table's
    figures (GET), and stores them with the answer in one pipelined round trip; once the answer
    has expired the cached figures are used and only the answer is stored."""
    from redis.client import Pipeline, Redis
    from sqlalchemy import event

    from portal.database import session_factory

    commands: list[str] = []  # of this request (the revocation feed's thread has its own)
    real_command, real_pipeline, me = Redis.execute_command, Pipeline.execute, threading.get_ident()

    def command(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if threading.get_ident() == me:
            commands.append(str(args[0]))
        return real_command(self, *args, **kwargs)

    def pipeline(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if threading.get_ident() == me:
            commands.append("pipeline:" + ",".join(str(c[0][0]) for c in self.command_stack))
        return real_pipeline(self, *args, **kwargs)

    monkeypatch.setattr(Redis, "execute_command", command)
    monkeypatch.setattr(Pipeline, "execute", pipeline)

    through_app, through_router, standin = paths
    seller = portal_data.sellers[2]
    url = f"/settlements?from={portal_data.first}&to={portal_data.last}&sort=ad_views&per_page=3&page=2"
    engine = session_factory(portal_app).kw["bind"]
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if threading.get_ident() == me:  # not the revocation feed's thread reloading its records
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        miss = through_app(seller, url)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert miss.status_code == 200 and len(miss.get_json()["rows"]) == 3
    # The router's GET of the answer, Flask's GET of the table's figures, both stored at once.
    assert commands == ["GET", "GET", "pipeline:SET,SET"]
    assert not [q for q in statements if "users" in q or "figure_versions" in q or "revoked_tokens" in q]
    assert [q for q in statements if "video_daily_settlements" in q or "restatements" in q] == statements[:1]
    # And it is the answer the router serves next, byte for byte.
    hit = through_router(seller, url)
    assert _served_by_router(standin, hit) and hit.get_data() == miss.get_data()
    # The answer expired (statuses) but the figures are cached: Flask computes nothing and
    # stores the answer again.
    with portal_app.app_context():
        redis = app_figure_cache().redis
    redis.delete(*redis.keys(f"paysystem:*:answer:settlements:seller={seller.id}:*"))
    commands.clear()
    statements.clear()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        again = through_app(seller, url)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert again.get_data() == miss.get_data()
    assert commands == ["GET", "GET", "pipeline:SET"]
    assert not [q for q in statements if "video_daily_settlements" in q]


def test_a_batch_invalidation_makes_the_next_request_miss_and_show_the_new_figures(paths, portal_data, portal_app):
    through_app, through_router, standin = paths
    seller = portal_data.sellers[1]
    day = portal_data.last
    url = f"/stats/top5?metric=watch_seconds&date={day}"
    before = through_app(seller, url).get_json()
    assert before["items"]
    assert _served_by_router(standin, through_router(seller, url))
    video_id, title = before["items"][0]["video_id"], before["items"][0]["title"]
    engine = portal_data.backend.engine
    with portal_app.app_context():
        cache = app_figure_cache()
    try:
        with engine.begin() as conn:
            conn.execute(update(Video).where(Video.id == video_id).values(title="Renamed by the batch"))
        assert cache.invalidate([("day", day)])  # what the batch does after recomputing a day
        assert through_router(seller, url).status_code == 599
        after = through_app(seller, url).get_json()
        assert after["items"][0]["title"] == "Renamed by the batch"
        standin.seen.clear()
        hit = through_router(seller, url)
        assert _served_by_router(standin, hit) and hit.get_json()["items"][0]["title"] == "Renamed by the batch"
    finally:
        with engine.begin() as conn:
            conn.execute(update(Video).where(Video.id == video_id).values(title=title))
        cache.invalidate([("day", day)])


def test_a_revoked_token_and_a_switched_off_account_are_refused_though_the_answer_is_cached(
        paths, portal_data, portal_app):
    through_app, through_router, standin = paths
    settings = portal_data.backend.settings
    engine = portal_data.backend.engine
    with Session(engine) as session:
        admin = create_user(session, email="fastpath-admin@portal.test", password=TEST_PASSWORD, role=Role.ADMIN)
        session.commit()
        session.refresh(admin)
        session.expunge(admin)
    # Months that ended before today (a month reaching today is live, never cached).
    url = f"/settlements?from={portal_data.first}&to={month_start(portal_data.last) - timedelta(days=1)}" \
          "&granularity=month"
    token = bearer(admin, settings)
    assert through_app(admin, url, token).status_code == 200
    assert _served_by_router(standin, through_router(admin, url, token))
    # Revoked (sign-out): the router hands it on and Flask refuses it.
    revoked = bearer(admin, settings)
    assert through_app(admin, url, revoked).status_code == 200
    assert portal_app.test_client().post("/api/v1/auth/logout", headers=revoked).status_code == 200
    assert through_router(admin, url, revoked).status_code == 599
    assert through_app(admin, url, revoked).status_code == 401
    # Switched off: refused at once, although the same answer is still cached for other admins.
    standin.seen.clear()
    with Session(engine) as session:
        session.scalars(select(User).where(User.id == admin.id)).one().is_active = False
        session.commit()
    assert through_router(admin, url, token).status_code == 599
    assert through_app(admin, url, token).status_code == 401
    standin.seen.clear()
    assert _served_by_router(standin, through_router(portal_data.admin, url))
    # A viewer's token is never answered here (Flask says 403).
    viewer = through_router(portal_data.viewer, url)
    assert viewer.status_code == 599 and through_app(portal_data.viewer, url).status_code == 403


def test_a_range_reaching_today_is_never_served_by_the_router(paths, portal_data):
    through_app, through_router, standin = paths
    seller = portal_data.sellers[0]
    now = today(portal_data.backend.settings.tz)
    for url in (f"/stats/top5?date={now}", f"/stats/top5?period=month&date={now}",
                f"/stats/top5?period=week&date={now}", f"/settlements?from={portal_data.first}&to={now}",
                f"/settlements?from={portal_data.last}&to={portal_data.last}&granularity=month"):
        if url.endswith("month") and portal_data.last.month != now.month:
            continue  # yesterday's month is closed (today is the 1st)
        assert through_app(seller, url).status_code == 200
        assert through_router(seller, url).status_code == 599, url


def test_bad_or_unusual_queries_go_to_flask(paths, portal_data):
    through_app, through_router, standin = paths
    seller = portal_data.sellers[0]
    assert through_app(seller, "/stats/top5").status_code == 200  # cached now
    for url in ("/stats/top5?metric=bogus", "/stats/top5?date=2026-13-01", "/stats/top5?metric=%76iews",
                "/stats/top5?metric=views;period=day", "/stats/top5?metric", "/settlements",
                f"/settlements?from={portal_data.last}&to={portal_data.first}"):
        assert through_router(seller, url).status_code == 599, url
        assert through_app(seller, url).status_code in (200, 422), url
    assert through_router(seller, "/stats/top5", {"Authorization": "Bearer nonsense"}).status_code == 599
    assert through_app(seller, "/stats/top5", {"Authorization": "Bearer nonsense"}).status_code == 401


def test_dates_outside_the_apps_window_go_to_flask_which_refuses_them(paths, portal_data, portal_app):
    """The router validates with its app's date window (models/figures/date_window.py), as Flask does:
    a day the app refuses is never answered from a stored answer, whatever was cached before."""
    from portal import create_app

    through_app, through_router, standin = paths
    seller = portal_data.sellers[0]
    url = f"/stats/top5?date={portal_data.last}"
    assert through_app(seller, url).status_code == 200
    assert _served_by_router(standin, through_router(seller, url))  # a day inside the window: still served here
    for far in ("0001-01-01", "1999-12-31", "9999-12-31"):
        standin.seen.clear()
        assert through_router(seller, f"/stats/top5?date={far}").status_code == 599, far
        refused = through_app(seller, f"/stats/top5?date={far}")
        assert refused.status_code == 422 and "2000-01-01" in refused.get_json()["message"], far
    narrower = create_app(replace(portal_app.config["PAYSYSTEM_SETTINGS"],
                                  date_min=portal_data.last + timedelta(days=1)))
    headers = bearer(seller, portal_data.backend.settings)
    assert Client(ReadRouter(narrower, standin)).get("/api/v1" + url, headers=headers).status_code == 599
    refused = narrower.test_client().get("/api/v1" + url, headers=headers)
    assert refused.status_code == 422 and str(portal_data.last + timedelta(days=1)) in refused.get_json()["message"]


def test_without_redis_flask_answers_from_the_database(portal_data, media_root):
    from portal import create_app

    settings = replace(portal_data.backend.settings, media_root=media_root,
                       redis_url=f"redis://127.0.0.1:{free_port()}/0")
    app = create_app(settings)
    standin = Standin()
    router = Client(ReadRouter(app, standin))
    seller = portal_data.sellers[0]
    url = f"/api/v1/settlements?from={portal_data.first}&to={portal_data.last}"
    answer = app.test_client().get(url, headers=bearer(seller, settings))
    assert answer.status_code == 200 and answer.get_json()["rows"]
    assert router.get(url, headers=bearer(seller, settings)).status_code == 599


def test_an_answer_is_kept_as_long_as_the_statuses_it_shows(redis_url, engine):
    """`keep_answer` stores the bytes for FIGURE_STATUS_TTL_SECONDS in the request's one
    pipelined write, `stored_answer` reads them back; 0 keeps nothing; a live plan (None) or a
    refusal (no body) is never stored."""
    from redis import Redis

    from models.figures.cache import FigureCache
    from portal.read_pipeline import AnswerPlan, answer_key, keep_answer, stored_answer

    redis, breaker = Redis.from_url(redis_url), pybreaker.CircuitBreaker()
    cache = FigureCache(redis, engine=engine, breaker=breaker, namespace=f"test-{time.time_ns()}")
    plan = AnswerPlan("top5", "day=2026-01-02&metric=views&period=day", ["day:2026-01-02"])
    key = answer_key(cache, plan, 7, cache.versions(plan.scopes))
    assert key.startswith(cache.prefix) and ":answer:top5:seller=7:" in key
    assert answer_key(cache, plan, None, cache.versions(plan.scopes)) != key  # the platform's: another answer
    keep_answer(cache, plan, 7, b'{"a": 1}\n', 5)
    assert stored_answer(cache, key) == b'{"a": 1}\n' and 0 < redis.ttl(key) <= 5
    redis.delete(key)
    for kept in ((plan, b"{}", 0), (None, b"{}", 5), (plan, None, 5)):
        keep_answer(cache, kept[0], 7, kept[1], kept[2])
        assert stored_answer(cache, key) is None, kept
    assert stored_answer(FigureCache(None, engine=engine), key) is None  # without Redis: Flask answers


def test_behind_a_proxy_the_fast_paths_see_the_clients_address(settings, monkeypatch):  # type: ignore[no-untyped-def]
    """ProxyFix is the outermost WSGI layer (issue 19): the layers in front of Flask read the
    address X-Forwarded-For gives, not the proxy's, like Flask's own views."""
    from portal import create_app
    from portal.api.progress_fast_path import ProgressFastPath

    seen: list[tuple[str, str | None, str | None]] = []

    def recording(cls):  # type: ignore[no-untyped-def]
        original = cls.__call__

        def call(self, environ, start_response):  # type: ignore[no-untyped-def]
            seen.append((cls.__name__, environ.get("REMOTE_ADDR"), environ.get("wsgi.url_scheme")))
            return original(self, environ, start_response)

        monkeypatch.setattr(cls, "__call__", call)

    recording(ReadRouter)
    recording(ProgressFastPath)
    client = create_app(replace(settings, trusted_proxy_hops=1)).test_client()
    answer = client.get("/api/v1/stats/top5", environ_base={"REMOTE_ADDR": "10.0.0.2"},
                        headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
                                 "Authorization": "Bearer not-a-token"})
    assert answer.status_code == 401
    assert ("ProgressFastPath", "203.0.113.7", "https") in seen
    assert ("ReadRouter", "203.0.113.7", "https") in seen

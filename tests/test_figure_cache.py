"""Read-aside figures in Redis: cached, invalidated per business day with one INCR, and
computed from the database when Redis is unreachable."""

from __future__ import annotations

import uuid
from datetime import date

from redis import Redis

from models.figures.cache import FigureCache, scope
from models.redis_conn import make_redis
from tests.support import free_port


def test_figures_are_cached_until_their_day_is_invalidated(redis_url, engine):
    cache = FigureCache(Redis.from_url(redis_url), engine=engine)
    calls = []
    key = f"seller-{uuid.uuid4().hex}"

    def compute():
        calls.append(1)
        return {"views": len(calls)}

    day = date(2026, 3, 4)
    for kind, start in (("day", day), ("week", date(2026, 3, 2)), ("month", date(2026, 3, 1))):
        calls.clear()
        assert cache.get_or_compute(scope(kind, start), key, compute) == {"views": 1}
        assert cache.get_or_compute(scope(kind, start), key, compute) == {"views": 1}
        assert len(calls) == 1
        assert cache.invalidate([("day", day)])  # a day's change reaches its week and month
        assert cache.get_or_compute(scope(kind, start), key, compute) == {"views": 2}
    other = scope("day", date(2026, 3, 5))
    calls.clear()
    cache.get_or_compute(other, key, compute)
    cache.invalidate([("day", day)])
    cache.get_or_compute(other, key, compute)
    assert len(calls) == 1  # other days keep their cache


def test_an_unreachable_redis_falls_back_to_the_database(engine):
    cache = FigureCache(make_redis(f"redis://127.0.0.1:{free_port()}/0"), engine=engine)
    for _ in range(5):  # past the breaker's threshold too
        assert cache.get_or_compute(scope("day", date(2026, 3, 4)), "k", lambda: [1, 2]) == [1, 2]
    assert cache.invalidate([("day", date(2026, 3, 4))]) is True  # the versions live in the database


def test_the_versions_live_in_the_database_only(redis_url, engine):
    """Issue 19: one version store. An invalidation writes no Redis key, and a cache whose
    versions were bumped behind its back (another process) never reads the old value."""
    redis = Redis.from_url(redis_url)
    cache = FigureCache(redis, engine=engine)
    week, key = scope("week", date(2026, 7, 6)), f"seller-{uuid.uuid4().hex}"
    assert cache.get_or_compute(week, key, lambda: 1) == 1
    before = set(redis.keys("*version*"))
    assert FigureCache(None, engine=engine).invalidate([("day", date(2026, 7, 8))])
    assert set(redis.keys("*version*")) == before
    assert cache.get_or_compute(week, key, lambda: 2) == 2


def test_an_invalidation_made_while_redis_is_down_is_not_lost(redis_url, engine):
    """Issue 13 (faults): the batch re-runs a day while Redis is unreachable; once Redis answers
    again, no reader gets the figures from before the re-run."""
    reader = FigureCache(Redis.from_url(redis_url), engine=engine)
    day, key = date(2026, 4, 7), f"seller-{uuid.uuid4().hex}"
    assert reader.get_or_compute(scope("week", date(2026, 4, 6)), key, lambda: {"views": 1}) == {"views": 1}
    batch = FigureCache(make_redis(f"redis://127.0.0.1:{free_port()}/0"), engine=engine)  # Redis down for it
    assert batch.invalidate([("day", day)]) is True  # recorded in the database all the same
    assert reader.get_or_compute(scope("week", date(2026, 4, 6)), key, lambda: {"views": 2}) == {"views": 2}
    assert reader.get_or_compute(scope("week", date(2026, 4, 6)), key, lambda: {"views": 3}) == {"views": 2}


def test_a_request_reads_each_version_once_on_its_own_connection(redis_url, engine, session_factory):
    """Issue 11: the versions come from the request's session (no second pooled connection),
    each scope once per request; a bump is seen by the next request, never lost."""
    from sqlalchemy import event

    app_cache = FigureCache(Redis.from_url(redis_url), engine=engine)
    month, key = scope("month", date(2026, 5, 1)), f"seller-{uuid.uuid4().hex}"
    statements: list[str] = []

    def note(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if "figure_versions" in statement:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        with session_factory() as session:
            request_cache = app_cache.for_session(session)
            request_cache.prefetch([month, scope("day", date(2026, 5, 2))])
            assert request_cache.get_or_compute(month, key, lambda: {"views": 1}) == {"views": 1}
            assert request_cache.get_or_compute(month, key, lambda: {"views": 9}) == {"views": 1}
            assert request_cache.get_or_compute_in([scope("day", date(2026, 5, 2)), month], key + "x",
                                                   lambda: 7) == 7
            assert session.in_transaction()  # read on the request's own connection
        assert len(statements) == 1  # one query for every scope of the request
        assert app_cache.invalidate([("day", date(2026, 5, 3))])
        with session_factory() as session:
            assert app_cache.for_session(session).get_or_compute(month, key, lambda: {"views": 2}) == {"views": 2}
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_held_writes_are_stored_with_the_answer_in_one_round_trip(redis_url, engine, session_factory):
    """The settlements API holds the figures it computes and stores them with its whole answer
    in one pipeline; versions already read (by the read router) are not asked again."""
    from sqlalchemy import event

    redis = Redis.from_url(redis_url)
    app_cache = FigureCache(redis, engine=engine)
    month, key = scope("month", date(2026, 6, 1)), f"seller-{uuid.uuid4().hex}"
    statements: list[str] = []

    def note(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    with session_factory() as session:
        known = app_cache.for_session(session).versions([month])
        event.listen(engine, "before_cursor_execute", note)
        try:
            request_cache = app_cache.for_session(session)
            request_cache.already_read(known)
            request_cache.hold_writes()
            assert request_cache.get_or_compute(month, key, lambda: {"views": 1}) == {"views": 1}
        finally:
            event.remove(engine, "before_cursor_execute", note)
        assert statements == []  # the versions were handed over
        assert not redis.keys(f"*{key}")  # held, not stored yet
        sent: list[int] = []
        real = redis.pipeline

        def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
            sent.append(1)
            return real(*args, **kwargs)

        redis.pipeline = counted  # type: ignore[method-assign]
        request_cache.write_held([(f"answer-{key}", b"body", 5)])
        assert sent == [1] and len(redis.keys(f"*{key}")) == 2 and redis.get(f"answer-{key}") == b"body"
        # Stored: the next request reads it.
        assert app_cache.for_session(session).get_or_compute(month, key, lambda: {"views": 2}) == {"views": 1}

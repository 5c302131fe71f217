"""Helpers for the §13 money tests: a month of raw events on MariaDB, the real batch over
every day of it, and the independent recomputation of statements from the raw rows."""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, text

from jobs.inline import run_days_inline
from models import RunTrigger
from models.business_time import days_between, month_range
from models.db import make_engine
from tests.batch_support import (
    Backend,
    World,
    add_sessions,
    add_users_and_videos,
    plan_ids,
    reference,
)

MONEY_TABLES = ("ledger_postings", "ledger_entries", "statement_adjustments", "statement_lines", "statements",
                "statement_months", "payout_transfer_exports", "payout_carries", "payouts", "payout_runs",
                "payout_holds", "payout_details_changes", "payout_details", "restatements")


def reset(backend: Backend) -> None:
    """Empty the §13 tables and restatements, then everything batch_support's reset empties."""
    with backend.engine.begin() as conn:
        for table in MONEY_TABLES:
            conn.execute(text(f"DELETE FROM {table}"))
    backend.reset()


def month_world(backend: Backend, months: list[date], sellers: int = 3, videos: int = 7,
                sessions_per_month: int = 120, seed: int = 7) -> tuple[World, list[int]]:
    """Sellers' videos with random counted and rejected sessions and ad views on days of `months`.
    Returns the world and the seller ids."""
    world = World()
    video_ids, viewer = add_users_and_videos(backend.engine, world, sellers, videos)
    rng = random.Random(seed)
    rows = []
    for month in months:
        first, last = month_range(month)
        span = (last - first).days + 1
        rows += [dict(video_id=rng.choice(video_ids), viewer_id=viewer, day=first + timedelta(days=rng.randrange(span)),
                      second=rng.randrange(86_400), watch_ms=rng.randrange(2_000_000),
                      reason=rng.choice([None, None, None, "own_video"]))
                 for _ in range(sessions_per_month)]
    add_sessions(backend.engine, world, rows, [rng.randrange(4) for _ in rows])
    return world, sorted(set(world.sellers.values()))


def run_month(backend: Backend, month: date, *, skip_last: int = 0) -> None:
    """The real batch for every day of `month` (but the last `skip_last`)."""
    first, last = month_range(month)
    days = days_between(first, last - timedelta(days=skip_last))
    run_days_inline(backend.settings, days, RunTrigger.BACKFILL, use_cache=False)


def expected_lines(backend: Backend, world: World, days: set[date], month: date) -> dict[tuple[int, int], list[int]]:
    """(seller, video) -> [views, ad views, video amount, ad amount, total] of `month`, from the
    raw rows via batch_support's plain-Python reference (not from our tables)."""
    first, last = month_range(month)
    lines: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for row in reference(world, days, plan_ids(backend.engine))["settlements"]:
        day, video, seller, views, ads, video_amount, ad_amount, total = (
            row[0], row[1], row[2], row[5], row[6], row[9], row[10], row[11])
        if first <= day <= last:
            acc = lines[(seller, video)]
            for i, value in enumerate((views, ads, video_amount, ad_amount, total)):
                acc[i] += value
    return dict(lines)


def late_session(backend: Backend, world: World, day: date, video: int, ads: int = 3) -> None:
    """A counted session of `video` arriving late for `day` (changes the day's money)."""
    viewer = world.sessions[0]["viewer_id"]
    add_sessions(backend.engine, world, [dict(video_id=video, viewer_id=viewer, day=day, second=50,
                                              watch_ms=900_000, reason=None, updated_at=datetime.now().astimezone())],
                 [ads])


def parallel(callers: int, call: Callable[[Engine], object], url: str) -> tuple[list, list[Exception]]:
    """`call` from `callers` threads at once, each with its own engine (its own connection,
    opened before they start), released together by a barrier: (results, errors)."""
    engines = [make_engine(url) for _ in range(callers)]
    for engine in engines:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    barrier = threading.Barrier(callers)
    results: list = []
    errors: list[Exception] = []

    def one(engine: Engine) -> None:
        barrier.wait()
        try:
            results.append(call(engine))
        except Exception as exc:  # noqa: BLE001 - the caller asserts on every error
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for engine in engines:
        engine.dispose()
    return results, errors

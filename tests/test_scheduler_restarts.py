"""Fault of issue 13: the scheduler killed (SIGKILL) and started again twice within a minute
while the nightly job is firing, with two real workers. Exactly one nightly run of yesterday
exists and completed, and the batch tables equal the reference (an undisturbed run's).

The scheduler fires the nightly job every second here (NIGHTLY_INTERVAL_SECONDS), so each
restart re-registers it while copies of it may still be queued or running on a worker."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
import uuid
from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue, Worker
from sqlalchemy import delete, select

from jobs.enqueue import enqueue_nightly
from jobs.queues import queue_name
from models import BatchRun, RunState, RunTrigger
from models.business_time import today
from tests.batch_support import (
    Backend,
    World,
    add_sessions,
    add_users_and_videos,
    plan_ids,
    reference,
    snapshot,
)
from tests.ops_support import start_process, stop_process


def _yesterdays_world(backend: Backend, settings) -> World:  # type: ignore[no-untyped-def]
    yesterday = today(settings.tz) - timedelta(days=1)
    world = World()
    videos, viewer = add_users_and_videos(backend.engine, world, 2, 12)
    rng = random.Random(13)
    rows = [dict(video_id=rng.choice(videos), viewer_id=viewer, day=yesterday, second=rng.randrange(86_400),
                 watch_ms=rng.randrange(2_000_000), reason=rng.choice([None, None, None, "own_video"]))
            for _ in range(120)]
    add_sessions(backend.engine, world, rows, [rng.randrange(3) for _ in rows])
    return world


def _nightly_runs(backend: Backend, day) -> list:  # type: ignore[no-untyped-def]
    with backend.engine.connect() as conn:
        return conn.execute(select(BatchRun.id, BatchRun.state, BatchRun.trigger).where(BatchRun.day == day)).all()


def _at_once(count: int, call) -> list:  # type: ignore[no-untyped-def]
    """`call()` in `count` threads released together; their results (exceptions re-raised)."""
    barrier = threading.Barrier(count)
    results: list = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(call())
        except Exception as exc:  # noqa: BLE001 - re-raised in the test's thread
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for result in results:
        if isinstance(result, Exception):
            raise result
    return results


@pytest.mark.parametrize("backend", ["mariadb", "sqlite"], indirect=True)
def test_nightly_triggers_at_the_same_instant_start_one_run(backend):
    """Copies of the nightly job taken by several workers at once (what a scheduler restart
    can leave queued): the check "no nightly run of yesterday yet" and the run's creation
    must not interleave."""
    settings = backend.with_settings(batch_queue=f"twice-{uuid.uuid4().hex[:8]}")
    yesterday = today(settings.tz) - timedelta(days=1)
    _yesterdays_world(backend, settings)
    redis = Redis.from_url(settings.redis_url)
    try:
        for _ in range(5):
            with backend.engine.begin() as conn:
                conn.execute(delete(BatchRun).where(BatchRun.day == yesterday))
            started = _at_once(4, lambda: enqueue_nightly(settings, redis))
            runs = _nightly_runs(backend, yesterday)
            assert len(runs) == 1 and runs[0].trigger == RunTrigger.NIGHTLY, (started, runs)
            assert [r for r in started if r is not None] == [runs[0].id]
    finally:
        Queue(queue_name(settings), connection=redis).empty()


def _kill(proc) -> str:  # type: ignore[no-untyped-def]
    """SIGKILL to the scheduler's process group: no shutdown handler runs (its lock stays)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return proc.communicate(timeout=30)[0]


@pytest.mark.slow
def test_scheduler_killed_and_restarted_twice_within_a_minute_runs_the_nightly_once(backend):
    settings = backend.with_settings(batch_queue=f"restart-{uuid.uuid4().hex[:8]}", batch_partitions=4)
    yesterday = today(settings.tz) - timedelta(days=1)
    world = _yesterdays_world(backend, settings)
    redis = Redis.from_url(settings.redis_url)
    names = {f"{settings.batch_queue}-w1", f"{settings.batch_queue}-w2"}
    workers = [start_process(settings, "worker", "--name", name) for name in sorted(names)]
    schedulers = []
    outputs: list[str] = []
    started = time.monotonic()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not names <= {w.name for w in Worker.all(connection=redis)}:
            time.sleep(0.2)  # both workers listen before the first nightly fires
        assert names <= {w.name for w in Worker.all(connection=redis)}, "the workers did not start"

        def scheduler():  # type: ignore[no-untyped-def]
            proc = start_process(settings, "scheduler", "--interval", "1", NIGHTLY_INTERVAL_SECONDS="1")
            schedulers.append(proc)
            return proc

        # Start, let it fire, kill; twice; the third one stays. Each kill lands at a random
        # moment of the firing (1 s interval), all within a few seconds.
        rng = random.Random()
        for _ in range(2):
            proc = scheduler()
            time.sleep(1.5 + rng.random())
            outputs.append(_kill(proc))
        scheduler()
        assert time.monotonic() - started < 60

        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            states = [run.state for run in _nightly_runs(backend, yesterday)]
            if states and all(s in (RunState.SUCCEEDED, RunState.FAILED) for s in states):
                break
            time.sleep(0.2)
        time.sleep(3)  # the scheduler keeps firing: it must not start a second run
    finally:
        for proc in [*workers, *schedulers]:
            if proc.poll() is None:
                outputs.append(stop_process(proc))
        Queue(queue_name(settings), connection=redis).empty()
    log = "\n".join(o or "" for o in outputs)
    runs = _nightly_runs(backend, yesterday)
    assert [(r.state, r.trigger) for r in runs] == [(RunState.SUCCEEDED, RunTrigger.NIGHTLY)], log[-4000:]
    assert snapshot(backend.engine) == reference(world, {yesterday}, plan_ids(backend.engine))
    assert log.count("nightly run already enqueued for yesterday") >= 1, log[-4000:]

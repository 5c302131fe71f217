"""Scale-out: two real worker processes and one scheduler against the test Redis. The
scheduler fires the nightly job (every second here) many times; yesterday's run starts
once, completes, and its partitions ran on both workers."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from redis import Redis
from rq import Worker
from sqlalchemy import select

from models import BatchPartition, BatchRun, RunState, RunTrigger
from models.business_time import today
from tests.batch_support import World, add_sessions, add_users_and_videos
from tests.ops_support import start_process, stop_process


@pytest.mark.slow
def test_two_workers_and_one_scheduler_run_the_nightly_once_spread_over_both(backend):
    settings = backend.with_settings(batch_queue=f"scale-{uuid.uuid4().hex[:8]}", batch_partitions=6)
    yesterday = today(settings.tz) - timedelta(days=1)
    world = World()
    videos, viewer = add_users_and_videos(backend.engine, world, 2, 12)
    add_sessions(backend.engine, world, [dict(video_id=v, viewer_id=viewer, day=yesterday, second=60 + i,
                                              watch_ms=30_000, reason=None) for i, v in enumerate(videos)],
                 [1] * len(videos))
    redis = Redis.from_url(settings.redis_url)
    workers = [start_process(settings, "worker", "--name", f"{settings.batch_queue}-w{i}") for i in (1, 2)]
    scheduler = None
    outputs: list[str] = []
    try:
        deadline = time.monotonic() + 60
        names = {f"{settings.batch_queue}-w1", f"{settings.batch_queue}-w2"}
        while time.monotonic() < deadline and not names <= {w.name for w in Worker.all(connection=redis)}:
            time.sleep(0.2)  # both workers listen before the first nightly fires
        scheduler = start_process(settings, "scheduler", "--interval", "1", NIGHTLY_INTERVAL_SECONDS="1")
        with backend.engine.connect() as conn:
            while time.monotonic() < deadline:
                states = conn.execute(select(BatchRun.state).where(BatchRun.day == yesterday)).scalars().all()
                conn.rollback()
                if states and all(s == RunState.SUCCEEDED for s in states):
                    break
                time.sleep(0.2)
        time.sleep(3)  # the scheduler keeps firing: it must not start a second run
    finally:
        for proc in [*workers, *([scheduler] if scheduler else [])]:
            outputs.append(stop_process(proc))
    log = "\n".join(outputs)
    with backend.engine.connect() as conn:
        runs = conn.execute(select(BatchRun.id, BatchRun.state, BatchRun.trigger)).all()
        workers_used = conn.execute(select(BatchPartition.worker).where(BatchPartition.run_id == runs[0].id)).scalars().all()
    assert [(r.state, r.trigger) for r in runs] == [(RunState.SUCCEEDED, RunTrigger.NIGHTLY)], log
    assert len(workers_used) == 6
    assert set(workers_used) == {f"{settings.batch_queue}-w1", f"{settings.batch_queue}-w2"}, log
    assert log.count("nightly run already enqueued for yesterday") >= 1, log

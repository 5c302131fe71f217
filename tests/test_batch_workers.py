"""The pipeline on real RQ worker processes (MariaDB): a backfill on two workers, a worker
SIGKILLed inside a partition, transient failures retried by RQ, a failed partition retried
alone, deterministic job ids and job-aware log lines."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from redis import Redis
from rq.job import Job
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from jobs.enqueue import (
    BatchRequestError,
    enqueue_backfill,
    enqueue_day,
    enqueue_nightly,
    enqueue_retry,
)
from jobs.inline import run_days_inline
from jobs.job_ids import final_job_id, partition_job_id
from models import BatchPartition, BatchRun, RunState, RunTrigger
from models.db import database_identity
from settings import PROJECT_ROOT
from tests.batch_support import (
    DAY0,
    Backend,
    World,
    add_sessions,
    busy_world,
    plan_ids,
    reference,
    snapshot,
)
from tests.support import TEST_SECRET


@pytest.fixture
def settings(backend):
    backend.reset()
    return backend.with_settings(batch_queue=f"batch-test-{uuid.uuid4().hex[:8]}")


def worker_env(settings, **extra) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
            "BATCH_QUEUE": settings.batch_queue, "SECRET_KEY": TEST_SECRET, "PAYSYSTEM_ENV": "test",
            "BATCH_PARTITIONS": str(settings.batch_partitions), "BATCH_RETRIES": "0",
            "BATCH_LOCK_WAIT_SECONDS": "30", **extra}


def start_worker(settings, burst: bool = True, **extra) -> subprocess.Popen:
    args = [sys.executable, "-m", "paysystem", "worker"] + (["--burst"] if burst else [])
    # A session of its own: RQ's worker forks a scheduler process, which must go with it.
    return subprocess.Popen(args, env=worker_env(settings, **extra), cwd=PROJECT_ROOT, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(proc: subprocess.Popen, timeout: float = 90) -> str:
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out
    return out


def runs(backend: Backend) -> list:
    with backend.engine.connect() as conn:
        return conn.execute(select(BatchRun.id, BatchRun.state, BatchRun.error).order_by(BatchRun.id)).all()


def partitions(backend: Backend, run_id: int) -> list:
    with backend.engine.connect() as conn:
        return conn.execute(select(BatchPartition.partition_index, BatchPartition.state, BatchPartition.attempt,
                                   BatchPartition.error).where(BatchPartition.run_id == run_id)
                            .order_by(BatchPartition.partition_index)).all()


@pytest.mark.slow
def test_backfill_on_two_workers_matches_the_reference(backend, settings):
    world = busy_world(backend, days=4)
    days = [DAY0 + timedelta(days=i) for i in range(4)]
    run_ids = enqueue_backfill(settings, days[0], days[-1])
    redis = Redis.from_url(settings.redis_url)
    database = database_identity(settings.database_url)
    for run_id in run_ids:  # deterministic job ids: database + run + partition
        assert Job.fetch(final_job_id(database, run_id), connection=redis).func_name == "jobs.tasks.finalize_task"
        for index in range(settings.batch_partitions):
            job = Job.fetch(partition_job_id(database, run_id, index), connection=redis)
            assert job.failure_ttl and job.result_ttl
    workers = [start_worker(settings, burst=False), start_worker(settings, burst=False)]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(r.state != RunState.SUCCEEDED for r in runs(backend)):
        time.sleep(0.1)
    logs = []
    for worker in workers:
        os.killpg(worker.pid, signal.SIGTERM)  # warm shutdown of the worker and its scheduler process
        logs.append(worker.communicate(timeout=30)[0])
    assert [r.state for r in runs(backend)] == [RunState.SUCCEEDED] * 4, "\n".join(logs)
    assert snapshot(backend.engine) == reference(world, set(days), plan_ids(backend.engine))
    joined = "\n".join(logs)
    assert f"[run={run_ids[0]} partition=0 day={days[0]}] partition started" in joined
    assert f"[run={run_ids[-1]} partition=final day={days[-1]}] run succeeded" in joined


def _waiting_writer(backend: Backend, timeout: float = 30) -> str | None:
    """Wait until a worker connection is carrying the day's change forward: by then it has
    deleted and rewritten the day's rows in its (uncommitted) transaction, and it waits for
    the row lock the test holds."""
    database = make_url(backend.url).database
    deadline = time.monotonic() + timeout
    query = text("SELECT p.ID, p.COMMAND, p.STATE, p.INFO FROM information_schema.PROCESSLIST p WHERE p.DB = :db")
    with backend.engine.connect() as conn:
        while time.monotonic() < deadline:
            rows = conn.execute(query, {"db": database}).all()
            if any((r.INFO or "").lstrip().startswith("UPDATE video_daily_stats s JOIN tmp_batch_change") for r in rows):
                return None
            time.sleep(0.05)
    return f"the worker never reached the lock inside its partition: {rows}"


def late_event_behind_a_lock(backend: Backend, world: World, days: list) -> tuple:  # type: ignore[type-arg]
    """A late event for day 1 of a video with rows after it, which a re-run of day 1 must carry
    forward, and a row lock on the last of those rows: the re-run's partition waits there."""
    video = next(s["video_id"] for s in world.sessions if s["day"] == days[3])
    add_sessions(backend.engine, world, [dict(video_id=video, viewer_id=world.sessions[0]["viewer_id"],
                                              day=days[1], second=5, watch_ms=90_000, reason=None)], [1])
    blocker = backend.engine.connect()
    tx = blocker.begin()
    blocker.execute(text("SELECT * FROM video_daily_stats WHERE day = :d AND video_id = :v FOR UPDATE"),
                    {"d": days[3], "v": video})
    return blocker, tx


@pytest.mark.slow
def test_worker_killed_inside_a_partition_leaves_no_partial_rows(backend, settings):
    world = busy_world(backend, days=4)
    days = [DAY0 + timedelta(days=i) for i in range(4)]
    run_days_inline(settings, days, RunTrigger.BACKFILL, use_cache=False)
    before = snapshot(backend.engine)
    blocker, tx = late_event_behind_a_lock(backend, world, days)
    run_id = enqueue_day(settings, days[1])
    worker = start_worker(settings, burst=False)
    try:
        reached = _waiting_writer(backend)  # inside the partition: day 1 rewritten, carrying forward blocked
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        os.killpg(worker.pid, signal.SIGKILL)  # the orphaned scheduler child, if any
        output, _ = worker.communicate(timeout=10)
        assert reached is None, f"{reached}\n{output}"
        assert "partition started" in output, output
    finally:
        tx.rollback()
        blocker.close()
    assert worker.returncode == -signal.SIGKILL
    time.sleep(0.5)  # the server rolls the dead connection's transaction back
    assert snapshot(backend.engine) == before
    states = {p.state for p in partitions(backend, run_id)}
    assert RunState.RUNNING in states and RunState.SUCCEEDED not in states or len(states) > 1

    with pytest.raises(BatchRequestError, match="still queued or running"):
        enqueue_retry(settings, run_id)
    enqueue_retry(settings, run_id, force=True)
    finish(start_worker(settings))
    assert runs(backend)[-1].state == RunState.SUCCEEDED
    assert snapshot(backend.engine) == reference(world, set(days), plan_ids(backend.engine))


@pytest.mark.slow
def test_transient_failure_is_retried_and_a_failed_partition_is_retried_alone(backend, settings):
    world: World = busy_world(backend, days=1)
    last_video = max(world.sellers)
    blocker = backend.engine.connect()
    tx = blocker.begin()
    blocker.execute(text("SELECT id FROM videos WHERE id = :v FOR UPDATE"), {"v": last_video})
    try:
        # One RQ retry, immediately; the lock is held through both attempts of the last partition.
        run_id = enqueue_day(replace(settings, batch_retries=1, batch_retry_delays=(0,)), DAY0)
        output = finish(start_worker(settings, BATCH_LOCK_WAIT_SECONDS="1"))
    finally:
        tx.rollback()
        blocker.close()
    run = next(r for r in runs(backend) if r.id == run_id)
    assert run.state == RunState.FAILED and "did not succeed" in run.error, (run, partitions(backend, run_id), output)
    parts = partitions(backend, run_id)
    assert [p.state for p in parts] == [RunState.SUCCEEDED, RunState.SUCCEEDED, RunState.FAILED]
    assert [p.attempt for p in parts] == [1, 1, 2]  # the second attempt came from RQ's Retry
    assert "Lock wait timeout" in parts[-1].error

    assert enqueue_retry(settings, run_id) == [2]
    finish(start_worker(settings))
    parts = partitions(backend, run_id)
    assert [p.state for p in parts] == [RunState.SUCCEEDED] * 3
    assert [p.attempt for p in parts] == [1, 1, 3]  # only the failed partition ran again
    assert next(r for r in runs(backend) if r.id == run_id).state == RunState.SUCCEEDED
    assert snapshot(backend.engine) == reference(world, {DAY0}, plan_ids(backend.engine))
    with pytest.raises(BatchRequestError, match="already succeeded"):
        enqueue_retry(settings, run_id)


def test_nightly_enqueues_yesterday_once(backend, settings):
    busy_world(backend, days=1)
    first = enqueue_nightly(settings)
    assert first is not None
    assert enqueue_nightly(settings) is None
    with backend.engine.connect() as conn:
        run = conn.execute(select(BatchRun.day, BatchRun.trigger).where(BatchRun.id == first)).one()
    from models.business_time import today

    assert run.day == today(settings.tz) - timedelta(days=1) and run.trigger == RunTrigger.NIGHTLY


def test_enqueue_refuses_days_that_are_not_over(backend, settings):
    from models.business_time import today

    with pytest.raises(BatchRequestError, match="not over yet"):
        enqueue_day(settings, today(settings.tz))
    with pytest.raises(BatchRequestError, match="before it starts"):
        enqueue_backfill(settings, DAY0, DAY0 - timedelta(days=1))
    assert runs(backend) == []

"""Fault of issue 13: Redis (the queue) killed while a worker is inside a partition of a day's
re-run, and started again empty. The run does not complete by itself; the database's
bookkeeping tells what is left, a retry completes it, and every batch table equals an
undisturbed run's. A private redis-server, so the shared test Redis is not touched."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest

from jobs.enqueue import enqueue_day, enqueue_retry
from jobs.inline import run_days_inline
from models import RunState, RunTrigger
from tests.batch_support import (
    DAY0,
    Backend,
    busy_world,
    plan_ids,
    reference,
    snapshot,
)
from tests.security_support import private_redis
from tests.support import free_port
from tests.test_batch_workers import (
    _waiting_writer,
    finish,
    late_event_behind_a_lock,
    runs,
    start_worker,
)


@pytest.mark.slow
def test_a_run_interrupted_by_a_redis_restart_completes_on_retry(tmp_path):
    port = free_port()
    redis = private_redis(port, tmp_path)
    backend = Backend("mariadb", f"redis://127.0.0.1:{port}/0", tmp_path)
    try:
        settings = backend.with_settings(batch_queue="batch-redis-fault")
        world = busy_world(backend, days=4)
        days = [DAY0 + timedelta(days=i) for i in range(4)]
        run_days_inline(settings, days, RunTrigger.BACKFILL, use_cache=False)
        blocker, tx = late_event_behind_a_lock(backend, world, days)
        run_id = enqueue_day(settings, days[1])
        worker = start_worker(settings, burst=False)
        try:
            assert _waiting_writer(backend) is None  # the worker is inside a partition
            redis.kill()
            redis.wait()
        finally:
            tx.rollback()  # the partition goes on without Redis
            blocker.close()
        time.sleep(2)
        redis = private_redis(port, tmp_path)  # back, and empty: the queue and its jobs are gone
        time.sleep(1)
        os.killpg(worker.pid, signal.SIGKILL)  # whatever state the worker is in, it is gone too
        worker.communicate(timeout=30)
        assert runs(backend)[-1].state != RunState.SUCCEEDED

        enqueue_retry(settings, run_id, force=True)
        finish(start_worker(settings))
        assert runs(backend)[-1].state == RunState.SUCCEEDED
        assert snapshot(backend.engine) == reference(world, set(days), plan_ids(backend.engine))
    finally:
        backend.close()
        redis.kill()

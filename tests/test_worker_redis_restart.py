"""Found by the soak (bench/soak.py, issue 13): a Redis restart while a worker was inside a
job ended the `paysystem worker` process.

RQ's worker records the end of a job in Redis; with Redis gone it logged "found an unhandled
exception, quitting" and exited, so after the restart no worker was left to take new jobs
(both of the soak's workers died). The worker now waits for Redis and starts working again.
The job that was in flight is lost with the emptied queue, as before
(tests/test_redis_restart_run.py covers completing that run with a retry); this test checks
that the same worker process takes the next job. A private redis-server, so the shared test
Redis is not touched.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest

from jobs.enqueue import enqueue_day
from jobs.inline import run_days_inline
from models import RunState, RunTrigger
from tests.batch_support import DAY0, Backend, busy_world
from tests.security_support import private_redis
from tests.support import free_port
from tests.test_batch_workers import _waiting_writer, late_event_behind_a_lock, runs, start_worker


@pytest.mark.slow
def test_a_worker_outlives_a_redis_restart_inside_a_job_and_takes_the_next_one(tmp_path):
    port = free_port()
    redis = private_redis(port, tmp_path)
    backend = Backend("mariadb", f"redis://127.0.0.1:{port}/0", tmp_path)
    worker = None
    try:
        settings = backend.with_settings(batch_queue="batch-worker-redis-restart")
        world = busy_world(backend, days=4)
        days = [DAY0 + timedelta(days=i) for i in range(4)]
        run_days_inline(settings, days, RunTrigger.BACKFILL, use_cache=False)
        blocker, tx = late_event_behind_a_lock(backend, world, days)
        enqueue_day(settings, days[1])
        worker = start_worker(settings, burst=False)
        try:
            assert _waiting_writer(backend) is None  # the worker is inside a partition
            redis.kill()
            redis.wait()
        finally:
            tx.rollback()  # the partition finishes without Redis; RQ cannot record it
            blocker.close()
        time.sleep(3)
        redis = private_redis(port, tmp_path)  # back, and empty
        time.sleep(3)
        assert worker.poll() is None, "the worker exited:\n" + (worker.communicate(timeout=10)[0] or "")
        run_id = enqueue_day(settings, days[2])  # a new job on the emptied queue
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and dict((r.id, r.state) for r in runs(backend)).get(run_id) \
                != RunState.SUCCEEDED:
            time.sleep(0.2)
        assert dict((r.id, r.state) for r in runs(backend))[run_id] == RunState.SUCCEEDED
    finally:
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.communicate(timeout=30)
        backend.close()
        redis.kill()

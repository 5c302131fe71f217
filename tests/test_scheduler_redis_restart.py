"""Found by the soak (bench/soak.py, issue 13): a Redis restart ended `paysystem scheduler`.

rq-scheduler's loop raises on the first lost connection, so the process exited, and a Redis
that came back empty had no nightly job any more: no nightly batch until someone restarted
the scheduler by hand. The scheduler now waits for Redis and schedules the nightly again.
A private redis-server, so the shared test Redis is not touched.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from jobs.schedule import scheduled_nightly_jobs
from jobs.scheduler import make_scheduler
from settings import PROJECT_ROOT
from tests.security_support import private_redis
from tests.support import free_port
from tests.test_batch_workers import worker_env


def _nightly_jobs(settings) -> int:  # type: ignore[no-untyped-def]
    try:
        return len(scheduled_nightly_jobs(make_scheduler(settings), settings))
    except Exception:  # Redis not answering yet
        return 0


def _wait_for(predicate, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.slow
def test_the_scheduler_outlives_a_redis_restart_and_schedules_the_nightly_again(settings, tmp_path):
    port = free_port()
    redis = private_redis(port, tmp_path)
    private = replace(settings, redis_url=f"redis://127.0.0.1:{port}/0")
    scheduler = subprocess.Popen([sys.executable, "-m", "paysystem", "scheduler", "--interval", "1"],
                                 env=worker_env(private), cwd=PROJECT_ROOT, start_new_session=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert _wait_for(lambda: _nightly_jobs(private) == 1, 30), "the nightly job was never scheduled"
        redis.kill()
        redis.wait()
        time.sleep(3)  # the scheduler polls every second: it meets the dead connection
        redis = private_redis(port, tmp_path)  # back, and empty
        assert _wait_for(lambda: _nightly_jobs(private) == 1, 30), "the nightly job is gone after the restart"
        assert scheduler.poll() is None, "the scheduler exited"
    finally:
        if scheduler.poll() is None:
            os.killpg(scheduler.pid, signal.SIGTERM)
        try:
            out, _ = scheduler.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(scheduler.pid, signal.SIGKILL)
            out, _ = scheduler.communicate()
        redis.kill()
        redis.wait()
    assert "Traceback" not in out, out

"""Fault of issue 13: MariaDB killed (SIGKILL) while a worker is inside a partition of a day's
re-run, and started again. The run fails cleanly — crash recovery leaves no partial rows —
and a retry completes it with every batch table equal to an undisturbed run's. A private
mariadbd on a scratch data directory, so the shared test server is not touched."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jobs.enqueue import enqueue_day, enqueue_retry
from jobs.inline import run_days_inline
from models import RunState, RunTrigger
from paysystem import migrate
from tests.batch_support import DAY0, Backend, busy_world, plan_ids, reference, snapshot
from tests.mariadb_support import PrivateMariaDB, needs_mariadb_server
from tests.test_batch_workers import (
    _waiting_writer,
    late_event_behind_a_lock,
    partitions,
    runs,
    start_worker,
)


@pytest.mark.slow
@needs_mariadb_server
def test_a_run_interrupted_by_a_mariadb_restart_fails_cleanly_and_completes_on_retry(tmp_path, redis_url):
    server = PrivateMariaDB(tmp_path)
    server.start()
    try:
        url = server.database_url("paysystem_fault")
        migrate.upgrade(url)
        backend = Backend("mariadb", redis_url, tmp_path, url=url)
        settings = backend.with_settings(batch_queue=f"batch-mariadb-fault-{server.port}")
        world = busy_world(backend, days=4)
        days = [DAY0 + timedelta(days=i) for i in range(4)]
        run_days_inline(settings, days, RunTrigger.BACKFILL, use_cache=False)
        blocker, _ = late_event_behind_a_lock(backend, world, days)
        before = snapshot(backend.engine)  # the lock holder changes nothing
        run_id = enqueue_day(settings, days[1])
        worker = start_worker(settings)  # burst: it leaves once nothing it can run is left
        assert _waiting_writer(backend) is None  # inside the partition, its rows rewritten, uncommitted
        server.kill()
        blocker.invalidate()
        server.start()  # crash recovery rolls the partition's transaction back
        output, _ = worker.communicate(timeout=120)
        backend.engine.dispose()
        assert runs(backend)[-1].state == RunState.FAILED, (runs(backend)[-1], partitions(backend, run_id), output[-3000:])
        assert snapshot(backend.engine) == before

        enqueue_retry(settings, run_id)
        retried = start_worker(settings)
        output, _ = retried.communicate(timeout=120)
        assert retried.returncode == 0, output
        assert runs(backend)[-1].state == RunState.SUCCEEDED
        assert snapshot(backend.engine) == reference(world, set(days), plan_ids(backend.engine))
        backend.engine.dispose()
    finally:
        if server.proc is not None:
            server.kill()


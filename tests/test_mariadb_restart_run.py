"""Fault of issue 13: MariaDB killed (SIGKILL) while a worker is inside a partition of a day's
re-run, and started again. The run fails cleanly — crash recovery leaves no partial rows —
and a retry completes it with every batch table equal to an undisturbed run's. A private
mariadbd on a scratch data directory, so the shared test server is not touched."""

from __future__ import annotations

import shutil
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from jobs.enqueue import enqueue_day, enqueue_retry
from jobs.inline import run_days_inline
from models import RunState, RunTrigger
from models.db import make_engine
from paysystem import migrate
from tests.batch_support import DAY0, Backend, busy_world, plan_ids, reference, snapshot
from tests.support import free_port
from tests.test_batch_workers import (
    _waiting_writer,
    late_event_behind_a_lock,
    partitions,
    runs,
    start_worker,
)

MARIADBD = "/usr/sbin/mariadbd"


class PrivateMariaDB:
    """A throwaway mariadbd on loopback (no grant tables: nothing but this test reaches it)."""

    def __init__(self, workdir: Path) -> None:
        self.datadir = workdir / "data"
        self.port = free_port()
        subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={self.datadir}", "--user=root",
                        "--skip-test-db"], check=True, capture_output=True)
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [MARIADBD, "--no-defaults", f"--datadir={self.datadir}", f"--port={self.port}",
             "--bind-address=127.0.0.1", f"--socket={self.workdir / 'sock'}", "--user=root", "--skip-grant-tables",
             "--innodb-buffer-pool-size=32M", "--skip-log-bin"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        engine = make_engine(f"mysql+pymysql://root@127.0.0.1:{self.port}/mysql")
        deadline = time.monotonic() + 30
        try:
            while True:
                try:
                    with engine.connect() as conn:
                        conn.execute(text("SELECT 1"))
                    return
                except OperationalError:
                    if time.monotonic() > deadline:
                        pytest.fail("the private mariadbd did not start")
                    time.sleep(0.1)
        finally:
            engine.dispose()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def database_url(self, name: str) -> str:
        engine = make_engine(f"mysql+pymysql://root@127.0.0.1:{self.port}/mysql")
        with engine.begin() as conn:
            conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
        engine.dispose()
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/{name}"


@pytest.mark.skipif(shutil.which("mariadb-install-db") is None, reason="needs the MariaDB server package")
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


"""A private MariaDB primary with a real GTID replica, for the read-replica tests (issue 23).

Two throwaway mariadbd processes on loopback ports with their own data directories: the
primary writes a binary log, the replica follows it with `MASTER_USE_GTID=slave_pos`. The
shared test server on 3306 is never touched. Skips the test when mariadbd cannot start."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from models.db import make_engine
from tests.mariadb_support import PrivateMariaDB


class ReplicaPair:
    def __init__(self, workdir: Path) -> None:
        for name in ("primary", "replica"):
            (workdir / name).mkdir(parents=True, exist_ok=True)
        try:
            self.primary = PrivateMariaDB(workdir / "primary", (
                "--server-id=1", "--log-bin=primary-bin", "--binlog-format=ROW", "--log-basename=primary"))
            self.replica = PrivateMariaDB(workdir / "replica", (
                "--server-id=2", "--skip-log-bin", "--log-basename=replica", "--read-only=1"))
        except (OSError, subprocess.CalledProcessError) as exc:
            pytest.skip(f"mariadb-install-db could not make a data directory: {exc}")
        self.started: list[PrivateMariaDB] = []
        for server in (self.primary, self.replica):
            try:
                server.start()
            except pytest.fail.Exception:
                self.stop()
                pytest.skip("a private mariadbd did not start")
            self.started.append(server)
        self.primary_admin = make_engine(f"mysql+pymysql://root@127.0.0.1:{self.primary.port}/mysql")
        self.replica_admin = make_engine(f"mysql+pymysql://root@127.0.0.1:{self.replica.port}/mysql")
        self.replicate()

    def replicate(self, delay_seconds: int = 0) -> None:
        """(Re)point the replica at the primary, GTID-based, applying events `delay_seconds` late."""
        with self.replica_admin.connect() as conn:
            conn.exec_driver_sql("STOP SLAVE")
            conn.exec_driver_sql(
                f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={self.primary.port}, MASTER_USER='root', "
                f"MASTER_USE_GTID=slave_pos, MASTER_DELAY={int(delay_seconds)}, MASTER_CONNECT_RETRY=1")
            conn.exec_driver_sql("START SLAVE")

    def run(self, engine: Engine, sql: str) -> None:
        with engine.connect() as conn:
            conn.exec_driver_sql(sql)

    def database(self, name: str) -> tuple[str, str]:
        """(primary URL, replica URL) of a new database made on the primary and replicated."""
        url = self.primary.database_url(name)
        self.caught_up()
        return url, f"mysql+pymysql://root@127.0.0.1:{self.replica.port}/{name}"

    def caught_up(self, timeout: float = 30) -> None:
        """Wait until the replica applied everything the primary wrote (GTID positions equal)."""
        with self.primary_admin.connect() as conn:
            position = conn.execute(text("SELECT @@gtid_binlog_pos")).scalar_one()
        deadline = time.monotonic() + timeout
        while True:
            with self.replica_admin.connect() as conn:
                if conn.execute(text("SELECT MASTER_GTID_WAIT(:pos, 1)"), {"pos": position}).scalar_one() == 0:
                    return
            if time.monotonic() > deadline:
                raise AssertionError(f"the replica did not reach {position}")

    def stop(self) -> None:
        for engine in (getattr(self, "primary_admin", None), getattr(self, "replica_admin", None)):
            if engine is not None:
                engine.dispose()
        for server in self.started:
            if server.proc is not None and server.proc.poll() is None:
                server.kill()

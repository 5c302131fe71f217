"""A private mariadbd for fault tests that kill the database: the shared test server on
127.0.0.1:3306 is used by other sessions and is never stopped."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from models.db import make_engine
from tests.support import free_port

MARIADBD = "/usr/sbin/mariadbd"

needs_mariadb_server = pytest.mark.skipif(shutil.which("mariadb-install-db") is None,
                                          reason="needs the MariaDB server package")


class PrivateMariaDB:
    """A throwaway mariadbd on loopback (no grant tables: nothing but this test reaches it)."""

    def __init__(self, workdir: Path, args: tuple[str, ...] = ("--skip-log-bin",)) -> None:
        self.args = args
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
             "--innodb-buffer-pool-size=32M", *self.args],
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

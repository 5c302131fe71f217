"""Helpers for the security and concurrency tests: real parallel HTTP requests, a SQLite portal."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
from redis import Redis
from redis.exceptions import RedisError

from paysystem.launcher import embedded_redis_binary
from settings import Settings
from tests.support import migrated_sqlite_database


def at_once(count: int, call: Callable[[int], Any]) -> list[Any]:
    """Run `call(i)` for i in range(count) in `count` threads released at the same instant."""
    barrier = threading.Barrier(count)

    def run(i: int) -> Any:
        barrier.wait(timeout=30)
        return call(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def post_json(url: str, body: Any = None, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.post(url, json=body if body is not None else {}, headers=headers or {}, timeout=60)


def sqlite_settings(base: Settings, directory: Path) -> Settings:
    """`base` on a fresh, migrated SQLite file: the demo's default database."""
    url = migrated_sqlite_database(directory / "portal.db")
    return replace(base, database_url=url).validate()


def private_redis(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    """A private, memory-only redis-server on `port`, answering PING."""
    proc = subprocess.Popen([embedded_redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(workdir)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if Redis(port=port, socket_connect_timeout=0.2).ping():
                return proc
        except RedisError:
            time.sleep(0.05)
    proc.kill()
    pytest.fail("the private redis-server did not start")

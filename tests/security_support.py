"""Helpers for the security and concurrency tests: real parallel HTTP requests, a SQLite portal."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import requests

from paysystem import migrate
from paysystem.config import Settings


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
    url = f"sqlite:///{directory / 'portal.db'}"
    migrate.upgrade(url)
    return replace(base, database_url=url).validate()

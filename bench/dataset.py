"""The benchmarks' scratch services and synthetic data set, shared by bench/pipeline.py (which
times building it) and bench/portal.py (which reads it through the portal).

- `scratch_database`: a fresh, migrated MariaDB database, dropped afterwards — or kept
  (`keep=True`), or an earlier kept one reused (`reuse=NAME`), so a read benchmark does not
  regenerate and backfill 6,000,000 events on every run;
- `scratch_redis`: a Redis DB number reserved the way the test fixtures reserve theirs;
- `batch_workers` / `backfill`: real `paysystem worker` processes and the runs they finish.

Servers: BENCH_DATABASE_URL (a MariaDB server URL without database, default
mysql+pymysql://root@127.0.0.1:3306) and BENCH_REDIS_URL (default redis://127.0.0.1:6379).
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date

from redis import Redis
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from jobs.enqueue import enqueue_runs
from models.batch.tables import RunTrigger
from models.business_time import days_between
from models.db import make_engine, normalize_url
from paysystem import migrate
from paysystem.synthetic_data import GenerateSpec
from settings import PROJECT_ROOT, Settings

SERVER = os.environ.get("BENCH_DATABASE_URL", "mysql+pymysql://root@127.0.0.1:3306")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
LOCK_PREFIX = "paysystem:test-db-lock:"  # the same DB-number reservation the test fixtures use
SECRET = "bench-secret-" + "x" * 40
# Only databases the benchmarks made may be reused (and so written to): never a real one.
NAME_PREFIX = "paysystem_bench_"


def database_url(name: str) -> str:
    return make_url(normalize_url(SERVER)).set(database=name).render_as_string(hide_password=False)


def _database_exists(server: Engine, name: str) -> bool:
    with server.connect() as conn:
        return conn.execute(text("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = :n"),
                            {"n": name}).first() is not None


@contextmanager
def scratch_database(tag: str, *, keep: bool = False, reuse: str | None = None) -> Iterator[str]:
    """The URL of a migrated scratch database: new (dropped on exit unless `keep`), or the
    kept database `reuse` (never dropped: it was kept on purpose; its name is printed)."""
    server = make_engine(SERVER)
    if reuse is not None:
        if not reuse.startswith(NAME_PREFIX) or not _database_exists(server, reuse):
            server.dispose()
            raise SystemExit(f"--database {reuse!r}: no kept benchmark database of that name "
                             f"(names start with {NAME_PREFIX})")
        name = reuse
    else:
        name = f"{NAME_PREFIX}{tag}_{os.getpid()}_{secrets.token_hex(3)}"
        with server.begin() as conn:
            conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    url = database_url(name)
    dropped = False
    try:
        migrate.upgrade(url)
        yield url
    finally:
        if reuse is None and not keep:
            with server.begin() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
            dropped = True
        server.dispose()
        if not dropped:
            print(f"* kept database {name} (reuse it with --database {name}; "
                  f"remove it with DROP DATABASE `{name}`)", flush=True)


@contextmanager
def scratch_redis() -> Iterator[str]:
    control = Redis.from_url(REDIS + "/0")
    token = secrets.token_hex(8)
    for number in range(15, 0, -1):
        if control.set(LOCK_PREFIX + str(number), token, nx=True, ex=3600):
            break
    else:
        raise SystemExit("no free Redis DB number (1-15) for the benchmark")
    url = f"{REDIS}/{number}"
    try:
        Redis.from_url(url).flushdb()
        yield url
    finally:
        Redis.from_url(url).flushdb()
        if control.get(LOCK_PREFIX + str(number)) == token.encode():
            control.delete(LOCK_PREFIX + str(number))


def redis_commands(redis_url: str) -> int:
    """Commands the Redis server has processed so far (INFO stats `total_commands_processed`).

    Server-wide, not per DB number: read it around a phase on an otherwise idle Redis to learn
    what the portal asks of Redis per request (docs/scaling.md, "Where Redis becomes the limit")."""
    return int(Redis.from_url(redis_url).info("stats")["total_commands_processed"])


def add_size_options(parser: argparse.ArgumentParser) -> None:
    """The data set's size options, with the issue's defaults (3M + 3M events over 30 days)."""
    parser.add_argument("--videos", type=int, default=10_000)
    parser.add_argument("--sellers", type=int, default=1_000)
    parser.add_argument("--viewers", type=int, default=100_000)
    parser.add_argument("--sessions", type=int, default=3_000_000)
    parser.add_argument("--ad-views", type=int, default=3_000_000)
    parser.add_argument("--days", type=int, default=30)


def size_spec(args: argparse.Namespace, last: date, seed: int = 1) -> GenerateSpec:
    return GenerateSpec(args.videos, args.sellers, args.viewers, args.days, args.sessions, args.ad_views, seed, last)


def bench_settings(url: str, redis_url: str, partitions: int | None = None) -> Settings:
    """Settings of the batch on the scratch services, with a queue of its own."""
    base = Settings()
    return replace(base, environment="test", database_url=url, redis_url=redis_url, secret_key=SECRET,
                   batch_queue=f"bench-{os.getpid()}", batch_partitions=partitions or base.batch_partitions)


@contextmanager
def batch_workers(settings: Settings, count: int, fork: bool = False) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`count` real `paysystem worker` processes on the settings' queue, stopped on exit."""
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "SECRET_KEY": settings.secret_key, "BATCH_QUEUE": settings.batch_queue, "PAYSYSTEM_ENV": "test"}
    worker_args = ["--fork"] if fork else []
    workers = [subprocess.Popen([sys.executable, "-m", "paysystem", "worker", "--name", f"bench-{os.getpid()}-{i}",
                                 *worker_args],
                                env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for i in range(count)]
    try:
        time.sleep(2.0)  # let the workers register before anybody starts a clock
        yield workers
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(timeout=30)


def wait_runs(engine: Engine, run_ids: list[int], timeout: float = 900, poll_s: float = 0.1) -> None:
    """Wait until the runs are done, asking on one open connection every `poll_s` seconds.

    The waiting shares the 2 cores with the workers and the server it times: a pooled connection
    checked out for each question at 20 Hz took 2.7 % of a core, this 0.9 %."""
    deadline = time.monotonic() + timeout
    ids = ",".join(map(str, run_ids))
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            states = [r[0] for r in conn.execute(text(f"SELECT state FROM batch_runs WHERE id IN ({ids})"))]
            conn.rollback()  # the next question sees the workers' later commits
            if all(s in ("succeeded", "failed") for s in states):
                if any(s == "failed" for s in states):
                    raise SystemExit(f"runs failed: {states}")
                return
            time.sleep(poll_s)
    raise SystemExit("timed out waiting for the workers")


def backfill(settings: Settings, engine: Engine, first: date, last: date,
             trigger: RunTrigger = RunTrigger.BACKFILL) -> list[int]:
    """Enqueue the days `first`..`last` for the running workers and wait until they are done."""
    run_ids = enqueue_runs(settings, days_between(first, last), trigger)
    wait_runs(engine, run_ids)
    return run_ids


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar() or 0)

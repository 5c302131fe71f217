"""Benchmark of the progress endpoint: gunicorn + MariaDB + Redis under concurrent players.

    .venv/bin/python -m bench.progress                 # the default run, prints a table
    .venv/bin/python -m bench.progress --help          # options

It creates a scratch MariaDB database (dropped afterwards), migrates it, makes one hour-long
video and 10,000 viewers each with an open play session, starts gunicorn on a free loopback
port, and drives `POST /api/v1/videos/{id}/sessions/{sid}/progress` (bearer token, the path
other players use) from a separate load-generator process:

* `saturate`: 64 players each send their next report as soon as the previous one is
  answered — the most reports per second the node manages;
* `rate N`: reports go out at a fixed N per second whatever the latency (open loop), round
  the 10,000 sessions, so each session reports every 10 s as a real player does; latency
  is measured from when each report was due, so queueing behind a slow server is counted
  rather than hidden.

The target (issue 4) is at least 1,000 reports/s with p99 under 50 ms on a 2-core machine:
at one report per viewer every 10 s, about 10,000 viewers watching at once per node.
Services: BENCH_DATABASE_URL (server URL, no database; default root@127.0.0.1:3306) and
BENCH_REDIS_URL (default redis://127.0.0.1:6379; a free DB number is locked the way the
test suite does it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil
from redis import Redis
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url

from bench.dataset import redis_commands
from models import PlayHistory, PlaySession, PlayStatus, Role, User, Video
from models.accounts.service import create_user
from models.business_time import business_day
from models.catalog.tables import AdSlot, ad_slot_positions
from models.db import make_engine, make_sessionmaker, normalize_url
from paysystem import migrate
from portal.api.tokens import issue_token
from settings import PROJECT_ROOT, Settings, generate_fernet_key

DATABASE_SERVER = os.environ.get("BENCH_DATABASE_URL", "mysql+pymysql://root@127.0.0.1:3306")
REDIS_SERVER = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
REDIS_LOCK_PREFIX = "paysystem:test-db-lock:"
VIDEO_SECONDS = 3600
STEP_MS = 10_000  # a report every 10 s of playback


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- set-up ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Player:
    url: str
    token: str


class ScratchServices:
    """A fresh database and a locked Redis DB number, removed / released on exit."""

    def __enter__(self) -> ScratchServices:
        server = make_url(normalize_url(DATABASE_SERVER))
        self.name = f"paysystem_bench_{os.getpid()}_{secrets.token_hex(3)}"
        admin = make_engine(server.render_as_string(hide_password=False))
        with admin.begin() as conn:
            conn.execute(text(f"CREATE DATABASE `{self.name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
        admin.dispose()
        self.database_url = server.set(database=self.name).render_as_string(hide_password=False)
        self.control = Redis.from_url(REDIS_SERVER + "/0")
        self.lock_token = uuid.uuid4().hex
        for number in range(1, 16):
            if self.control.set(REDIS_LOCK_PREFIX + str(number), self.lock_token, nx=True, ex=3600):
                self.redis_number = number
                break
        else:
            raise SystemExit("all Redis DB numbers 1-15 are in use by test sessions; try again later")
        self.redis_url = f"{REDIS_SERVER}/{self.redis_number}"
        Redis.from_url(self.redis_url).flushdb()
        return self

    def __exit__(self, *_exc: object) -> None:
        server = make_url(normalize_url(DATABASE_SERVER)).render_as_string(hide_password=False)
        admin = make_engine(server)
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{self.name}`"))
        admin.dispose()
        Redis.from_url(self.redis_url).flushdb()
        key = REDIS_LOCK_PREFIX + str(self.redis_number)
        if self.control.get(key) == self.lock_token.encode():
            self.control.delete(key)


def seed(settings: Settings, viewers: int, base_url: str) -> list[Player]:
    """One seller's hour-long video and `viewers` viewers, each with an open play session.

    Bulk inserts (the benchmark measures reporting, not opening); every row is what
    open_session would have written for a counted view starting at 0:00.
    """
    engine = make_engine(settings.database_url)
    now = datetime.now(UTC)
    with make_sessionmaker(engine)() as db:
        seller = create_user(db, email="bench-seller@example.com", password=None, role=Role.SELLER)
        video = Video(seller_id=seller.id, title="Benchmark clip", description="", media_path="videos/bench.webm",
                      content_type="video/webm", size_bytes=1, duration_seconds=VIDEO_SECONDS, is_published=True)
        video.slots = [AdSlot(slot_index=i, position_seconds=p)
                       for i, p in enumerate(ad_slot_positions(VIDEO_SECONDS))]
        db.add(video)
        db.commit()
        video_id = video.id
        db.execute(insert(User), [
            {"email": f"bench-viewer-{i}@example.com", "display_name": f"viewer {i}", "role": Role.VIEWER,
             "is_active": True, "created_at": now} for i in range(viewers)
        ])
        ids = list(db.scalars(select(User.id).where(User.role == Role.VIEWER).order_by(User.id)))
        day = business_day(now, settings.tz)
        db.execute(insert(PlaySession), [
            {"viewer_id": viewer_id, "video_id": video_id, "day": day, "started_at": now, "last_report_at": now,
             "last_position_ms": 0, "furthest_position_ms": 0, "watch_ms": 0,
             "length_ms": VIDEO_SECONDS * 1000, "counted": True,
             "reject_reason": None, "updated_at": now} for viewer_id in ids
        ])
        db.execute(insert(PlayHistory), [
            {"viewer_id": viewer_id, "video_id": video_id, "last_position_ms": 0, "status": PlayStatus.PLAY,
             "updated_at": now} for viewer_id in ids
        ])
        sessions = db.execute(select(PlaySession.id, PlaySession.viewer_id).order_by(PlaySession.id)).all()
        db.commit()
    engine.dispose()
    result = []
    for session_id, viewer_id in sessions:
        token, _ = issue_token(User(id=viewer_id, role=Role.VIEWER), settings)
        result.append(Player(f"{base_url}/api/v1/videos/{video_id}/sessions/{session_id}/progress", token))
    return result


def start_gunicorn(settings: Settings, port: int, workers: int, threads: int, worker_class: str,
                   config: Path | None = None) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PAYSYSTEM_ENV="production", DATABASE_URL=settings.database_url,
               REDIS_URL=settings.redis_url, SECRET_KEY=settings.secret_key,
               PAYOUT_DETAILS_KEY=",".join(settings.payout_details_keys),
               PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
               "--threads", str(threads), "--worker-class", worker_class, "--log-level", "warning",
               *(["--config", str(config)] if config else []), "portal.wsgi:app"]
    proc = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, start_new_session=True)
    answered = wait_healthy(proc, port, 60)
    if answered is None:
        raise SystemExit("gunicorn exited during start-up")
    if not answered:
        stop(proc)
        raise SystemExit("gunicorn did not answer /healthz within 60 s")
    return proc


def wait_healthy(proc: subprocess.Popen[bytes], port: int, seconds: float) -> bool | None:
    """True once `GET /healthz` answers 200, False after `seconds` without, None if `proc` exited."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --- load generator (runs in its own process) --------------------------------------------------

async def _drive(players: list[tuple[str, str]], seconds: float, warmup: float, rate: float) -> dict:
    from urllib.parse import urlsplit

    from bench.http_load import ConnectionPool, HttpError

    records: list[tuple[float, float, str]] = []  # (due, done, "200" or the failure)
    positions = [0] * len(players)
    cpu_start = time.process_time()
    target = urlsplit(players[0][0])
    http = ConnectionPool(target.hostname or "127.0.0.1", target.port or 80, timeout=30)
    prepared = [(urlsplit(url).path, f"Authorization: Bearer {token}\r\n".encode()) for url, token in players]
    loop = asyncio.get_running_loop()
    start = loop.time()
    measure_from, end = start + warmup, start + warmup + seconds

    async def one(index: int, due: float) -> None:
        path, auth = prepared[index]
        positions[index] = (positions[index] + STEP_MS) % (VIDEO_SECONDS * 1000 - 5_000)
        body = b'{"position_ms": %d, "state": "playing"}' % positions[index]
        try:
            outcome = str(await http.post(path, body, auth))
        except (HttpError, OSError, TimeoutError) as exc:
            outcome = type(exc).__name__
        records.append((due, loop.time(), outcome))

    if rate <= 0:  # closed loop: each player reports again as soon as it is answered
        async def player(index: int) -> None:
            while (now := loop.time()) < end:
                await one(index, now)

        await asyncio.gather(*(player(i) for i in range(len(players))))
    else:  # open loop: reports are due at a fixed rate, round the sessions
        tasks: set[asyncio.Task[None]] = set()
        interval, n = 1.0 / rate, 0
        while (due := start + n * interval) < end:
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(n % len(players), due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            n += 1
        if tasks:
            await asyncio.gather(*tasks)
    http.close()
    # Throughput: answers that arrived inside the window. Latency: every report due inside
    # it, however late its answer came (open loop: late answers are the point).
    answered = sum(1 for _, done, outcome in records if outcome == "200" and measure_from <= done < end)
    latencies = [done - due for due, done, outcome in records if outcome == "200" and measure_from <= due < end]
    errors: dict[str, int] = {}
    for due, _, outcome in records:
        if outcome != "200" and measure_from <= due < end:
            errors[outcome] = errors.get(outcome, 0) + 1
    return {"answered": answered, "latencies": latencies, "errors": errors, "total": len(records),
            "cpu_seconds": time.process_time() - cpu_start}


def _load_process(players: list[tuple[str, str]], seconds: float, warmup: float, rate: float, out) -> None:  # type: ignore[no-untyped-def]
    out.send(asyncio.run(_drive(players, seconds, warmup, rate)))
    out.close()


def _cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for proc in processes:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def server_processes(gunicorn: subprocess.Popen[bytes]) -> dict[str, list[psutil.Process]]:
    """The processes whose CPU a report costs: gunicorn (master and workers), MariaDB, Redis.

    MariaDB and Redis are found by name on this machine; when they are shared with other
    work, their figures include it.
    """
    master = psutil.Process(gunicorn.pid)
    found: dict[str, list[psutil.Process]] = {"app": [master, *master.children(recursive=True)], "db": [], "redis": []}
    for proc in psutil.process_iter(["name"]):
        name = proc.info["name"] or ""
        if name in ("mariadbd", "mysqld"):
            found["db"].append(proc)
        elif name.startswith("redis-server"):
            found["redis"].append(proc)
    return found


def run_load(players: list[Player], seconds: float, warmup: float, rate: float,
             servers: dict[str, list[psutil.Process]], redis_url: str) -> dict:
    receiver, sender = multiprocessing.Pipe(duplex=False)
    pairs = [(p.url, p.token) for p in players]
    proc = multiprocessing.get_context("spawn").Process(target=_load_process,
                                                        args=(pairs, seconds, warmup, rate, sender))
    before = {name: _cpu_seconds(procs) for name, procs in servers.items()}
    commands_before = redis_commands(redis_url)
    proc.start()
    result = receiver.recv()
    proc.join()
    # CPU per report over the whole phase (warm-up included, like the reports counted here).
    reports = max(1, result["total"])
    result["cpu_ms"] = {name: (_cpu_seconds(procs) - before[name]) * 1000 / reports for name, procs in servers.items()}
    result["cpu_ms"]["load"] = result["cpu_seconds"] * 1000 / reports
    result["redis_per_report"] = (redis_commands(redis_url) - commands_before) / reports
    return result


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--players", type=int, default=64,
                        help="players of the closed-loop phase (each one request in flight)")
    parser.add_argument("--viewers", type=int, default=10_000,
                        help="play sessions the fixed-rate phases go round (10,000 viewers × 1 report / 10 s "
                             "= 1,000 reports/s)")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds before each phase")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker (gthread workers: keep-alive even with one thread)")
    parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class (gthread, gevent, sync)")
    parser.add_argument("--rate", type=float, action="append", default=None,
                        help="open-loop phase at this many reports/s (repeatable; default 1000)")
    parser.add_argument("--gunicorn-config", type=Path, help="a gunicorn config file to use instead of the portal's gunicorn.conf.py")
    parser.add_argument("--no-saturate", action="store_true", help="skip the closed-loop phase")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    rates = args.rate if args.rate is not None else [1000.0]
    if args.players < 1 or args.viewers < args.players or args.seconds <= 0:
        parser.error("--players and --seconds must be positive, --viewers at least --players")

    rows = []
    with ScratchServices() as services:
        settings = Settings(environment="production", database_url=services.database_url,
                            redis_url=services.redis_url, secret_key=secrets.token_urlsafe(48),
                            payout_details_keys=(generate_fernet_key(),)).validate()
        print(f"* scratch database {services.name}, Redis DB {services.redis_number}", flush=True)
        migrate.upgrade(settings.database_url)
        port = free_port()
        print(f"* seeding {args.viewers:,} viewers with open play sessions", flush=True)
        viewers = seed(settings, args.viewers, f"http://127.0.0.1:{port}")
        gunicorn = start_gunicorn(settings, port, args.workers, args.threads, args.worker_class,
                                  args.gunicorn_config)
        servers = server_processes(gunicorn)
        try:
            phases = ([("saturate", 0.0)] if not args.no_saturate else []) + [(f"rate {r:g}/s", r) for r in rates]
            for name, rate in phases:
                players = viewers if rate else viewers[: args.players]
                print(f"* {name}: {len(players):,} sessions, {args.warmup:g} s warm-up + {args.seconds:g} s", flush=True)
                result = run_load(players, args.seconds, args.warmup, rate, servers, services.redis_url)
                lat = sorted(result["latencies"])
                rows.append({
                    "phase": name, "reports": result["answered"], "reports_per_s": result["answered"] / args.seconds,
                    "cpu_ms": result["cpu_ms"], "redis_per_report": result["redis_per_report"],
                    "p50_ms": percentile(lat, 0.50) * 1000, "p90_ms": percentile(lat, 0.90) * 1000,
                    "p99_ms": percentile(lat, 0.99) * 1000, "max_ms": (lat[-1] * 1000) if lat else float("nan"),
                    "errors": sum(result["errors"].values()), "error_kinds": result["errors"],
                })
        finally:
            stop(gunicorn)
        factory = make_sessionmaker(make_engine(settings.database_url))
        with factory() as db:
            credited = db.scalar(select(func.sum(PlaySession.watch_ms))) or 0
            reported = db.scalar(select(func.count()).select_from(PlaySession).where(PlaySession.watch_ms > 0))

    print()
    print(f"progress endpoint · gunicorn {args.workers} workers × {args.threads} threads · closed loop "
          f"{args.players} players, fixed rate over {args.viewers:,} sessions · MariaDB + Redis · "
          f"{os.cpu_count()} cores")
    header = (f"{'phase':<14}{'reports':>9}{'reports/s':>11}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}"
              f"{'errors':>8}   CPU ms/report: app  db  redis  load   Redis cmds/report")
    print(header)
    print("-" * len(header))
    for row in rows:
        cpu = row["cpu_ms"]
        print(f"{row['phase']:<14}{row['reports']:>9}{row['reports_per_s']:>11.0f}{row['p50_ms']:>9.1f}"
              f"{row['p90_ms']:>9.1f}{row['p99_ms']:>9.1f}{row['max_ms']:>9.1f}{row['errors']:>8}"
              f"{cpu['app']:>23.2f}{cpu['db']:>5.2f}{cpu['redis']:>6.2f}{cpu['load']:>6.2f}"
              f"{row['redis_per_report']:>20.2f}")
    print("(reports/s: answers inside the measured window; latency: every report due in it, from when it "
          "was due; CPU: all processes of this machine, so a shared MariaDB or Redis counts others' work too; "
          "Redis cmds: commands the Redis server processed during the phase, per report)")
    print(f"\n{reported:,} sessions were credited {credited / 1000:,.0f} s of watch time in all.")
    for row in rows:
        if row["error_kinds"]:
            print(f"errors in {row['phase']}: {row['error_kinds']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"workers": args.workers, "threads": args.threads,
                                         "players": args.players, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

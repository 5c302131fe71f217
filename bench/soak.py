"""Soak test: the whole node for minutes under mixed load, with a Redis restart in the middle.

    flock /tmp/paysystem-bench.lock .venv/bin/python -m bench.soak              # 300 s, prints a table
    flock /tmp/paysystem-bench.lock .venv/bin/python -m bench.soak --seconds 40 # a short trial
    .venv/bin/python -m bench.soak --help                                         # options

Issue 13. One command, not in CI. It sets up, on this machine:

* a scratch MariaDB database (BENCH_DATABASE_URL, default root@127.0.0.1:3306), migrated
  and seeded with paysystem/synthetic_data.py (30 days, 200,000 play sessions by default)
  and backfilled inline, so the dashboards have figures; some of the synthetic sellers get
  passwords, plus an admin and one viewer account per simulated player;
* a PRIVATE `redis-server` on a free loopback port (no persistence), which it owns and can
  therefore kill and start again empty without touching anybody else's Redis;
* the real processes: gunicorn with the project's gunicorn.conf.py, two `paysystem worker`
  processes and the `paysystem scheduler`.

Two load-generator processes (bench/http_client.py, on bench/http_load.py's client) then run
for `--seconds`, players and sellers joining over the first `--ramp` seconds:

* players open play sessions through the API (bearer tokens) and play them in real time,
  reporting progress every 5 s of playback, sometimes pausing and seeking, the way
  portal/static/js/player.js does (position at the moment of the report; a seek is the
  position reached plus `seek_to_ms`). Each keeps a ledger of what it played. A report
  that fails is covered by the next one, as in player.js (the next report carries the
  position on, so the §4 credit of the missed interval arrives with it); a seek, a pause
  or a session's last report is retried until answered, because nothing later would
  carry it;
* sellers browse the dashboard (page and htmx fragment) and the settlement pages with a
  cookie session, and read the stats API with a bearer token;
* an admin signs in to the API and starts a backfill (`POST /api/v1/admin/runs`), and after the
  restart runs yesterday again (do the workers still take new jobs?);
* at the midpoint the soak SIGKILLs its Redis, waits `--redis-down` seconds and starts it
  again, empty, on the same port.

At the end it compares each play session's credited watch time in the database with the
players' ledger (lost progress = sessions and seconds missing; it must be 0), and prints a
markdown table: requests and errors by status per request kind with p50/p99, the errors
inside and outside the Redis outage, resident memory at start, before the restart and at the
end per process, a timeline per 30 s, and the outcome of the admin's runs. The exit status is
1 when progress is missing or a session's last report was never answered. `--json PATH` writes the same figures. Every process it started and the
scratch database are removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
from redis import Redis
from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.engine import make_url

from bench.progress import free_port, percentile, wait_healthy
from jobs.inline import run_days_inline
from models import PlaySession, Role, User, Video
from models.accounts.passwords import hash_password
from models.accounts.service import create_user
from models.batch.tables import RunTrigger
from models.business_time import days_between
from models.db import make_engine, make_sessionmaker, normalize_url
from paysystem import migrate
from paysystem.synthetic_data import GenerateSpec, default_last_day, generate
from portal.api.tokens import issue_token
from settings import PROJECT_ROOT, Settings, generate_fernet_key

DATABASE_SERVER = os.environ.get("BENCH_DATABASE_URL", "mysql+pymysql://root@127.0.0.1:3306")
PASSWORD = "soak-password-1234"
ADMIN_EMAIL = "soak-admin@soak.paysystem.test"


# --- processes this soak owns --------------------------------------------------------------------

class PrivateRedis:
    """A redis-server of our own on a free loopback port: killed and started again at will."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.generation = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.generation += 1
        log = open(self.workdir / f"redis-{self.generation}.log", "wb")  # noqa: SIM115 (kept for the process)
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--dir", str(self.workdir)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        client = Redis.from_url(self.url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return
            except OSError:
                pass
            except Exception:  # redis ConnectionError / BusyLoadingError while it starts
                pass
            time.sleep(0.05)
        raise SystemExit("the private redis-server did not answer within 20 s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


@dataclass
class Node:
    """The portal's processes, by role, and their logs."""

    gunicorn: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]
    scheduler: subprocess.Popen[bytes] | None
    logdir: Path
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def processes(self) -> dict[str, list[psutil.Process]]:
        found: dict[str, list[psutil.Process]] = {}
        try:
            master = psutil.Process(self.gunicorn.pid)
            found["gunicorn master"] = [master]
            found["gunicorn workers"] = master.children()
        except psutil.Error:
            pass
        rq: list[psutil.Process] = []
        for proc in self.workers:
            try:
                parent = psutil.Process(proc.pid)
                rq += [parent, *parent.children(recursive=True)]
            except psutil.Error:
                pass
        # A child that died and was not reaped yet (RQ's scheduler process after a lost
        # connection) is no longer one of the node's processes.
        found["rq workers"] = [p for p in rq if _alive(p)]
        if self.scheduler is not None:
            try:
                found["rq scheduler"] = [psutil.Process(self.scheduler.pid)]
            except psutil.Error:
                pass
        return found


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _env(settings: Settings) -> dict[str, str]:
    return dict(os.environ, PAYSYSTEM_ENV="production", PUBLIC_BASE_URL=settings.public_base_url,
                DATABASE_URL=settings.database_url,
                REDIS_URL=settings.redis_url, SECRET_KEY=settings.secret_key,
                PAYOUT_DETAILS_KEY=",".join(settings.payout_details_keys))


def start_node(settings: Settings, port: int, rq_workers: int, scheduler: bool, logdir: Path) -> Node:
    env = _env(settings)

    def spawn(name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = open(logdir / f"{name}.log", "wb")  # noqa: SIM115 (kept for the process)
        return subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)

    # No --config: gunicorn reads ./gunicorn.conf.py (workers, threads, keep-alive) as in production.
    gunicorn = spawn("gunicorn", [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                                  "--log-level", "warning", "portal.wsgi:app"])
    node = Node(gunicorn, [], None, logdir)
    node.started.append(gunicorn)
    for i in range(rq_workers):
        worker = spawn(f"worker-{i + 1}", [sys.executable, "-m", "paysystem", "worker", "--name", f"soak-{i + 1}-{port}"])
        node.workers.append(worker)
        node.started.append(worker)
    if scheduler:
        node.scheduler = spawn("scheduler", [sys.executable, "-m", "paysystem", "scheduler"])
        node.started.append(node.scheduler)
    answered = wait_healthy(gunicorn, port, 90)
    if answered:
        return node
    stop_node(node)
    if answered is None:
        raise SystemExit(f"gunicorn exited during start-up; see {logdir / 'gunicorn.log'}")
    raise SystemExit("gunicorn did not answer /healthz within 90 s")


def stop_node(node: Node) -> None:
    for proc in node.started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in node.started:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --- scratch database and seed -------------------------------------------------------------------

@contextmanager
def scratch_database() -> Iterator[str]:
    server = make_url(normalize_url(DATABASE_SERVER))
    name = f"paysystem_soak_{os.getpid()}_{secrets.token_hex(3)}"
    admin = make_engine(server.render_as_string(hide_password=False))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


@dataclass
class Seed:
    players: list[tuple[int, str]]  # (viewer id, bearer token)
    sellers: list[tuple[str, str]]  # (e-mail, bearer token); password PASSWORD
    videos: list[tuple[int, int]]  # (video id, duration ms)
    first_day: str
    last_day: str
    seed_seconds: float
    backfill_seconds: float


def seed(settings: Settings, args: argparse.Namespace) -> Seed:
    """Synthetic history, backfilled; passwords for some sellers; an admin; one viewer per player."""
    engine = make_engine(settings.database_url)
    last_day = default_last_day(settings.tz)
    spec = GenerateSpec(videos=args.videos, sellers=args.gen_sellers, viewers=args.gen_viewers, days=args.days,
                        sessions=args.sessions, ad_views=args.sessions // 2, seed=1, last_day=last_day)
    started = time.perf_counter()
    generate(engine, spec, settings.tz)
    seeded = time.perf_counter() - started
    started = time.perf_counter()
    results = run_days_inline(settings, days_between(spec.first_day, last_day), RunTrigger.BACKFILL)
    backfilled = time.perf_counter() - started
    failed = [r for r in results if r.state.value != "succeeded"]
    if failed:
        raise SystemExit(f"the seed backfill failed: {failed[0]}")

    now = datetime.now(UTC)
    with make_sessionmaker(engine)() as db:
        create_user(db, email=ADMIN_EMAIL, password=PASSWORD, role=Role.ADMIN)
        # The sellers with the most videos: their dashboards have the most to show.
        seller_rows = db.execute(text(
            "SELECT u.id, u.email FROM users u JOIN videos v ON v.seller_id = u.id WHERE u.role = 'seller' "
            "GROUP BY u.id, u.email ORDER BY COUNT(*) DESC, u.id LIMIT :n"), {"n": args.sellers}).all()
        digest = hash_password(PASSWORD)
        db.execute(text("UPDATE users SET password_hash = :h WHERE id IN :ids").bindparams(
            bindparam("ids", expanding=True)),
            {"h": digest, "ids": [row[0] for row in seller_rows]})
        db.execute(insert(User), [
            {"email": f"soak-player-{i}@soak.paysystem.test", "display_name": f"player {i}", "role": Role.VIEWER,
             "is_active": True, "created_at": now} for i in range(args.players)])
        player_ids = list(db.scalars(select(User.id).where(User.email.like("soak-player-%")).order_by(User.id)))
        videos = db.execute(select(Video.id, Video.duration_seconds)
                            .where(Video.is_published.is_(True), Video.duration_seconds >= 120)
                            .order_by(Video.id).limit(args.player_videos)).all()
        db.commit()
    engine.dispose()
    players = [(vid, issue_token(User(id=vid, role=Role.VIEWER), settings)[0]) for vid in player_ids]
    sellers = [(email, issue_token(User(id=uid, role=Role.SELLER), settings)[0]) for uid, email in seller_rows]
    return Seed(players, sellers, [(v, d * 1000) for v, d in videos], spec.first_day.isoformat(),
                last_day.isoformat(), seeded, backfilled)


# --- load generators (each in its own process) ---------------------------------------------------

@dataclass
class LoadConfig:
    host: str
    port: int
    start_at: float  # time.time() when the load starts
    seconds: float
    grace: float  # after the end, how long players may retry their last report
    report_every: float
    seed: int
    players: list[tuple[int, str]] = field(default_factory=list)
    videos: list[tuple[int, int]] = field(default_factory=list)
    sellers: list[tuple[str, str]] = field(default_factory=list)
    backfill_at: float = 0.25
    backfill: tuple[str, str] | None = None
    rerun_at: float = 0.75
    rerun: str | None = None  # a day the admin runs again after the Redis restart
    settlement_range: tuple[str, str] = ("", "")
    memory_at: tuple[float, float] = (2.0, -1.0)
    ramp: float = 30.0  # seconds over which players and sellers join


class Recorder:
    """(kind, outcome, latency s, seconds since the start) of every request."""

    def __init__(self, loop: asyncio.AbstractEventLoop, start: float) -> None:
        self.loop, self.start = loop, start
        self.rows: list[tuple[str, str, float, float]] = []

    async def call(self, kind: str, coro: Any) -> Any:
        """Await a Client.request; the Response, or None after an exception. Records either way."""
        began = self.loop.time()
        try:
            response = await coro
        except Exception as exc:  # connection refused / reset / timeout: the request failed
            self.rows.append((kind, type(exc).__name__, self.loop.time() - began, began - self.start))
            return None
        self.rows.append((kind, str(response.status), self.loop.time() - began, began - self.start))
        return response


def _memory_probe(loop: asyncio.AbstractEventLoop, start: float, config: LoadConfig, out: dict[str, float]) -> None:
    me = psutil.Process()
    first, last = config.memory_at
    loop.call_at(start + first, lambda: out.__setitem__("start", me.memory_info().rss))
    loop.call_at(start + config.seconds + last, lambda: out.__setitem__("end", me.memory_info().rss))


async def _players(config: LoadConfig) -> dict[str, Any]:
    from bench.http_client import Client

    loop = asyncio.get_running_loop()
    start = loop.time() + (config.start_at - time.time())
    end = start + config.seconds
    give_up = end + config.grace
    rec = Recorder(loop, start)
    memory: dict[str, float] = {}
    _memory_probe(loop, start, config, memory)
    http = Client(config.host, config.port, timeout=30)
    ledger: dict[int, dict[str, Any]] = {}
    counts = {"seeks": 0, "pauses": 0, "retried": 0, "ended": 0, "open_failed": 0, "unanswered_final": 0}
    rng = random.Random(config.seed)

    async def report(auth: bytes, path: str, body: dict[str, Any]) -> Any:
        return await rec.call("progress", http.request("POST", path, json.dumps(body).encode(), auth,
                                                        "application/json"))

    async def must_report(auth: bytes, path: str, body: dict[str, Any]) -> Any:
        """A report nothing later would carry (seek, pause, last): retried until answered, like a
        player that keeps the report queued; refusals (4xx) are final."""
        while True:
            response = await report(auth, path, body)
            if response is not None and response.status < 500:
                return response
            if loop.time() > give_up:
                return None
            counts["retried"] += 1
            await asyncio.sleep(1.0)

    async def player(index: int, viewer_token: str) -> None:
        auth = f"Authorization: Bearer {viewer_token}\r\n".encode()
        # Players join during the ramp-up, as an audience does, not all in the first second.
        await asyncio.sleep(max(0.0, start - loop.time()) + config.ramp * index / len(config.players)
                            + rng.uniform(0, config.report_every))
        while loop.time() < end:
            video_id, duration = rng.choice(config.videos)
            opened = await rec.call("open session", http.request("POST", f"/api/v1/videos/{video_id}/sessions",
                                                                  b"", auth))
            if opened is None or opened.status != 201:
                counts["open_failed"] += 1
                await asyncio.sleep(1.0 + rng.random())
                continue
            info = opened.json()
            sid, duration = int(info["session_id"]), int(info["duration_ms"])
            path = f"/api/v1/videos/{video_id}/sessions/{sid}/progress"
            entry = ledger[sid] = {"video": video_id, "played_ms": 0, "closed": False,
                                   "opened_at": loop.time() - start}
            position = int(info["start_position_ms"])
            sent = position  # the position of the last report the server answered 200 or was sent
            clock, from_pos = loop.time(), position  # playback: position = from_pos + (now - clock)
            session_end = min(end, loop.time() + rng.uniform(20, 90))
            next_due = loop.time() + config.report_every
            ended = False
            while not ended:
                await asyncio.sleep(max(0.0, next_due - loop.time()))
                now = loop.time()
                current = min(duration, from_pos + int((now - clock) * 1000))
                entry["played_ms"] += current - sent
                last = now >= session_end or current >= duration
                roll = rng.random()
                if last:
                    body = {"position_ms": current, "state": "paused"}
                    response = await must_report(auth, path, body)
                    entry["closed"] = response is not None and response.status == 200
                    if response is None:
                        counts["unanswered_final"] += 1
                    ended = True
                elif roll < 0.08:  # seek somewhere else, forwards or back
                    target = rng.randrange(0, max(1, duration - 20_000))
                    counts["seeks"] += 1
                    response = await must_report(auth, path, {"position_ms": current, "seek_to_ms": target,
                                                              "state": "playing"})
                    current = target
                    clock, from_pos = loop.time(), target
                elif roll < 0.16:  # pause a few seconds, then play on
                    counts["pauses"] += 1
                    response = await must_report(auth, path, {"position_ms": current, "state": "paused"})
                    await asyncio.sleep(rng.uniform(2, 6))
                    clock, from_pos = loop.time(), current
                else:  # the periodic report; when it fails, the next one carries the position on
                    response = await report(auth, path, {"position_ms": current, "state": "playing"})
                sent = current
                if response is not None and response.status == 200 and response.json().get("ended"):
                    counts["ended"] += 1
                    entry["closed"] = True
                    ended = True
                elif response is not None and response.status in (404, 409):
                    ended = True  # refused for good: the ledger check will show it
                next_due = loop.time() + config.report_every if not ended else 0
                # Playback reaches the end before the next report is due: report there.
                if not ended:
                    to_end = (duration - (from_pos + int((loop.time() - clock) * 1000))) / 1000
                    next_due = min(next_due, loop.time() + max(0.0, to_end))
            await asyncio.sleep(rng.uniform(0.5, 2.0))  # between videos

    await asyncio.gather(*(player(i, token) for i, (_, token) in enumerate(config.players)))
    http.close()
    return {"rows": rec.rows, "ledger": ledger, "counts": counts, "memory": memory}


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


async def _sellers(config: LoadConfig) -> dict[str, Any]:
    from bench.http_client import Client, CookieJar

    loop = asyncio.get_running_loop()
    start = loop.time() + (config.start_at - time.time())
    end = start + config.seconds
    rec = Recorder(loop, start)
    memory: dict[str, float] = {}
    _memory_probe(loop, start, config, memory)
    rng = random.Random(config.seed + 1)
    admin: dict[str, Any] = {}

    async def sign_in(http: Client, jar: CookieJar, email: str) -> bool:
        page = await rec.call("sign-in", http.request("GET", "/auth/signin", headers=jar.header()))
        if page is None or page.status != 200:
            return False
        jar.update(page)
        match = _CSRF.search(page.body.decode("utf-8", "replace"))
        if match is None:
            return False
        form = urllib.parse.urlencode({"csrf_token": match[1] or match[2], "email": email, "password": PASSWORD,
                                       "next": ""}).encode()
        answer = await rec.call("sign-in", http.request("POST", "/auth/signin", form, jar.header(),
                                                         "application/x-www-form-urlencoded"))
        if answer is None:
            return False
        jar.update(answer)
        return answer.status in (302, 303)

    async def seller(email: str, token: str) -> None:
        http = Client(config.host, config.port, timeout=30)
        jar = CookieJar()
        bearer = f"Authorization: Bearer {token}\r\n".encode()
        await asyncio.sleep(max(0.0, start - loop.time()) + rng.uniform(0, config.ramp))
        signed_in = await sign_in(http, jar, email)
        pages = [
            ("dashboard", "/dashboard", b""),
            ("dashboard fragment", "/dashboard?metric=watch_seconds&period=week",
             b"HX-Request: true\r\nHX-Target: top5\r\n"),
            ("settlements page", "/settlements", b""),
            ("settlements page", "/settlements?granularity=month", b""),
        ]
        first, last = config.settlement_range
        api = [("api stats summary", "/api/v1/stats/summary"),
               ("api settlements", f"/api/v1/settlements?granularity=week&from={first}&to={last}")]
        while loop.time() < end:
            if not signed_in:
                signed_in = await sign_in(http, jar, email)
                if not signed_in:
                    await asyncio.sleep(2)
                    continue
            kind, path, extra = rng.choice(pages)
            response = await rec.call(kind, http.request("GET", path, headers=jar.header() + extra))
            if response is not None:
                jar.update(response)
                if response.status in (302, 303) and "/auth/signin" in (response.header("location") or ""):
                    signed_in = False
            kind, path = rng.choice(api)
            await rec.call(kind, http.request("GET", path, headers=bearer))
            await asyncio.sleep(rng.uniform(1.0, 3.0))
        http.close()

    async def administrator() -> None:
        if config.backfill is None:
            return
        http = Client(config.host, config.port, timeout=60)
        await asyncio.sleep(max(0.0, start + config.seconds * config.backfill_at - loop.time()))
        body = json.dumps({"email": ADMIN_EMAIL, "password": PASSWORD}).encode()
        answer = await rec.call("admin token", http.request("POST", "/api/v1/auth/token", body,
                                                             content_type="application/json"))
        if answer is None or answer.status != 200:
            admin["error"] = f"token: {answer.status if answer else 'no answer'}"
            return
        auth = f"Authorization: Bearer {answer.json()['access_token']}\r\n".encode()
        first, last = config.backfill
        body = json.dumps({"first": first, "last": last}).encode()
        admin["requested_at"] = loop.time() - start
        answer = await rec.call("admin backfill", http.request("POST", "/api/v1/admin/runs", body, auth,
                                                                "application/json"))
        if answer is None or answer.status not in (200, 202):
            admin["error"] = f"backfill: {answer.status} {answer.body[:200]!r}" if answer else "backfill: no answer"
            return
        admin["started"] = answer.json().get("started", [])
        rerun_due = start + config.seconds * config.rerun_at
        while loop.time() < end:  # the admin keeps the job-runs list open
            await asyncio.sleep(min(10.0, max(0.1, rerun_due - loop.time())) if "rerun" not in admin else 10.0)
            if config.rerun and "rerun" not in admin and loop.time() >= rerun_due:
                # After the Redis restart: do the workers still take new jobs from the emptied queue?
                body = json.dumps({"first": config.rerun}).encode()
                answer = await rec.call("admin day re-run", http.request("POST", "/api/v1/admin/runs", body, auth,
                                                                         "application/json"))
                admin["rerun"] = answer.json().get("started", []) if answer is not None and answer.status in (
                    200, 202) else []
                admin["rerun_at"] = loop.time() - start
                continue
            await rec.call("admin runs list", http.request("GET", "/api/v1/admin/runs", headers=auth))
        http.close()

    await asyncio.gather(administrator(), *(seller(email, token) for email, token in config.sellers))
    return {"rows": rec.rows, "admin": admin, "memory": memory}


def _load_process(which: str, config: LoadConfig, out: Any) -> None:
    runner = _players if which == "players" else _sellers
    out.send(asyncio.run(runner(config)))
    out.close()


# --- the run ---------------------------------------------------------------------------------------

def _rss(procs: list[psutil.Process]) -> float:
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            pass
    return total


def _mariadb() -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["name"]) if (p.info["name"] or "") in ("mariadbd", "mysqld")]


def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="paysystem-soak-"))
    redis = PrivateRedis(workdir)
    redis.start()
    try:
        with scratch_database() as database_url:
            settings = Settings(environment="production", database_url=database_url, redis_url=redis.url,
                                secret_key=secrets.token_urlsafe(48), payout_details_keys=(generate_fernet_key(),)).validate()
            print(f"* scratch database {make_url(database_url).database}, private redis-server on port {redis.port}",
                  flush=True)
            migrate.upgrade(database_url)
            print(f"* seeding {args.days} days, {args.sessions:,} play sessions, and backfilling them", flush=True)
            data = seed(settings, args)
            print(f"  generated in {data.seed_seconds:.0f} s, backfilled in {data.backfill_seconds:.0f} s", flush=True)
            port = free_port()
            node = start_node(settings, port, args.rq_workers, not args.no_scheduler, workdir)
            try:
                return _drive(args, settings, data, node, redis, port)
            finally:
                stop_node(node)
    finally:
        redis.kill()
        for log in sorted(workdir.glob("*.log")):
            if args.keep_logs:
                continue
            log.unlink()
        if not args.keep_logs:
            try:
                workdir.rmdir()
            except OSError:
                pass
        else:
            print(f"* logs kept in {workdir}")


def _drive(args: argparse.Namespace, settings: Settings, data: Seed, node: Node, redis: PrivateRedis,
           port: int) -> dict[str, Any]:
    last = datetime.fromisoformat(data.last_day).date()
    backfill = ((last - timedelta(days=args.backfill_days - 1)).isoformat(), data.last_day)
    start_at = time.time() + 8  # room for the load processes to start
    common = dict(host="127.0.0.1", port=port, start_at=start_at, seconds=args.seconds, grace=args.grace,
                  report_every=args.report_every, seed=args.seed, ramp=args.ramp)
    configs = {
        "players": LoadConfig(**common, players=data.players, videos=data.videos),  # type: ignore[arg-type]
        "sellers": LoadConfig(**common, sellers=data.sellers, backfill_at=args.backfill_at,  # type: ignore[arg-type]
                              backfill=backfill, rerun_at=args.rerun_at, rerun=data.last_day,
                              settlement_range=((last - timedelta(days=27)).isoformat(), data.last_day)),
    }
    context = multiprocessing.get_context("spawn")
    pipes, loaders = {}, {}
    for name, config in configs.items():
        receiver, sender = context.Pipe(duplex=False)
        proc = context.Process(target=_load_process, args=(name, config, sender), daemon=True)
        proc.start()
        pipes[name], loaders[name] = receiver, proc
    print(f"* load: {len(data.players)} players, {len(data.sellers)} sellers, an admin's backfill of "
          f"{args.backfill_days} days at {args.backfill_at:.0%}; Redis restart at {args.restart_at:.0%} "
          f"for {args.seconds:g} s", flush=True)

    def until(moment: float) -> None:
        time.sleep(max(0.0, moment - time.time()))

    memory: dict[str, dict[str, float]] = {}
    mariadb = _mariadb()

    def sample(when: str) -> None:
        for name, procs in node.processes().items():
            memory.setdefault(name, {})[when] = _rss(procs)
            memory[name][f"count_{when}"] = len(procs)
        memory.setdefault("redis-server (private)", {})[when] = _rss([psutil.Process(redis.proc.pid)])  # type: ignore[union-attr]
        memory.setdefault("mariadbd (shared)", {})[when] = _rss(mariadb)

    until(start_at + 2)
    sample("start")
    until(start_at + args.seconds * args.restart_at - 1)
    sample("before restart")
    until(start_at + args.seconds * args.restart_at)
    outage_from = time.time() - start_at
    print(f"* {outage_from:.0f} s: SIGKILL redis-server, {args.redis_down:g} s down, started again empty", flush=True)
    redis.kill()
    time.sleep(args.redis_down)
    redis.start()
    outage_to = time.time() - start_at
    until(start_at + args.seconds - 1)
    sample("end")
    results = {name: pipe.recv() for name, pipe in pipes.items()}
    for proc in loaders.values():
        proc.join(timeout=30)
    print("* load finished; checking the ledger and the backfill", flush=True)

    engine = make_engine(settings.database_url)
    ledger = results["players"]["ledger"]
    with engine.connect() as conn:
        credited = dict(conn.execute(select(PlaySession.id, PlaySession.watch_ms)
                                     .where(PlaySession.id.in_([int(s) for s in ledger] or [0]))).all())
    missing = [(sid, e["played_ms"] - credited.get(int(sid), 0)) for sid, e in ledger.items()
               if credited.get(int(sid), 0) != e["played_ms"]]
    played_total = sum(e["played_ms"] for e in ledger.values())
    credited_total = sum(credited.get(int(s), 0) for s in ledger)

    admin = results["sellers"]["admin"]
    backfill_result = _backfill_outcome(engine, admin.get("started") or [], admin.get("requested_at"),
                                        admin.get("error"), args.backfill_wait)
    rerun_result = _backfill_outcome(engine, admin.get("rerun") or [], admin.get("rerun_at"),
                                     "no re-run was started" if "rerun_at" in admin else "not reached",
                                     args.backfill_wait)
    engine.dispose()
    rows = results["players"]["rows"] + results["sellers"]["rows"]
    memory["load generator (players)"] = dict(results["players"]["memory"])
    memory["load generator (sellers, admin)"] = dict(results["sellers"]["memory"])
    return {
        "seconds": args.seconds, "players": len(data.players), "sellers": len(data.sellers),
        "seed": {"days": args.days, "sessions": args.sessions, "generate_s": data.seed_seconds,
                 "backfill_s": data.backfill_seconds},
        "outage": [outage_from, outage_to],
        "kinds": _by_kind(rows, outage_from, outage_to),
        "ledger": {"sessions": len(ledger), "played_s": played_total / 1000, "credited_s": credited_total / 1000,
                   "sessions_off": len(missing), "missing_s": sum(m for _, m in missing if m > 0) / 1000,
                   "extra_s": -sum(m for _, m in missing if m < 0) / 1000,
                   "worst": sorted(missing, key=lambda m: -abs(m[1]))[:10],
                   "unclosed": sum(1 for e in ledger.values() if not e["closed"]),
                   **results["players"]["counts"]},
        "memory": memory,
        "backfill": backfill_result,
        "rerun": rerun_result,
        "cores": os.cpu_count(),
        "ramp": args.ramp,
        "timeline": _timeline(rows, ledger, credited, args.seconds),
    }


def _backfill_outcome(engine: Any, run_ids: list[int], requested_at: float | None, error: str | None,
                      wait: float) -> dict[str, Any]:
    """The states of the runs an admin started, once they are over (or `wait` s have passed)."""
    if not run_ids:
        return {"error": error or "no backfill was started"}
    ids = ",".join(str(int(r)) for r in run_ids)
    deadline = time.monotonic() + wait
    while True:
        with engine.connect() as conn:
            states = conn.execute(text(f"SELECT state, COUNT(*) FROM batch_runs WHERE id IN ({ids}) GROUP BY state")).all()
            times = conn.execute(text(f"SELECT MIN(created_at), MAX(finished_at) FROM batch_runs WHERE id IN ({ids})")).one()
        states = dict((str(s), int(n)) for s, n in states)
        if set(states) <= {"succeeded", "failed", "cancelled"} or time.monotonic() > deadline:
            break
        time.sleep(1)
    took = (times[1] - times[0]).total_seconds() if times[0] and times[1] and set(states) <= {"succeeded"} else None
    return {"runs": len(run_ids), "states": states, "requested_at_s": requested_at, "took_s": took}


def _timeline(rows: list[tuple[str, str, float, float]], ledger: dict[Any, dict[str, Any]],
              credited: dict[int, int], seconds: float, step: float = 30.0) -> list[dict[str, Any]]:
    """Per `step` seconds: requests started, errors, slow answers (over 2 s, the §4 slack),
    the largest latency, and the progress missing from sessions opened in that window."""
    buckets = [{"from_s": i * step, "requests": 0, "errors": 0, "over_2s": 0, "max_ms": 0.0, "missing_s": 0.0}
               for i in range(int((seconds + 60) // step) + 1)]

    def bucket(at: float) -> dict[str, Any]:
        return buckets[min(len(buckets) - 1, max(0, int(at // step)))]

    for _, outcome, latency, at in rows:
        b = bucket(at)
        b["requests"] += 1
        b["errors"] += 0 if outcome.isdigit() and int(outcome) < 400 else 1
        b["over_2s"] += latency > 2.0
        b["max_ms"] = max(b["max_ms"], latency * 1000)
    for sid, entry in ledger.items():
        bucket(entry["opened_at"])["missing_s"] += (entry["played_ms"] - credited.get(int(sid), 0)) / 1000
    return [b for b in buckets if b["requests"] or b["missing_s"]]


def _by_kind(rows: list[tuple[str, str, float, float]], outage_from: float, outage_to: float) -> dict[str, Any]:
    kinds: dict[str, Any] = {}
    # Requests in flight at any time from the kill to 5 s after Redis came back count as "in
    # the outage" (one started just before the kill can be answered 503 after it).
    settle_to = outage_to + 5
    for kind, outcome, latency, at in rows:
        k = kinds.setdefault(kind, {"requests": 0, "latencies": [], "errors": {}, "errors_in_outage": 0,
                                    "errors_outside": 0})
        k["requests"] += 1
        k["latencies"].append(latency)
        # A redirect is a failure too (to the sign-in page: the cookie session was lost), except
        # the one that answers a sign-in.
        fine = outcome.isdigit() and (int(outcome) < 300 or (kind == "sign-in" and outcome in ("302", "303")))
        if not fine:
            k["errors"][outcome] = k["errors"].get(outcome, 0) + 1
            if at <= settle_to and at + latency >= outage_from:  # in flight at any time of the outage
                k["errors_in_outage"] += 1
            else:
                k["errors_outside"] += 1
    for k in kinds.values():
        lat = sorted(k.pop("latencies"))
        k["p50_ms"] = percentile(lat, 0.50) * 1000
        k["p99_ms"] = percentile(lat, 0.99) * 1000
        k["max_ms"] = lat[-1] * 1000 if lat else float("nan")
    return dict(sorted(kinds.items()))


# --- the table -----------------------------------------------------------------------------------

def table(result: dict[str, Any]) -> str:
    mb = 2 ** 20
    lines = [
        f"Soak: {result['seconds']:g} s on loopback, {result['players']} players, {result['sellers']} sellers, "
        f"an admin backfill, Redis SIGKILLed at {result['outage'][0]:.0f} s and back empty at "
        f"{result['outage'][1]:.0f} s; seed {result['seed']['days']} days / {result['seed']['sessions']:,} "
        f"sessions; players and sellers joined over the first {result['ramp']:g} s; {result['cores']} cores.",
        "",
        "| request | requests | errors (by status) | in outage | outside | p50 ms | p99 ms | max ms |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    total = {"requests": 0, "in": 0, "out": 0}
    for kind, k in result["kinds"].items():
        errors = ", ".join(f"{n}× {status}" for status, n in sorted(k["errors"].items())) or "0"
        lines.append(f"| {kind} | {k['requests']:,} | {errors} | {k['errors_in_outage']} | {k['errors_outside']} | "
                     f"{k['p50_ms']:.1f} | {k['p99_ms']:.1f} | {k['max_ms']:.0f} |")
        total["requests"] += k["requests"]
        total["in"] += k["errors_in_outage"]
        total["out"] += k["errors_outside"]
    lines.append(f"| **all** | {total['requests']:,} | | {total['in']} | {total['out']} | | | |")
    led = result["ledger"]
    lines += [
        "",
        "| progress ledger | |",
        "|---|---:|",
        f"| play sessions | {led['sessions']:,} |",
        f"| played by the load generator | {led['played_s']:,.3f} s |",
        f"| credited by the server (watch_ms) | {led['credited_s']:,.3f} s |",
        f"| **lost progress**: sessions short / seconds missing | **{led['sessions_off']} / {led['missing_s']:.3f} s** |",
        f"| over-credited seconds | {led['extra_s']:.3f} s |",
        f"| seeks / pauses / sessions played to the end | {led['seeks']} / {led['pauses']} / {led['ended']} |",
        f"| reports retried after an error (seek, pause, last) | {led['retried']} |",
        f"| last report never answered / opens refused | {led['unanswered_final']} / {led['open_failed']} |",
        "",
        "| process | RSS at start MB | before the restart MB | at end MB | change |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, m in result["memory"].items():
        start, end = m.get("start", 0) / mb, m.get("end", 0) / mb
        middle = f"{m['before restart'] / mb:.0f}" if "before restart" in m else "–"
        counts = [int(m.get(f"count_{when}", 1)) for when in ("start", "end")]
        label = name if counts == [1, 1] else f"{name} ({counts[0]})" if counts[0] == counts[1] \
            else f"{name} ({counts[0]} → {counts[1]} processes)"
        lines.append(f"| {label} | {start:.0f} | {middle} | {end:.0f} | {end - start:+.0f} |")
    lines += ["", "| from s | requests | errors | answers over 2 s | slowest ms | progress missing (sessions opened then) |",
              "|---:|---:|---:|---:|---:|---:|"]
    for b in result["timeline"]:
        lines.append(f"| {b['from_s']:.0f} | {b['requests']:,} | {b['errors']} | {b['over_2s']} | {b['max_ms']:.0f} | "
                     f"{b['missing_s']:.3f} s |")
    lines.append("")
    for title, back in (("Backfill", result["backfill"]), ("Day re-run after the Redis restart", result["rerun"])):
        if "error" in back:
            lines.append(f"{title}: {back['error']}.  ")
            continue
        states = ", ".join(f"{n} {s}" for s, n in sorted(back["states"].items()))
        took = f", all finished {back['took_s']:.0f} s after the request" if back.get("took_s") is not None else ""
        lines.append(f"{title}: {back['runs']} day(s) requested at {back['requested_at_s']:.0f} s: {states}{took}.  ")
    lines.append("(rq workers: the two `paysystem worker` processes and the scheduler process RQ forks "
                  "for delayed retries. redis-server: the process killed at the outage at start, its empty "
                  "successor at end. mariadbd is shared with other work on this machine.)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="length of the load")
    parser.add_argument("--players", type=int, default=150, help="simulated players (one viewer account each)")
    parser.add_argument("--sellers", type=int, default=6, help="simulated sellers browsing their pages")
    parser.add_argument("--report-every", type=float, default=5.0, help="seconds of playback between progress reports")
    parser.add_argument("--ramp", type=float, default=30.0,
                        help="seconds over which players and sellers join (0: all at the first second)")
    parser.add_argument("--restart-at", type=float, default=0.5, help="when Redis is killed, as a fraction of the run")
    parser.add_argument("--redis-down", type=float, default=4.0, help="seconds Redis stays down")
    parser.add_argument("--backfill-at", type=float, default=0.2, help="when the admin starts the backfill (fraction)")
    parser.add_argument("--backfill-days", type=int, default=30, help="days the admin's backfill covers")
    parser.add_argument("--rerun-at", type=float, default=0.75,
                        help="when the admin runs yesterday again (fraction; after the restart)")
    parser.add_argument("--backfill-wait", type=float, default=180, help="seconds to wait for the backfill after the load")
    parser.add_argument("--grace", type=float, default=30, help="seconds players may retry their last report after the end")
    parser.add_argument("--days", type=int, default=30, help="days of synthetic history")
    parser.add_argument("--sessions", type=int, default=200_000, help="synthetic play sessions (ad views: half as many)")
    parser.add_argument("--videos", type=int, default=2_000, help="synthetic videos")
    parser.add_argument("--gen-sellers", type=int, default=200, help="synthetic sellers")
    parser.add_argument("--gen-viewers", type=int, default=20_000, help="synthetic viewers")
    parser.add_argument("--player-videos", type=int, default=300, help="videos the players choose from")
    parser.add_argument("--rq-workers", type=int, default=2, help="`paysystem worker` processes")
    parser.add_argument("--no-scheduler", action="store_true", help="do not start `paysystem scheduler`")
    parser.add_argument("--seed", type=int, default=13, help="random seed of the players' and sellers' choices")
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs (path printed)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.seconds < 20 or args.players < 1 or args.sellers < 1 or not 0 < args.restart_at < 1:
        parser.error("--seconds at least 20, --players and --sellers positive, --restart-at between 0 and 1")
    result = run(args)
    print()
    print(table(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2, default=str))
    led = result["ledger"]
    return 1 if led["sessions_off"] or led["unanswered_final"] else 0


if __name__ == "__main__":
    sys.exit(main())

"""Load test of the seller portal's read side: `.venv/bin/python -m bench.portal`.

1. Data: generates the 3,000,000-session data set of bench/pipeline.py (3M play sessions +
   3M ad views over 30 days, 10,000 videos, 1,000 sellers, 100,000 viewers;
   paysystem/synthetic_data.py) in a scratch MariaDB database and backfills it with the real
   batch (2 `paysystem worker` processes) — or, with `--database NAME`, reuses a database an
   earlier run kept with `--keep` (no generation, no backfill: repeated runs take seconds).
2. Server: gunicorn with the project's gunicorn.conf.py (gthread, `--workers` × `--threads`,
   default 2 × 2) on a free loopback port, production settings, a scratch Redis DB number
   reserved as bench/pipeline.py does.
3. Load: a separate process (bench/http_load.py's keep-alive client, whole bodies read)
   keeps `--connections` requests in flight — each connection sends its next request as soon
   as the previous answer is complete (closed loop) — for `--warmup` unmeasured seconds and
   then `--seconds` measured ones, per phase:

   - `ceiling`: `GET /api/v1/` — the cheapest route that goes through Flask (the whole
     middleware stack, the blueprint, JSON), no database and no Redis: what the same app,
     server and client manage when the view costs nothing;
   - `top5 cached`: `GET /api/v1/stats/top5?metric=views&period=day&date=<last day>` with
     the bearer token of the seller with the most videos;
   - `settlements cached`: `GET /api/v1/settlements?granularity=month&from=<1st>&to=<last>`
     for that seller, the month with the most backfilled days;
   - `settlements uncached`: the same request, but every one misses the figure cache. The
     requests go round every seller that has videos (most videos first), each with the
     seller's own token, so consecutive requests never share a cache key; after each full
     round the load generator waits for the round's answers and bumps the month's cache
     version in the database — exactly what the batch does when it recomputes a day
     (models/figures/cache.py `invalidate_scopes`) — so the next round's keys are new too. The
     `cache writes` column is the number of figure keys the phase added to Redis: every miss
     stores one, so it is a lower bound on the misses and shows the cache was defeated (the
     cached phases add none: each is primed first);
   - `dashboard`: `GET /dashboard` (the whole HTML page) with the session cookie of a real
     sign-in (`POST /auth/signin` with the form's CSRF token) of the same seller.

   For each phase: requests answered inside the measured window, req/s, p50 and p99 of the
   requests sent inside it (from send to the last byte of the body), errors (non-2xx answers
   and failed connections), the ratio to the ceiling, the issue's target and PASS/FAIL, and
   the reference Java implementation's req/s where the issue gives one.
4. Clean-up: gunicorn stopped, the scratch database dropped (unless `--keep`; a reused one
   is never dropped), the Redis DB emptied and released.

Small development runs (never two benchmarks at once):

    flock /tmp/paysystem-bench.lock .venv/bin/python -m bench.portal \\
        --sessions 100000 --ad-views 100000 --videos 500 --seconds 3

Services: BENCH_DATABASE_URL / BENCH_REDIS_URL as in bench/dataset.py.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import itertools
import json
import multiprocessing
import os
import re
import secrets
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from redis import Redis
from sqlalchemy import func, select

from bench.dataset import (
    add_size_options,
    backfill,
    batch_workers,
    bench_settings,
    redis_commands,
    scratch_database,
    scratch_redis,
    size_spec,
)
from bench.progress import free_port, percentile, start_gunicorn, stop
from jobs.engine import engine_for
from models import Role, User, Video
from models.accounts.service import change_password
from models.business_time import month_range, month_start
from models.db import make_engine, make_sessionmaker
from models.figures.cache import FigureCache, month_scopes
from models.figures.tables import VideoDailyStats
from paysystem.balancer import start_haproxy, stop_haproxy
from paysystem.synthetic_data import default_last_day, generate
from portal.api.tokens import issue_token
from settings import PROJECT_ROOT, Settings, generate_fernet_key

# The issue's targets: (at least req/s, p99 under ms or None).
TARGETS: dict[str, tuple[float, float | None]] = {
    "top5 cached": (1500, 20),
    "settlements cached": (1000, 30),
    "settlements uncached": (400, None),
    "dashboard": (300, 50),
}
# What the reference Java implementation reported (req/s), for comparison.
JAVA_REFERENCE = {"top5 cached": 48.4, "settlements cached": 15.1, "settlements uncached": 15.1}
PASSWORD = "bench-" + secrets.token_urlsafe(12)


# --- what the phases request --------------------------------------------------------------------

@dataclass
class Phase:
    name: str
    endpoint: str  # for the table
    requests: list[tuple[str, str]]  # (path, extra header lines) gone round in order
    bump: list[str] = field(default_factory=list)  # scopes bumped after each round (uncached)


@dataclass(frozen=True)
class Scene:
    """Who and what the phases ask for, found in the data set."""

    seller_id: int
    seller_videos: int
    top5_day: date
    month_first: date
    month_last: date
    sellers: list[int]  # every seller with videos, most videos first


def find_scene(url: str) -> Scene:
    engine = make_engine(url)
    with make_sessionmaker(engine)() as db:
        last_day = db.scalar(select(func.max(VideoDailyStats.day)))
        if last_day is None:
            raise SystemExit("the database has no computed statistics: was it backfilled?")
        days = list(db.scalars(select(VideoDailyStats.day).distinct()))
        by_seller = db.execute(select(Video.seller_id, func.count()).group_by(Video.seller_id)
                               .order_by(func.count().desc(), Video.seller_id)).all()
    engine.dispose()
    # The month with the most computed days (the later one on a tie): a full month's table.
    per_month: dict[date, int] = {}
    for day in days:
        per_month[month_start(day)] = per_month.get(month_start(day), 0) + 1
    month = max(per_month, key=lambda m: (per_month[m], m))
    return Scene(seller_id=by_seller[0][0], seller_videos=int(by_seller[0][1]), top5_day=last_day,
                 month_first=month, month_last=month_range(month)[1], sellers=[s for s, _ in by_seller])


def bearer(user_id: int, settings: Settings, session_version: int = 0) -> str:
    """A token as the API issues it; `session_version` is the account's current one (a token
    with an older one is refused: `sign_in` below changes the seller's password, which bumps it)."""
    token, _ = issue_token(User(id=user_id, role=Role.SELLER, session_version=session_version), settings)
    return f"Authorization: Bearer {token}\r\n"


def session_versions(url: str) -> dict[int, int]:
    engine = make_engine(url)
    with make_sessionmaker(engine)() as db:
        versions = {user_id: version or 0 for user_id, version in db.execute(select(User.id, User.session_version))}
    engine.dispose()
    return versions


def sign_in(port: int, url: str, seller_id: int) -> str:
    """The session cookie of a real sign-in of `seller_id` (given a known password first)."""
    engine = make_engine(url)
    with make_sessionmaker(engine)() as db:
        user = db.get(User, seller_id)
        assert user is not None
        change_password(db, user, PASSWORD)
        email = user.email
    engine.dispose()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/auth/signin")
    answer = conn.getresponse()
    html = answer.read().decode()
    cookie = _session_cookie(answer)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    if answer.status != 200 or match is None or cookie is None:
        raise SystemExit(f"sign-in page: {answer.status}, no CSRF token or session cookie")
    form = urllib.parse.urlencode({"csrf_token": match.group(1), "email": email, "password": PASSWORD, "next": ""})
    conn.request("POST", "/auth/signin", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    answer = conn.getresponse()
    answer.read()
    signed_in = _session_cookie(answer)
    conn.close()
    if answer.status != 302 or signed_in is None:
        raise SystemExit(f"sign-in of seller {seller_id} failed: {answer.status}")
    return f"Cookie: {signed_in}\r\n"


def _session_cookie(answer: http.client.HTTPResponse) -> str | None:
    for header in answer.headers.get_all("Set-Cookie") or []:
        pair = header.split(";", 1)[0]
        if pair.startswith("session="):
            return pair
    return None


def check(port: int, path: str, headers: str, expect: str) -> int:
    """One request outside the measurement: it must be a 200 whose body has `expect` (so a
    phase never measures fast refusals); it also primes the cache. Returns the body size."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    lines = dict(line.split(": ", 1) for line in headers.split("\r\n") if line)
    conn.request("GET", path, headers=lines)
    answer = conn.getresponse()
    body = answer.read().decode(errors="replace")
    conn.close()
    if answer.status != 200 or expect not in body:
        raise SystemExit(f"GET {path}: {answer.status}, expected {expect!r} in {body[:300]!r}")
    return len(body)


def phases(scene: Scene, settings: Settings, cookie: str, versions: dict[int, int]) -> list[Phase]:
    token = bearer(scene.seller_id, settings, versions.get(scene.seller_id, 0))
    top5 = f"/api/v1/stats/top5?metric=views&period=day&date={scene.top5_day.isoformat()}"
    month = (f"/api/v1/settlements?granularity=month&from={scene.month_first.isoformat()}"
             f"&to={scene.month_last.isoformat()}")
    return [
        Phase("ceiling", "GET /api/v1/", [("/api/v1/", "")]),
        Phase("top5 cached", "GET /api/v1/stats/top5 (day, views)", [(top5, token)]),
        Phase("settlements cached", "GET /api/v1/settlements (month)", [(month, token)]),
        Phase("settlements uncached", "GET /api/v1/settlements (month), every request a cache miss",
              [(month, bearer(s, settings, versions.get(s, 0))) for s in scene.sellers],
              bump=month_scopes(scene.month_first, scene.month_last)),
        Phase("dashboard", "GET /dashboard (HTML)", [("/dashboard", cookie)]),
    ]


# --- load generator (runs in its own process) ---------------------------------------------------

async def _drive(port: int, requests: list[tuple[str, str]], connections: int, seconds: float, warmup: float,
                 database_url: str | None, bump: list[str]) -> dict:
    from bench.http_load import ConnectionPool, HttpError

    loop = asyncio.get_running_loop()
    http = ConnectionPool("127.0.0.1", port, timeout=30)
    prepared = [(path, headers.encode()) for path, headers in requests]
    rounds = len(prepared)
    cache = FigureCache(None, engine=engine_for(database_url)) if bump and database_url else None
    records: list[tuple[float, float, int | str]] = []  # (sent, answered, status or failure)
    counter = itertools.count()
    done_in_round: dict[int, int] = {}
    round_over: dict[int, asyncio.Event] = {}
    state = {"bumped": -1, "bumps": 0}  # round 0 starts with a bump too: the check primed a key
    cpu_start = time.process_time()
    start = loop.time()
    measure_from, end = start + warmup, start + warmup + seconds

    def over(number: int) -> asyncio.Event:
        return round_over.setdefault(number, asyncio.Event())

    over(-1).set()

    async def next_round(number: int) -> None:
        """Round `number` starts once every answer of the one before is in and the cache
        version has been bumped, so none of its requests can find a key stored before."""
        await over(number - 1).wait()
        if state["bumped"] < number:
            assert cache is not None
            cache.invalidate_scopes(bump)  # synchronous: no other request starts meanwhile
            state["bumped"], state["bumps"] = number, state["bumps"] + 1

    async def client() -> None:
        while loop.time() < end:
            n = next(counter)
            number = n // rounds
            if cache is not None and number > state["bumped"]:
                await next_round(number)
            path, headers = prepared[n % rounds]
            sent = loop.time()
            outcome: int | str
            try:
                outcome = await http.get(path, headers)
            except (HttpError, OSError, TimeoutError) as exc:
                outcome = type(exc).__name__
            records.append((sent, loop.time(), outcome))
            if cache is not None:
                done_in_round[number] = done_in_round.get(number, 0) + 1
                if done_in_round[number] == rounds:
                    over(number).set()

    await asyncio.gather(*(client() for _ in range(connections)))
    http.close()
    if cache is not None and cache.engine is not None:
        cache.engine.dispose()

    def ok(outcome: int | str) -> bool:
        return isinstance(outcome, int) and 200 <= outcome < 300

    answered = sum(1 for _, got, outcome in records if ok(outcome) and measure_from <= got < end)
    latencies = [got - sent for sent, got, outcome in records if ok(outcome) and measure_from <= sent < end]
    errors: dict[str, int] = {}
    for sent, _, outcome in records:
        if not ok(outcome) and measure_from <= sent < end:
            errors[str(outcome)] = errors.get(str(outcome), 0) + 1
    return {"answered": answered, "latencies": latencies, "errors": errors, "sent": len(records),
            "bytes": http.body_bytes, "bumps": state["bumps"], "cpu_seconds": time.process_time() - cpu_start}


def _load_process(args: tuple, out) -> None:  # type: ignore[type-arg,no-untyped-def]
    out.send(asyncio.run(_drive(*args)))
    out.close()


def run_phase(port: int, phase: Phase, connections: int, seconds: float, warmup: float, database_url: str) -> dict:
    receiver, sender = multiprocessing.Pipe(duplex=False)
    args = (port, phase.requests, connections, seconds, warmup, database_url, phase.bump)
    proc = multiprocessing.get_context("spawn").Process(target=_load_process, args=(args, sender))
    proc.start()
    result = receiver.recv()
    proc.join()
    return result


def figure_keys(redis_url: str) -> int:
    client = Redis.from_url(redis_url)
    return sum(1 for _ in client.scan_iter(match="paysystem:*figures:*", count=1000))  # any database's


# --- the table ----------------------------------------------------------------------------------

def verdict(row: dict) -> str:
    target = TARGETS.get(row["phase"])
    if target is None:
        return ""
    rate, p99 = target
    good = row["req_per_s"] >= rate and row["errors"] == 0 and (p99 is None or row["p99_ms"] < p99)
    return "PASS" if good else "FAIL"


def target_text(name: str) -> str:
    target = TARGETS.get(name)
    if target is None:
        return "—"
    rate, p99 = target
    return f"≥ {rate:,.0f} req/s" + (f", p99 < {p99:g} ms" if p99 is not None else "")


def table(rows: list[dict]) -> str:
    if any(row.get("topology") for row in rows):
        return topology_table(rows)
    lines = ["| phase | request | requests | req/s | p50 ms | p99 ms | errors | × ceiling | cache writes "
             "| Redis cmds/req | Redis cmds/s | target | result | Java ref. req/s |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|"]
    for row in rows:
        java = JAVA_REFERENCE.get(row["phase"])
        lines.append(
            f"| {row['phase']} | {row['endpoint']} | {row['requests']:,} | {row['req_per_s']:,.0f} "
            f"| {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['errors']} | {row['ratio']:.2f} "
            f"| {row['cache_writes']:,} | {row['redis_per_request']:.2f} | {row['redis_per_s']:,.0f} "
            f"| {target_text(row['phase'])} | {row['result'] or '—'} "
            f"| {'' if java is None else f'{java:g}'} |")
    return "\n".join(lines)


def topology_table(rows: list[dict]) -> str:
    """`--nodes`: each phase's figures per topology side by side, with the gain over one node."""
    single = {row["phase"]: row["req_per_s"] for row in rows if row["topology"] == "1 node"}
    lines = ["| topology | phase | requests | req/s | × 1 node | p50 ms | p99 ms | errors | × ceiling | target | result |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for row in rows:
        base = single.get(row["phase"])
        gain = f"{row['req_per_s'] / base:.2f}" if base else "—"
        lines.append(
            f"| {row['topology']} | {row['phase']} | {row['requests']:,} | {row['req_per_s']:,.0f} | {gain} "
            f"| {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['errors']} | {row['ratio']:.2f} "
            f"| {target_text(row['phase'])} | {row['result'] or '—'} |")
    return "\n".join(lines)


# --- main ---------------------------------------------------------------------------------------

EXPECT = {"ceiling": '"version"', "top5 cached": '"items"', "settlements cached": '"rows"',
          "settlements uncached": '"rows"', "dashboard": "<html"}


def measure(port: int, topology: str, all_phases: list[Phase], args: argparse.Namespace, url: str,
            redis_url: str) -> list[dict]:
    """Every chosen phase against the portal answering on `port` (a node or the balancer)."""
    rows = []
    ceiling = 0.0
    for phase in all_phases:
        if args.phase and phase.name != "ceiling" and phase.name not in args.phase:
            continue
        size = check(port, *phase.requests[0], EXPECT[phase.name])
        print(f"* {topology + ': ' if topology else ''}{phase.name}: {args.connections} connections, "
              f"{args.warmup:g} s warm-up + {args.seconds:g} s ({size:,} bytes per answer)", flush=True)
        keys_before = figure_keys(redis_url)
        commands_before = redis_commands(redis_url)
        result = run_phase(port, phase, args.connections, args.seconds, args.warmup, url)
        lat = sorted(result["latencies"])
        rate = result["answered"] / args.seconds
        if phase.name == "ceiling":
            ceiling = rate
        row = {"topology": topology, "phase": phase.name, "endpoint": phase.endpoint, "requests": result["answered"],
               "req_per_s": rate, "p50_ms": percentile(lat, 0.50) * 1000,
               "p99_ms": percentile(lat, 0.99) * 1000, "errors": sum(result["errors"].values()),
               "error_kinds": result["errors"], "ratio": rate / ceiling if ceiling else float("nan"),
               "cache_writes": figure_keys(redis_url) - keys_before, "sent": result["sent"],
               "version_bumps": result["bumps"],
               # per request over the whole phase, warm-up included, like `sent`
               "redis_per_request": (redis_commands(redis_url) - commands_before) / max(1, result["sent"]),
               "load_cpu_share": result["cpu_seconds"] / (args.seconds + args.warmup)}
        row["redis_per_s"] = row["redis_per_request"] * rate
        row["result"] = verdict(row)
        rows.append(row)
    return rows


def build(url: str, redis_url: str, args: argparse.Namespace) -> None:
    """Generate the data set and backfill its days with real workers (as bench/pipeline.py)."""
    settings = bench_settings(url, redis_url)
    engine = engine_for(url)
    last = default_last_day(settings.tz)
    spec = size_spec(args, last)
    print(f"* generating {args.sessions:,} sessions + {args.ad_views:,} ad views over {args.days} days "
          f"({args.videos:,} videos, {args.sellers:,} sellers)", flush=True)
    t0 = time.perf_counter()
    generate(engine, spec, settings.tz)
    print(f"  {time.perf_counter() - t0:.1f} s", flush=True)
    print(f"* backfilling {args.days} days with {args.batch_workers} workers", flush=True)
    t0 = time.perf_counter()
    with batch_workers(settings, args.batch_workers):
        backfill(settings, engine, spec.first_day, last)
    print(f"  {time.perf_counter() - t0:.1f} s", flush=True)
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_size_options(parser)
    parser.add_argument("--database", metavar="NAME", help="reuse a database kept by an earlier run (no generation)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database for later runs")
    parser.add_argument("--batch-workers", type=int, default=2, help="worker processes of the backfill")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("PORTAL_WORKERS", "2")),
                        help="gunicorn worker processes (PORTAL_WORKERS)")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("PORTAL_THREADS", "2")),
                        help="threads per gunicorn worker (PORTAL_THREADS)")
    parser.add_argument("--connections", type=int, default=8, help="requests kept in flight (closed loop)")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds before each phase")
    parser.add_argument("--nodes", type=int, default=1,
                        help="also measure the same node behind HAProxy, then this many nodes behind it "
                             "(each --workers × --threads; paysystem/balancer.py), in the same run")
    parser.add_argument("--phase", action="append", help="run only these phases (repeatable; ceiling always runs)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.connections < 1 or args.seconds <= 0 or args.warmup < 0 or args.nodes < 1:
        parser.error("--connections, --seconds and --nodes must be positive, --warmup not negative")

    rows: list[dict] = []
    with scratch_redis() as redis_url, scratch_database("portal", keep=args.keep, reuse=args.database) as url:
        if args.database is None:
            build(url, redis_url, args)
        else:
            print(f"* reusing database {args.database}", flush=True)
        Redis.from_url(redis_url).flushdb()  # the batch's queue and cache: the portal starts cold
        scene = find_scene(url)
        settings = Settings(environment="production", database_url=url, redis_url=redis_url,
                            secret_key=secrets.token_urlsafe(48), payout_details_keys=(generate_fernet_key(),)).validate()
        port = free_port()
        ports = [port]
        print(f"* gunicorn {args.workers} × {args.threads} on port {port} (gunicorn.conf.py); seller "
              f"{scene.seller_id} ({scene.seller_videos} videos), top-5 of {scene.top5_day}, month "
              f"{scene.month_first:%Y-%m}, {len(scene.sellers):,} sellers for the uncached phase", flush=True)
        gunicorn = start_gunicorn(settings, port, args.workers, args.threads, "gthread",
                                  PROJECT_ROOT / "gunicorn.conf.py")
        servers = [gunicorn]
        try:
            cookie = sign_in(port, url, scene.seller_id)
            all_phases = phases(scene, settings, cookie, session_versions(url))
            rows += measure(port, "1 node" if args.nodes > 1 else "", all_phases, args, url, redis_url)
            if args.nodes > 1:
                # The same node behind HAProxy (the balancer's own cost), then `--nodes` nodes.
                balancer_port = free_port()
                for count in (1, args.nodes):
                    while len(servers) < count:
                        extra = free_port()
                        print(f"* another gunicorn {args.workers} × {args.threads} on port {extra}", flush=True)
                        servers.append(start_gunicorn(settings, extra, args.workers, args.threads, "gthread",
                                                      PROJECT_ROOT / "gunicorn.conf.py"))
                        ports.append(extra)
                    print(f"* haproxy on port {balancer_port} -> {count} node(s)", flush=True)
                    haproxy = start_haproxy(f"127.0.0.1:{balancer_port}", [f"127.0.0.1:{p}" for p in ports[:count]])
                    try:
                        label = f"HAProxy → {count} node{'s' if count > 1 else ''}"
                        rows += measure(balancer_port, label, all_phases, args, url, redis_url)
                    finally:
                        stop_haproxy(haproxy)
        finally:
            for server in servers:
                stop(server)

    print()
    print(f"portal read benchmark · gunicorn {args.workers} workers × {args.threads} threads (gthread)"
          f"{f' per node, 1 node and {args.nodes} behind HAProxy' if args.nodes > 1 else ''} · "
          f"closed loop, {args.connections} connections · {args.warmup:g} s warm-up + {args.seconds:g} s per "
          f"phase · MariaDB + Redis · {os.cpu_count()} cores shared with the load generator")
    print()
    print(table(rows))
    print()
    print("(requests and req/s: 2xx answers inside the measured window; p50/p99: requests sent inside it, "
          "send to last body byte; cache writes: figure keys the phase added to Redis, at least one per "
          "cache miss; Redis cmds: commands the Redis server processed during the phase per request sent, "
          "and at the phase's req/s; Java ref.: the reference implementation's reported req/s)")
    for row in rows:
        if row["error_kinds"]:
            print(f"errors in {row['topology'] + ' ' if row['topology'] else ''}{row['phase']}: {row['error_kinds']}")
        if row["version_bumps"]:
            print(f"{row['phase']}: {row['sent']:,} requests sent, cache version bumped {row['version_bumps']} times")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"workers": args.workers, "threads": args.threads, "nodes": args.nodes,
                                         "connections": args.connections, "seconds": args.seconds,
                                         "warmup": args.warmup, "rows": rows}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of the batch pipeline on MariaDB: `.venv/bin/python -m bench.pipeline`.

1. generate 3,000,000 play sessions + 3,000,000 ad views over 30 days for 10,000 videos
   (1,000 sellers, 100,000 viewers) into a scratch database;
2. once InnoDB has written back the pages the load dirtied (`settle`), backfill the 30 days
   with 2 real RQ worker processes (`paysystem worker`);
3. re-run one nightly-size day (100,000 sessions + 100,000 ad views) on the same workers;
4. the naive way on a 300,000-event subset (its own scratch database): every event read,
   its figures updated and committed one row at a time; its output is checked against the
   pipeline's on the same subset, and its time extrapolated to the full 6,000,000 events.

With `--nightly-sizes 100000,1000000,3000000` it instead measures how one nightly day grows with
its events: for each size, a scratch database holding one business day of that many play
sessions and as many ad views (over `--videos` videos), and the nightly run of that day on
`--workers` workers.

With `--retention-ab 6` it instead measures what the audience retention step adds to the backfill:
one data set, backfilled in 6 rounds both with and without the step (`retention_ab`).

Prints a table: time per stage, total, rows/s, peak worker memory (VmHWM), and the
baseline ratio. Servers: BENCH_DATABASE_URL (a MariaDB server URL without database,
default mysql+pymysql://root@127.0.0.1:3306) and BENCH_REDIS_URL (default
redis://127.0.0.1:6379); both scratch database and Redis DB are removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import threading
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from redis import Redis
from sqlalchemy import Engine, text

from bench.dataset import (
    SECRET,
    add_size_options,
    backfill,
    batch_workers,
    bench_settings,
    scratch_database,
    scratch_redis,
    size_spec,
)
from bench.proc_cpu import server_pid, stat_cpu_s
from jobs.engine import engine_for
from jobs.inline import run_days_inline
from jobs.pipeline import SKIP_RETENTION_ENV
from models.batch.tables import RunTrigger
from models.business_time import days_between
from paysystem.synthetic_data import GenerateSpec, default_last_day, generate
from settings import Settings


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the peak resident set of a process over its whole life."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    """Work horses and RQ's scheduler process still alive under a worker."""
    import psutil

    return [c.pid for c in psutil.Process(pid).children(recursive=True)]


def own_cpu_s() -> float:
    """CPU seconds of this process (all its threads): the bench's own share of the 2 cores."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu_s(pid: int) -> float:
    """CPU seconds a process (all its threads) has used."""
    return stat_cpu_s(f"/proc/{pid}/stat")


def local_server_pid(engine: Engine) -> int | None:
    with engine.connect() as conn:
        return server_pid(conn)


def settle(engine: Engine, limit_s: float = 300.0) -> float:
    """Wait until InnoDB has written back the pages the load left dirty; returns the seconds waited.

    Right after the load about half of the buffer pool is dirty, and the server's page cleaners
    write it out while whatever runs next runs: backfills without the retention step started at
    once took 12.0–15.1 s (four runs, 2026-12-07). The backfill is timed from a server that has
    nothing of the load left to write (which alone did not make the runs agree: `retention_ab`)."""
    t0, seen = time.perf_counter(), []
    with engine.connect() as conn:
        while time.perf_counter() - t0 < limit_s:
            seen.append(int(conn.execute(text("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'")).one()[1]))
            # Written back, or no longer being written (the server keeps a few pages dirty when idle).
            if seen[-1] == 0 or len(seen) > 6 and min(seen[-6:]) == max(seen[-6:]):
                break
            time.sleep(0.5)
    return time.perf_counter() - t0


class RssSampler(threading.Thread):
    """Largest resident set seen among the workers and their children (fork mode's horses
    live too briefly for VmHWM to be read after them)."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.pids, self.peak, self.stop = pids, 0.0, False

    def run(self) -> None:
        import psutil

        while not self.stop:
            for pid in self.pids:
                for child in [pid, *children(pid)]:
                    try:
                        self.peak = max(self.peak, psutil.Process(child).memory_info().rss / 2**20)
                    except psutil.Error:
                        pass
            time.sleep(0.05)


def naive_day(engine: Engine, day: date) -> None:
    """The row-by-row way: one event at a time, a read and a write per event, a commit each."""
    with engine.connect() as conn:
        sessions = conn.execute(text(
            "SELECT s.id, s.video_id, v.seller_id, s.counted, s.reject_reason, s.watch_ms FROM play_sessions s "
            "JOIN videos v ON v.id = s.video_id WHERE s.day = :d ORDER BY s.id"), {"d": day}).all()
        conn.execute(text("DELETE FROM video_daily_settlements WHERE day = :d"), {"d": day})
        conn.execute(text("DELETE FROM video_daily_stats WHERE day = :d"), {"d": day})
        conn.commit()
        watch_ms: dict[int, int] = {}
        for _sid, vid, seller, counted, reason, watch in sessions:
            exists = conn.execute(text("SELECT 1 FROM video_daily_stats WHERE day = :d AND video_id = :v"),
                                  {"d": day, "v": vid}).first()
            if not exists:
                prev = conn.execute(text(
                    "SELECT cum_views, cum_watch_seconds, cum_ad_views FROM video_daily_stats "
                    "WHERE video_id = :v AND day < :d ORDER BY day DESC LIMIT 1"), {"v": vid, "d": day}).first()
                cv, cw, ca = prev or (0, 0, 0)
                conn.execute(text(
                    "INSERT INTO video_daily_stats (day, video_id, seller_id, views, watch_seconds, ad_views, "
                    "rejected_own_video, rejected_repeat, cum_views, cum_watch_seconds, cum_ad_views) "
                    "VALUES (:d, :v, :s, 0, 0, 0, 0, 0, :cv, :cw, :ca)"),
                    {"d": day, "v": vid, "s": seller, "cv": cv, "cw": cw, "ca": ca})
            if counted:
                old = watch_ms.get(vid, 0)
                watch_ms[vid] = old + watch
                extra = watch_ms[vid] // 1000 - old // 1000
                conn.execute(text(
                    "UPDATE video_daily_stats SET views = views + 1, cum_views = cum_views + 1, "
                    "watch_seconds = watch_seconds + :w, cum_watch_seconds = cum_watch_seconds + :w "
                    "WHERE day = :d AND video_id = :v"), {"w": extra, "d": day, "v": vid})
            else:
                column = "rejected_own_video" if reason == "own_video" else "rejected_repeat"
                conn.execute(text(f"UPDATE video_daily_stats SET {column} = {column} + 1 "
                                  "WHERE day = :d AND video_id = :v"), {"d": day, "v": vid})
            conn.commit()
        views = conn.execute(text("SELECT id, session_id, video_id FROM ad_views WHERE day = :d ORDER BY id"),
                             {"d": day}).all()
        for _, session_id, vid in views:
            counted = conn.execute(text("SELECT counted FROM play_sessions WHERE id = :i"), {"i": session_id}).scalar()
            if counted:
                conn.execute(text("UPDATE video_daily_stats SET ad_views = ad_views + 1, cum_ad_views = cum_ad_views + 1 "
                                  "WHERE day = :d AND video_id = :v"), {"d": day, "v": vid})
            conn.commit()
        tiers = conn.execute(text("SELECT from_unit, to_unit, view_rate_e4, ad_rate_e4 FROM price_tiers "
                                  "WHERE plan_id = 1 ORDER BY position")).all()
        rows = conn.execute(text("SELECT video_id, seller_id, views, ad_views FROM video_daily_stats WHERE day = :d"),
                            {"d": day}).all()
        for vid, seller, views_, ads in rows:
            va = aa = 0
            for lo, hi, vr, ar in tiers:
                va += max(0, min(views_, hi or views_) - lo + 1) * vr // 10_000
                aa += max(0, min(ads, hi or ads) - lo + 1) * ar // 10_000
            conn.execute(text(
                "INSERT INTO video_daily_settlements (day, video_id, seller_id, plan_id, basis, views, ad_views, "
                "views_before, ad_views_before, video_amount, ad_amount, total_amount) "
                "VALUES (:d, :v, :s, 1, 'daily', :vw, :ad, 0, 0, :va, :aa, :t)"),
                {"d": day, "v": vid, "s": seller, "vw": views_, "ad": ads, "va": va, "aa": aa, "t": va + aa})
            conn.commit()


def snapshot(engine: Engine) -> list:
    with engine.connect() as conn:
        return [conn.execute(text(f"SELECT * FROM {t} ORDER BY day, video_id")).all()
                for t in ("video_daily_stats", "video_daily_settlements")]


def retention_ab(args: argparse.Namespace) -> None:
    """What the retention step adds to the backfill, as alternating pairs on one data set.

    Whole runs of the bench without the step took 12.0–17.8 s in one morning on the shared 2-core
    machine (seven runs, 2026-12-07), more than the step's share, and the server's CPU for the
    same backfill with the step 20.9 s in one run and 27.8 s in another. So the data is
    generated once, and each round backfills it twice, with and without the step (the order
    alternating), each from the same start: the backfill's output tables emptied, InnoDB
    settled, fresh workers. What drifts with the machine drifts for both halves of a round
    alike; the median of the rounds' ratios is the answer."""
    last = default_last_day(Settings().tz)
    first = last - timedelta(days=args.days - 1)
    rounds: list[dict[bool, tuple[float, float | None]]] = []
    with scratch_redis() as redis_url, scratch_database("ab") as url:
        settings = bench_settings(url, redis_url, args.partitions)
        engine = engine_for(url)
        print(f"generating {args.sessions:,} sessions + {args.ad_views:,} ad views over {args.days} days ...", flush=True)
        generate(engine, size_spec(args, last), settings.tz)
        outputs = empty_tables(engine)
        server = local_server_pid(engine)
        try:
            for number in range(args.retention_ab):
                times: dict[bool, tuple[float, float | None]] = {}
                for with_step in (True, False) if number % 2 == 0 else (False, True):
                    empty(engine, outputs)
                    Redis.from_url(redis_url).flushdb()  # run ids start again at 1: so do the job ids
                    settle(engine)
                    if with_step:
                        os.environ.pop(SKIP_RETENTION_ENV, None)
                    else:
                        os.environ[SKIP_RETENTION_ENV] = "1"  # read by every partition of the workers below
                    with batch_workers(settings, args.workers, args.fork):
                        cpu0 = process_cpu_s(server) if server else 0.0
                        t0 = time.perf_counter()
                        backfill(settings, engine, first, last)
                        wall = time.perf_counter() - t0
                        cpu = process_cpu_s(server) - cpu0 if server else None
                    times[with_step] = (wall, cpu)
                    print(f"round {number + 1}, {'with' if with_step else 'without'} the step: {wall:.2f} s"
                          + (f", server CPU {cpu:.2f} s" if cpu is not None else ""), flush=True)
                rounds.append(times)
        finally:
            os.environ.pop(SKIP_RETENTION_ENV, None)
            engine.dispose()

    def added(a: float, b: float) -> str:
        return f"{100 * (a / b - 1):+.1f} %"

    print()
    print(f"the retention step in the {args.days}-day backfill ({args.sessions:,} sessions + {args.ad_views:,} ad views, "
          f"{args.workers} workers, {args.partitions} partitions), {len(rounds)} rounds")
    print(f"{'round':>5} {'without s':>10} {'with s':>10} {'added':>9} {'server CPU without':>19} "
          f"{'with':>8} {'added':>9}")
    print("-" * 76)
    wall_ratios, cpu_ratios = [], []
    for number, times in enumerate(rounds, 1):
        (w_wall, w_cpu), (o_wall, o_cpu) = times[True], times[False]
        wall_ratios.append(w_wall / o_wall)
        line = f"{number:>5} {o_wall:>10.2f} {w_wall:>10.2f} {added(w_wall, o_wall):>9}"
        if w_cpu is not None and o_cpu is not None:
            cpu_ratios.append(w_cpu / o_cpu)
            line += f" {o_cpu:>19.2f} {w_cpu:>8.2f} {added(w_cpu, o_cpu):>9}"
        print(line)
    print("-" * 76)
    print(f"{'median of the rounds, wall time':<46} {100 * (statistics.median(wall_ratios) - 1):+.1f} %")
    if cpu_ratios:
        print(f"{'median of the rounds, server CPU':<46} {100 * (statistics.median(cpu_ratios) - 1):+.1f} %")


def empty_tables(engine: Engine) -> list[str]:
    """The tables the generated data left empty: what a backfill fills (and `empty` empties)."""
    with engine.connect() as conn:
        names = conn.execute(text("SELECT table_name FROM information_schema.tables "
                                  "WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'")).scalars().all()
        return [name for name in names if conn.execute(text(f"SELECT 1 FROM `{name}` LIMIT 1")).first() is None]


def empty(engine: Engine, tables: list[str]) -> None:
    with engine.connect() as conn:
        conn.execute(text("SET SESSION foreign_key_checks = 0"))
        for name in tables:
            conn.execute(text(f"TRUNCATE TABLE `{name}`"))
        conn.execute(text("SET SESSION foreign_key_checks = 1"))


def nightly_sizes(args: argparse.Namespace) -> None:
    """One nightly day at each size: the time of the run from enqueue to succeeded."""
    last = default_last_day(Settings().tz)
    results: list[tuple[int, int, float]] = []
    for sessions in args.nightly_sizes:
        with scratch_redis() as redis_url, scratch_database("nightly") as url:
            settings = bench_settings(url, redis_url, args.partitions)
            engine = engine_for(url)
            print(f"generating one day of {sessions:,} sessions + {sessions:,} ad views ...", flush=True)
            generate(engine, GenerateSpec(args.videos, args.sellers, args.viewers, 1, sessions, sessions, 1, last),
                     settings.tz)
            settle(engine)
            with batch_workers(settings, args.workers, args.fork):
                t0 = time.perf_counter()
                backfill(settings, engine, last, last, RunTrigger.NIGHTLY)
                seconds = time.perf_counter() - t0
            results.append((sessions, count_day(engine, last), seconds))
            engine.dispose()
    print()
    print(f"one nightly day, {args.workers} workers, {args.partitions} partitions, {args.videos:,} videos")
    print(f"{'sessions':>12} {'events':>12} {'seconds':>9} {'events/s':>12} {'s per 1M events':>16}")
    print("-" * 65)
    for sessions, events, seconds in results:
        print(f"{sessions:>12,} {events:>12,} {seconds:>9.2f} {events / seconds:>12,.0f} {seconds / events * 1e6:>16.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_size_options(parser)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--partitions", type=int, default=Settings().batch_partitions, help="partitions per day")
    parser.add_argument("--naive-events", type=int, default=300_000)
    parser.add_argument("--fork", action="store_true", help="workers fork a work horse per job (rq.Worker)")
    parser.add_argument("--without-retention", action="store_true",
                        help="skip the audience retention step (jobs/pipeline.py), to time what it adds")
    parser.add_argument("--nightly-sizes", type=lambda v: [int(x) for x in v.split(",")], default=None,
                        help="instead: time one nightly day at each of these session counts, e.g. 100000,1000000")
    parser.add_argument("--retention-ab", type=int, default=0, metavar="ROUNDS",
                        help="instead: ROUNDS rounds of the backfill with and without the retention step on one "
                             "data set, printing what the step adds")
    parser.add_argument("--keep", action="store_true",
                        help="keep the backfilled database (to time single statements on it, e.g. with bench.retention_step)")
    args = parser.parse_args()
    if args.without_retention:  # read by every partition, in the workers started below too
        os.environ[SKIP_RETENTION_ENV] = "1"
    if args.nightly_sizes:
        nightly_sizes(args)
        return
    if args.retention_ab:
        retention_ab(args)
        return
    stages: list[tuple[str, float, int]] = []
    total_events = args.sessions + args.ad_views
    last = default_last_day(Settings().tz)
    first = last - timedelta(days=args.days - 1)

    with scratch_redis() as redis_url, scratch_database("main", keep=args.keep) as url:
        settings = bench_settings(url, redis_url, args.partitions)
        engine = engine_for(url)
        spec = size_spec(args, last)
        print(f"generating {args.sessions:,} sessions + {args.ad_views:,} ad views over {args.days} days ...", flush=True)
        t0 = time.perf_counter()
        generated = generate(engine, spec, settings.tz)
        stages.append(("generate (LOAD DATA, key order)", time.perf_counter() - t0,
                       generated.sessions + generated.ad_views + generated.users + generated.videos))
        settled_s = settle(engine)

        with batch_workers(settings, args.workers, args.fork) as workers:
            # Only fork mode's horses need sampling (they live too briefly for VmHWM to be read
            # after them): the sampler's process walks at 20 Hz took 15 % of a core from the
            # workers and the server it times.
            sampler = RssSampler([w.pid for w in workers]) if args.fork else None
            if sampler:
                sampler.start()
            print(f"backfilling {args.days} days with {args.workers} workers ...", flush=True)
            # CPU of the server and the workers as well as the wall time: on the shared 2-core
            # machine the wall time of the same code swung by more than the retention step's
            # share of it; the CPU the backfill takes does not depend on who else runs.
            server = local_server_pid(engine)
            server0 = process_cpu_s(server) if server else 0.0
            workers0 = sum(process_cpu_s(w.pid) for w in workers)
            c0, t0 = own_cpu_s(), time.perf_counter()
            run_ids = backfill(settings, engine, first, last)
            backfill_s, harness_cpu_s = time.perf_counter() - t0, own_cpu_s() - c0
            server_cpu_s = process_cpu_s(server) - server0 if server else None
            worker_cpu_s = sum(process_cpu_s(w.pid) for w in workers) - workers0
            stages.append((f"backfill {args.days} days ({args.workers} workers)", backfill_s, total_events))
            t0 = time.perf_counter()
            backfill(settings, engine, last, last, RunTrigger.NIGHTLY)
            day_events = count_day(engine, last)
            stages.append(("one nightly day (re-run of the last day)", time.perf_counter() - t0, day_events))
            if sampler:
                sampler.stop = True
                sampler.join()
            peak = max(sampler.peak if sampler else 0.0, *(peak_rss_mb(w.pid) for w in workers))
        with engine.connect() as conn:
            per_stage = conn.execute(text(
                "SELECT MIN(p.started_at), MAX(p.finished_at), MIN(r.finalize_started_at), MAX(r.finished_at), "
                "SUM(p.rows_written) FROM batch_partitions p JOIN batch_runs r ON r.id = p.run_id "
                f"WHERE r.id IN ({','.join(map(str, run_ids))})")).one()
        engine.dispose()

    naive_s = None
    if args.naive_events:
        with scratch_database("naive") as url:
            settings_n = replace(Settings(), environment="test", database_url=url, secret_key=SECRET)
            engine = engine_for(url)
            half = args.naive_events // 2
            generate(engine, GenerateSpec(args.videos, args.sellers, args.viewers, args.days, half, args.naive_events - half, 2,
                                          last), settings_n.tz)
            print(f"naive row-by-row processing of {args.naive_events:,} events ...", flush=True)
            t0 = time.perf_counter()
            for day in days_between(first, last):
                naive_day(engine, day)
            naive_s = time.perf_counter() - t0
            naive_rows = snapshot(engine)
            t0 = time.perf_counter()
            run_days_inline(settings_n, days_between(first, last), RunTrigger.BACKFILL, use_cache=False)
            subset_fast = time.perf_counter() - t0
            fast_rows = snapshot(engine)
            if [[tuple(r) for r in t] for t in naive_rows] != [[tuple(r) for r in t] for t in fast_rows]:
                raise SystemExit("the naive baseline and the pipeline disagree on the subset")
            engine.dispose()

    print()
    print(f"{'stage':<46} {'seconds':>9} {'rows':>12} {'rows/s':>12}")
    print("-" * 82)
    for name, seconds, rows in stages:
        print(f"{name:<46} {seconds:>9.2f} {rows:>12,} {rows / seconds:>12,.0f}")
    partition_s = (per_stage[1] - per_stage[0]).total_seconds()
    print(f"{'  partitions (first start to last end)':<46} {partition_s:>9.2f} {int(per_stage[4]):>12,}")
    final_s = (per_stage[3] - per_stage[2]).total_seconds()
    print(f"{'  final steps (first to last, overlapping)':<46} {final_s:>9.2f}")
    total = sum(s for _, s, _ in stages)
    print(f"{'total':<46} {total:>9.2f}")
    print(f"{'peak worker memory (VmHWM, MB)':<46} {peak:>9.1f}")
    print(f"{'waited for InnoDB to write back the load (s)':<46} {settled_s:>9.2f}")
    print(f"{'this process, CPU s during the backfill':<46} {harness_cpu_s:>9.2f}")
    print(f"{'workers, CPU s during the backfill':<46} {worker_cpu_s:>9.2f}")
    if server_cpu_s is not None:
        print(f"{'MariaDB server, CPU s during the backfill':<46} {server_cpu_s:>9.2f}")
        print(f"{'  server + workers':<46} {server_cpu_s + worker_cpu_s:>9.2f}")
    print(f"{'worker class':<46} {'Worker (fork per job)' if args.fork else 'SimpleWorker':>9}")
    print(f"{'partitions per day':<46} {args.partitions:>9}")
    print(f"{'audience retention step':<46} {'skipped' if args.without_retention else 'run':>9}")
    if naive_s is not None:
        extrapolated = naive_s * total_events / args.naive_events
        backfill_s = stages[1][1]
        print(f"{'naive row-by-row, ' + format(args.naive_events, ',') + ' events':<46} {naive_s:>9.2f} "
              f"{args.naive_events:>12,} {args.naive_events / naive_s:>12,.0f}")
        print(f"{'  (pipeline on the same subset, inline)':<46} {subset_fast:>9.2f}")
        print(f"{'naive extrapolated to ' + format(total_events, ',') + ' events':<46} {extrapolated:>9.2f}")
        print(f"{'baseline ratio (naive / pipeline backfill)':<46} {extrapolated / backfill_s:>9.1f}x")


def count_day(engine: Engine, day: date) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT (SELECT COUNT(*) FROM play_sessions WHERE day = :d) + (SELECT COUNT(*) FROM ad_views WHERE day = :d)"
        ), {"d": day}).scalar())


if __name__ == "__main__":
    main()

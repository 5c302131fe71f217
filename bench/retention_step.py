"""Where the nightly retention step's time goes: `.venv/bin/python -m bench.retention_step`.

bench.pipeline says how much the step adds to the backfill; this says which part of it costs,
so a change to the step can be judged on one day instead of a 30-day backfill.

1. generate one nightly-size business day (100,000 play sessions + 100,000 ad views, 10,000
   videos) into a scratch database (or reuse a kept one: `--database NAME`);
2. run each statement below over the day's `--partitions` video ranges, `--repeats` times;
3. print per statement the MariaDB server's CPU time per day (the connection's server thread,
   read from /proc: only when the server runs on this machine and /proc of it is readable)
   and the fastest wall time. On the shared machine the wall time swings with the others'
   load; the server CPU time of the statement does not, so compare that.

The statements: the day-figures pass the step sits beside (SESSION_COUNTS, one streaming
GROUP BY video over the covering index), the retention histogram's inner GROUP BY (video,
bucket) alone, the whole histogram SELECT, and the step's INSERT … SELECT (rolled back), beside
the same INSERT applying the rule per read (joined to `videos`, as before revision 0016 kept
each session's reach and bucket in generated columns), and the INSERT without its histogram
(the floor of any form of the step that reads the views once more); and the INSERT followed by the rows of the week and month the day closes (of that one day, rolled back);
on a database kept by `bench.pipeline --keep` (30 days), also the rows of the whole week and
month before the last day's, as their closing partitions write them.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from bench.dataset import scratch_database
from bench.proc_cpu import server_pid, stat_cpu_s
from jobs.engine import engine_for
from models.business_time import days_between, month_range, month_start, week_range, week_start
from models.figures.daily_counts import SESSION_COUNTS
from models.figures.retention import (
    GROUP_CONCAT_LIMIT,
    bucket_sql,
    close_period_sql,
    day_histogram_sql,
    reach_sql,
)
from models.sql_dialect import Dialect
from paysystem.synthetic_data import GenerateSpec, default_last_day, generate
from settings import Settings


def server_thread_cpu(conn: Connection) -> Callable[[], float] | None:
    """A clock of the server thread serving `conn` (seconds of CPU), or None when the server's
    /proc is not readable. The thread is the one that does the work of a busy statement."""
    pid = server_pid(conn)
    if pid is None:
        return None

    def cpu_of(tid: str) -> float:
        return stat_cpu_s(f"/proc/{pid}/task/{tid}/stat")

    def all_threads() -> dict[str, float]:
        out = {}
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                out[tid] = cpu_of(tid)
            except OSError:
                pass
        return out

    def busy(seconds: float, ours: bool) -> dict[str, float]:
        before, t0 = all_threads(), time.perf_counter()
        if ours:
            conn.execute(text("SELECT BENCHMARK(20000000, SQRT(RAND()))")).all()
        else:
            time.sleep(seconds)
        after = all_threads()
        return {t: after[t] - before.get(t, 0) for t in after} | {"": int(1000 * (time.perf_counter() - t0))}

    try:
        # Other connections may be busy too: ours is the thread busy while we are and idle
        # while we wait (twice, to rule out a coincidence).
        score: dict[str, float] = {}
        for _ in range(2):
            mine = busy(0, True)
            idle = busy(mine.pop("") / 1000, False)
            for t in mine:
                score[t] = score.get(t, 0) + mine[t] - 2 * idle.get(t, 0)
    except OSError:
        return None
    conn.rollback()
    tid = max(score, key=lambda t: score[t])
    return lambda: cpu_of(tid)


def statements(d: Dialect, day: date, history: bool = False) -> dict[str, str | list[str]]:
    # The rule applied per read, as the step did before revision 0016 stored it in the sessions.
    length = "v.duration_seconds * 1000"
    reach = reach_sql(d, "s.furthest_position_ms", "s.watch_ms", length)
    bucket = bucket_sql(d, reach, length)
    where = "s.day = :day AND s.video_id BETWEEN :lo AND :hi AND s.counted = 1"
    timed: dict[str, str | list[str]] = {
        "day figures pass (SESSION_COUNTS)": SESSION_COUNTS,
        "retention: GROUP BY video, bucket only": f"""
            SELECT s.video_id, s.reach_bucket, COUNT(*), SUM(s.reach_ms)
            FROM play_sessions s WHERE {where}
            GROUP BY s.video_id, s.reach_bucket""",
        "retention: histogram SELECT": day_histogram_sql(d),
        "retention: the step's INSERT … SELECT": f"""
            INSERT INTO video_daily_retention (day, video_id, views, reach_ms, histogram)
            {day_histogram_sql(d)}""",
        "retention: INSERT, rule per read (old)": f"""
            INSERT INTO video_daily_retention (day, video_id, views, reach_ms, histogram)
            SELECT :day, h.video_id, SUM(h.views), SUM(h.reach_ms),
                   GROUP_CONCAT(h.bucket, ':', h.views ORDER BY h.bucket SEPARATOR ',')
            FROM (SELECT s.video_id AS video_id, {bucket} AS bucket, COUNT(*) AS views, SUM({reach}) AS reach_ms
                  FROM play_sessions s JOIN videos v ON v.id = s.video_id WHERE {where}
                  GROUP BY s.video_id, {bucket}) h
            GROUP BY h.video_id""",
        # What any form of the step pays before its histogram: each counted view's reach read
        # once more (one streaming GROUP BY video) and a row per video-day written.
        "retention: the INSERT without its histogram": f"""
            INSERT INTO video_daily_retention (day, video_id, views, reach_ms, histogram)
            SELECT :day, s.video_id, COUNT(*), SUM(s.reach_ms), ''
            FROM play_sessions s WHERE {where}
            GROUP BY s.video_id""",
        # The daily INSERT and, on a period's last day, the rows of its week and month (here of
        # the one day there is; a real month reads its 28-31 days).
        "retention: + closing its week and month": [f"""
            INSERT INTO video_daily_retention (day, video_id, views, reach_ms, histogram)
            {day_histogram_sql(d)}""", GROUP_CONCAT_LIMIT, _closing(d, "week", [day], ":week_start"),
            _closing(d, "month", [day], ":month_start")],
    }
    if not history:
        return timed
    # The day is computed there already: a statement writing its rows deletes them first (in the
    # same rolled-back transaction).
    clear = "DELETE FROM video_daily_retention WHERE day = :day AND video_id BETWEEN :lo AND :hi"
    for name, sql in timed.items():
        if "INSERT INTO video_daily_retention" in str(sql):
            timed[name] = [clear, *([sql] if isinstance(sql, str) else sql)]
    return timed | _closing_history(d, day)


def _closing_history(d: Dialect, day: date) -> dict[str, str | list[str]]:
    """On a kept `bench.pipeline` database (30 days of daily rows): the rows of the whole ISO week
    and the month before `day`'s, as the partitions of their last day write them (their existing
    rows deleted first, in the same rolled-back transaction)."""
    out: dict[str, str | list[str]] = {}
    for period, (start, end) in (("week", week_range(week_start(day) - timedelta(days=1))),
                                 ("month", month_range(month_start(day) - timedelta(days=1)))):
        out[f"closing the {period} before (kept history)"] = [
            f"DELETE FROM video_period_retention WHERE period = '{period}' AND period_start = '{start}' "
            "AND video_id BETWEEN :lo AND :hi", GROUP_CONCAT_LIMIT,
            _closing(d, period, days_between(start, end), f"'{start}'")]
    return out


def _closing(d: Dialect, period: str, days: list[date], start: str) -> str:
    """`close_period_sql` of a `period` of `days` starting `start` (SQL), videos `:lo` … `:hi`."""
    return close_period_sql(d, days).replace(":period_start", start).replace(":period", f"'{period}'")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--videos", type=int, default=10_000)
    parser.add_argument("--partitions", type=int, default=Settings().batch_partitions)
    parser.add_argument("--repeats", type=int, default=8)
    parser.add_argument("--database", default=None, help="a kept benchmark database to reuse")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    last = default_last_day(Settings().tz)
    with scratch_database("retention", keep=args.keep, reuse=args.database) as url:
        engine = engine_for(url)
        if args.database is None:
            print(f"generating one day of {args.sessions:,} sessions + as many ad views ...", flush=True)
            generate(engine, GenerateSpec(args.videos, 1_000, 100_000, 1, args.sessions, args.sessions, 1, last),
                     Settings().tz)
        with engine.connect() as conn:
            d = Dialect(conn)
            day = conn.execute(text("SELECT MAX(day) FROM play_sessions")).scalar()
            # A kept bench.pipeline database has a month of daily rows: its closings are timed too.
            history = conn.execute(text("SELECT COUNT(DISTINCT day) FROM video_daily_retention")).scalar() > 7
            top = int(conn.execute(text("SELECT MAX(id) FROM videos")).scalar())
            conn.rollback()
            step = top // args.partitions + 1
            ranges = [(i * step, (i + 1) * step - 1) for i in range(args.partitions)]
            cpu = server_thread_cpu(conn)
            cpu_s: dict[str, float] = {}
            wall_s: dict[str, list[float]] = {}
            failures: dict[str, int] = {}
            for _ in range(args.repeats):
                for name, sql in statements(d, day, history).items():
                    c0, t0 = cpu() if cpu else 0.0, time.perf_counter()
                    try:
                        for lo, hi in ranges:
                            for one in [sql] if isinstance(sql, str) else sql:
                                conn.execute(text(one), {"day": day, "lo": lo, "hi": hi, "week_start": week_start(day),
                                                         "month_start": month_start(day)}).close()
                    except DBAPIError as error:  # e.g. an on-disk temporary table lost in /tmp
                        failures[name] = failures.get(name, 0) + 1
                        print(f"{name}: {error.orig}", flush=True)
                        conn.rollback()
                        continue
                    wall_s.setdefault(name, []).append(time.perf_counter() - t0)
                    cpu_s[name] = cpu_s.get(name, 0.0) + ((cpu() - c0) if cpu else 0.0)
                    conn.rollback()  # the INSERT's rows go: every repeat writes the same day
        engine.dispose()
    print()
    print(f"one day of {args.sessions:,} sessions, {args.partitions} partitions, {args.repeats} repeats")
    print(f"{'statement':42} {'server CPU ms/day':>18} {'fastest wall ms':>16} {'failed':>7}")
    print("-" * 86)
    for name in statements(d, day, history):
        done = wall_s.get(name, [])
        server = f"{1000 * cpu_s[name] / len(done):.0f}" if cpu and done else "n/a"
        fastest = f"{1000 * min(done):.0f}" if done else "n/a"
        print(f"{name:42} {server:>18} {fastest:>16} {failures.get(name, 0):>7}")


if __name__ == "__main__":
    main()

"""How far a read replica falls behind under the batch: `.venv/bin/python -m bench.replica`.

A private MariaDB primary with a GTID replica (the pair of tests/replica_support.py: two
mariadbd processes on loopback ports, 32 MiB buffer pools), the synthetic data set
(paysystem/synthetic_data.py) generated on the primary, then a `--days` backfill by 2 real
workers. Every `--sample` seconds, on a thread of its own, it reads each side's finished runs
and the replica's verdict (models/read_replica.py `check_replica`, the check the portal makes).

Prints a table: how long the replica took to apply the generated events; during the backfill
the largest Seconds_Behind_Master seen, the delay from a run's end on the primary to its end
marker on the replica (p50 / max, at the sampling resolution), and the share of samples in
which figure reads would have gone to the replica (the rest: behind_run / lagging); and the
time from the last run's end until the replica had caught up. Same machine, same cores: the
replica competes with the primary and the workers, so this is an upper bound on the lag a
replica on its own host would show.

    flock /tmp/bench.lock .venv/bin/python -m bench.replica --sessions 300000 --ad-views 300000 --videos 2000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import text

from bench.dataset import (
    add_size_options,
    backfill,
    batch_workers,
    bench_settings,
    scratch_redis,
    size_spec,
)
from jobs.engine import engine_for
from models.db import make_engine
from models.read_replica import REPLICA, check_replica, replication_status
from paysystem import migrate
from paysystem.synthetic_data import default_last_day, generate
from tests.replica_support import ReplicaPair

FINISHED = text("SELECT id FROM batch_runs WHERE finished_at IS NOT NULL")


class Sampler(threading.Thread):
    """Samples both sides until stopped: first time each finished run is seen, lag, verdicts."""

    def __init__(self, primary_url: str, replica_url: str, every: float) -> None:
        super().__init__(daemon=True)
        self.primary, self.replica = make_engine(primary_url), make_engine(replica_url)
        self.every = every
        self.seen: dict[str, dict[int, float]] = {"primary": {}, "replica": {}}
        self.max_lag = 0.0
        self.verdicts: Counter[str] = Counter()
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            now = time.monotonic()
            for side, engine in (("primary", self.primary), ("replica", self.replica)):
                with engine.connect() as conn:
                    for (run_id,) in conn.execute(FINISHED):
                        self.seen[side].setdefault(run_id, now)
            status = replication_status(self.replica) or {}
            self.max_lag = max(self.max_lag, float(status.get("Seconds_Behind_Master") or 0))
            self.verdicts[check_replica(self.primary, self.replica, 30).reason] += 1
            self.stopping.wait(max(0.0, self.every - (time.monotonic() - now)))

    def stop(self) -> None:
        self.stopping.set()
        self.join()
        self.primary.dispose()
        self.replica.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_size_options(parser)
    parser.add_argument("--workers", type=int, default=2, help="batch worker processes")
    parser.add_argument("--sample", type=float, default=0.1, help="seconds between samples")
    args = parser.parse_args(argv)
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-replica-") as work, scratch_redis() as redis_url:
        pair = ReplicaPair(Path(work))
        try:
            url, read_url = pair.database("paysystem_bench_replica")
            migrate.upgrade(url)
            pair.caught_up()
            settings = bench_settings(url, redis_url)
            engine = engine_for(url)
            spec = size_spec(args, default_last_day(settings.tz))
            print(f"* generating {args.sessions:,} sessions + {args.ad_views:,} ad views over {args.days} days "
                  "on the primary", flush=True)
            t0 = time.perf_counter()
            generate(engine, spec, settings.tz)
            generated = time.perf_counter() - t0
            pair.caught_up(timeout=1800)
            applied = time.perf_counter() - t0
            rows += [("generation on the primary, s", f"{generated:.1f}"),
                     ("… applied on the replica, s after its start", f"{applied:.1f}")]
            sampler = Sampler(url, read_url, args.sample)
            sampler.start()
            print(f"* backfilling {args.days} days with {args.workers} workers", flush=True)
            t0 = time.perf_counter()
            with batch_workers(settings, args.workers):
                backfill(settings, engine, spec.first_day, spec.last_day)
            backfilled = time.perf_counter() - t0
            last_end = max(sampler.seen["primary"].values())
            pair.caught_up(timeout=600)
            time.sleep(args.sample * 3)  # the sampler sees the last markers
            sampler.stop()
            delays = [sampler.seen["replica"][run] - at for run, at in sampler.seen["primary"].items()
                      if run in sampler.seen["replica"]]
            caught_up = max(sampler.seen["replica"].values()) - last_end
            total = sum(sampler.verdicts.values())
            rows += [
                (f"backfill of {args.days} days, s", f"{backfilled:.1f}"),
                ("largest Seconds_Behind_Master during it", f"{sampler.max_lag:.0f}"),
                ("run end → its marker on the replica, p50 s", f"{statistics.median(delays):.2f}"),
                ("run end → its marker on the replica, max s", f"{max(delays):.2f}"),
                ("last run's end → replica has it, s", f"{caught_up:.2f}"),
                ("samples in which reads went to the replica", f"{sampler.verdicts[REPLICA] / total:.0%} of {total}"),
                ("… otherwise", ", ".join(f"{k} {v}" for k, v in sampler.verdicts.items() if k != REPLICA) or "—"),
            ]
            engine.dispose()
        finally:
            pair.stop()
    print()
    print(f"read replica under the batch · {args.sessions:,} sessions + {args.ad_views:,} ad views, {args.days} days, "
          f"{args.videos:,} videos · primary, replica, {args.workers} workers and the sampler on the same cores")
    print()
    print("| what | value |")
    print("|---|---:|")
    for what, value in rows:
        print(f"| {what} | {value} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

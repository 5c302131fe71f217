"""What a job costs the worker itself: `.venv/bin/python -m bench.worker_overhead`.

Times one burst worker of each class (RQ's forking Worker, SimpleWorker) through the same
number of trivial jobs as a 30-day backfill enqueues (30 days x (4 partitions + 1 final)),
so the difference is the per-job fork/work-horse overhead the batch would pay.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import date

from redis import Redis
from rq import Queue

from bench.dataset import SECRET, scratch_redis
from settings import PROJECT_ROOT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=150)
    args = parser.parse_args()
    rows = []
    with scratch_redis() as redis_url:
        for label, extra in (("Worker (fork per job)", ["--fork"]), ("SimpleWorker", [])):
            queue_name = f"overhead-{os.getpid()}"
            queue = Queue(queue_name, connection=Redis.from_url(redis_url))
            for _ in range(args.jobs):
                queue.enqueue("models.business_time.week_start", date(2026, 11, 26))
            env = {**os.environ, "REDIS_URL": redis_url, "BATCH_QUEUE": queue_name, "SECRET_KEY": SECRET}
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "paysystem", "worker", "--burst", *extra], env=env,
                           cwd=PROJECT_ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            rows.append((label, time.perf_counter() - t0))
    print(f"{'worker class':<24} {'seconds':>8} {'ms/job':>8}   ({args.jobs} trivial jobs, start-up included)")
    for label, seconds in rows:
        print(f"{label:<24} {seconds:>8.2f} {1000 * seconds / args.jobs:>8.1f}")


if __name__ == "__main__":
    main()

"""Starting RQ workers for the batch queue.

`SimpleWorker` runs each job in the worker process itself instead of forking a work
horse per job: a 30-day backfill is 150 short jobs, and bench/worker_overhead.py measured
about 14 ms more per job for the forking Worker on this machine (29 vs 15 ms per trivial
job), before the fresh database connection each work horse would also need. A SIGKILL
still leaves nothing half-written, because every partition is one database transaction
that dies with the process's connection. `paysystem worker --fork` keeps the forking
Worker available for operators who prefer a process per job.
"""

from __future__ import annotations

import logging
import time

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import SimpleWorker, Worker

from jobs.logs import configure_job_logging
from jobs.queues import batch_queue, queue_connection
from settings import Settings

log = logging.getLogger(__name__)

# Seconds between attempts to work again after Redis went away.
RECONNECT_DELAY_SECONDS = 2.0


def run_worker(settings: Settings, *, burst: bool = False, name: str | None = None, fork: bool = False) -> bool:
    """Work the batch queue until stopped (or until it is empty with `burst`).

    The worker also runs RQ's scheduler for delayed retries (Retry intervals). `fork`
    selects RQ's forking Worker (a fresh process per job) for those who want isolation.

    A lost Redis connection inside a job makes RQ's loop quit ("found an unhandled exception")
    and its teardown raise, which used to end the process: after a Redis restart no worker
    was left (found by the soak, bench/soak.py). So the worker starts again once Redis
    answers, under a new name when it was given one (the old name may still be registered
    until its key expires). Only a requested stop (SIGTERM/SIGINT) or a burst ends it.
    """
    configure_job_logging()
    worker_class = Worker if fork else SimpleWorker
    restarts = 0
    while True:
        label = name if restarts == 0 or name is None else f"{name}.{restarts}"
        try:
            connection = queue_connection(settings)
            # Making the worker talks to Redis too (RQ reads its settings there).
            worker = worker_class([batch_queue(settings, connection)], connection=connection, name=label)
            worked = worker.work(burst=burst, logging_level="INFO", with_scheduler=True)
            # RQ gives no public sign that its loop ended on an error rather than on a stop
            # request: a SIGTERM/SIGINT records when it asked for the shutdown.
            if burst or worker._shutdown_requested_date is not None or worker._stop_requested:
                return worked
            reason = "its loop ended on an error"
        except (RedisConnectionError, RedisTimeoutError) as exc:
            reason = f"Redis is unreachable ({exc})"
        restarts += 1
        log.warning("worker %s stopped: %s; working again in %.0f s", label or "(unnamed)", reason,
                    RECONNECT_DELAY_SECONDS)
        time.sleep(RECONNECT_DELAY_SECONDS)

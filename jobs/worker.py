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

from rq import SimpleWorker, Worker

from jobs.logs import configure_job_logging
from jobs.queues import batch_queue, queue_connection
from settings import Settings


def run_worker(settings: Settings, *, burst: bool = False, name: str | None = None, fork: bool = False) -> bool:
    """Work the batch queue until stopped (or until it is empty with `burst`).

    The worker also runs RQ's scheduler for delayed retries (Retry intervals). `fork`
    selects RQ's forking Worker (a fresh process per job) for those who want isolation.
    """
    configure_job_logging()
    connection = queue_connection(settings)
    worker_class = Worker if fork else SimpleWorker
    worker = worker_class([batch_queue(settings, connection)], connection=connection, name=name)
    return worker.work(burst=burst, logging_level="INFO", with_scheduler=True)

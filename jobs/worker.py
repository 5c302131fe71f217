"""Starting RQ workers for the batch queue.

`SimpleWorker` runs each job in the worker process itself instead of forking a work
horse per job: a day is a handful of short jobs, and the fork plus a fresh database
connection per job cost more than the work of a small partition (measured in
bench/pipeline.py). A SIGKILL still leaves nothing half-written, because every
partition is one database transaction that dies with the process's connection.
"""

from __future__ import annotations

from rq import SimpleWorker, Worker

from jobs.logs import configure_job_logging
from jobs.queues import batch_queue, queue_connection
from paysystem.config import Settings


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

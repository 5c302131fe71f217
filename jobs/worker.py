"""Starting RQ workers for the batch queue."""

from __future__ import annotations

from rq import Worker

from jobs.queues import batch_queue, queue_connection
from paysystem.config import Settings


def run_worker(settings: Settings, *, burst: bool = False, name: str | None = None) -> bool:
    """Work the batch queue until stopped (or until it is empty with `burst`)."""
    connection = queue_connection(settings)
    worker = Worker([batch_queue(settings, connection)], connection=connection, name=name)
    return worker.work(burst=burst, logging_level="INFO")

"""The rq-scheduler process that enqueues scheduled jobs when they are due."""

from __future__ import annotations

from rq_scheduler import Scheduler

from jobs.queues import queue_connection
from paysystem.config import Settings


def make_scheduler(settings: Settings, interval: int = 5) -> Scheduler:
    return Scheduler(queue_name=settings.batch_queue, connection=queue_connection(settings), interval=interval)


def run_scheduler(settings: Settings, interval: int = 5) -> None:
    """Poll every `interval` seconds (rq-scheduler's default of 60 would delay jobs by up to a minute)."""
    make_scheduler(settings, interval).run()

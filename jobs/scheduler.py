"""The rq-scheduler process that enqueues scheduled jobs when they are due."""

from __future__ import annotations

import logging

from rq_scheduler import Scheduler

from jobs.queues import queue_connection
from jobs.schedule import reconcile_nightly
from settings import Settings

log = logging.getLogger(__name__)


def make_scheduler(settings: Settings, interval: int = 5) -> Scheduler:
    return Scheduler(queue_name=settings.batch_queue, connection=queue_connection(settings), interval=interval)


def run_scheduler(settings: Settings, interval: int = 5) -> None:
    """Reconcile the nightly job, then poll every `interval` seconds (rq-scheduler's default
    of 60 would delay jobs by up to a minute)."""
    scheduler = make_scheduler(settings, interval)
    cron = reconcile_nightly(scheduler, settings)
    logging.basicConfig(level=logging.INFO)
    log.info("nightly batch scheduled at %s %s (cron %s UTC)", settings.nightly_time, settings.timezone, cron)
    scheduler.run()

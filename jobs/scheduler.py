"""The rq-scheduler process that enqueues scheduled jobs when they are due."""

from __future__ import annotations

import logging
import time

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq_scheduler import Scheduler

from jobs.queues import queue_connection, queue_name
from jobs.schedule import reconcile_nightly, reconcile_statements
from settings import Settings

log = logging.getLogger(__name__)

# Seconds between attempts to reach Redis again after it went away.
RECONNECT_DELAY_SECONDS = 2.0


def make_scheduler(settings: Settings, interval: int = 5) -> Scheduler:
    return Scheduler(queue_name=queue_name(settings), connection=queue_connection(settings), interval=interval)


def run_scheduler(settings: Settings, interval: int = 5) -> None:
    """Reconcile the nightly job, then poll every `interval` seconds (rq-scheduler's default
    of 60 would delay jobs by up to a minute).

    rq-scheduler's loop raises on the first lost Redis connection, which used to end the
    process; and a Redis that comes back empty (no persistence, a new instance) no longer
    holds the nightly job. So a lost connection starts the whole thing again once Redis
    answers: a fresh scheduler (a new name: the old one's keys expire by themselves) and
    the nightly job reconciled. Found by the soak, bench/soak.py.
    """
    logging.basicConfig(level=logging.INFO)
    while True:
        try:
            scheduler = make_scheduler(settings, interval)
            cron = reconcile_nightly(scheduler, settings)
            log.info("nightly batch scheduled at %s %s (cron %s UTC)", settings.nightly_time, settings.timezone,
                     cron)
            cron = reconcile_statements(scheduler, settings)
            log.info("statement finalization scheduled from day %s (cron %s UTC)", settings.statement_finalize_day,
                     cron)
            scheduler.run()
            return
        except (RedisConnectionError, RedisTimeoutError) as exc:
            log.warning("Redis is unreachable (%s); scheduling again in %.0f s", exc, RECONNECT_DELAY_SECONDS)
            time.sleep(RECONNECT_DELAY_SECONDS)

"""The nightly schedule: the one place it is registered with rq-scheduler.

rq-scheduler keeps scheduled jobs in Redis, so every scheduler start would add another
copy if it simply registered again. `reconcile_nightly` instead makes Redis hold exactly
one nightly job with the current settings, whatever was there before.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from rq_scheduler import Scheduler

from jobs.queues import RESULT_TTL_SECONDS
from models.business_time import today
from settings import Settings

NIGHTLY_JOB_ID = "paysystem-nightly"
NIGHTLY_FUNC = "jobs.tasks.nightly_task"


def nightly_cron(settings: Settings, now: datetime | None = None) -> str:
    """The UTC cron line of NIGHTLY_TIME in business time (rq-scheduler reads cron in UTC)."""
    hour, minute = (int(part) for part in settings.nightly_time.split(":"))
    local = datetime.combine(today(settings.tz, now), time(hour, minute), tzinfo=settings.tz)
    utc = local.astimezone(UTC)
    return f"{utc.minute} {utc.hour} * * *"


def _is_nightly(job) -> bool:  # type: ignore[no-untyped-def]
    return job.id == NIGHTLY_JOB_ID or job.func_name == NIGHTLY_FUNC


def reconcile_nightly(scheduler: Scheduler, settings: Settings) -> str:
    """Leave exactly one nightly job scheduled, with the configured time; returns its cron line.

    With NIGHTLY_INTERVAL_SECONDS set (tests, demos) the job fires every that many seconds
    instead; enqueue_nightly still starts yesterday's run only once."""
    if settings.nightly_interval_seconds:
        return _reconcile_interval(scheduler, settings)
    cron = nightly_cron(settings)
    keep = None
    for job in scheduler.get_jobs():
        if not _is_nightly(job):
            continue
        if keep is None and job.id == NIGHTLY_JOB_ID and job.meta.get("cron_string") == cron \
                and job.origin == settings.batch_queue:
            keep = job
            continue
        scheduler.cancel(job)
        job.delete()
    if keep is None:
        scheduler.cron(cron, NIGHTLY_FUNC, id=NIGHTLY_JOB_ID, queue_name=settings.batch_queue,
                       result_ttl=RESULT_TTL_SECONDS, timeout=600,
                       description=f"nightly batch for the previous day at {settings.nightly_time} "
                                   f"{settings.timezone}")
    return cron


def scheduled_nightly_jobs(scheduler: Scheduler) -> list:
    return [job for job in scheduler.get_jobs() if _is_nightly(job)]




def _reconcile_interval(scheduler: Scheduler, settings: Settings) -> str:
    every = settings.nightly_interval_seconds
    for job in scheduler.get_jobs():
        if _is_nightly(job):
            scheduler.cancel(job)
            job.delete()
    scheduler.schedule(datetime.now(UTC).replace(tzinfo=None), NIGHTLY_FUNC, interval=every, repeat=None,
                       id=NIGHTLY_JOB_ID, queue_name=settings.batch_queue, result_ttl=RESULT_TTL_SECONDS,
                       timeout=600, description=f"nightly batch for the previous day, every {every} s (testing)")
    return f"every {every} s"

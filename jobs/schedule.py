"""The schedules (nightly batch, monthly statements): the one place they are registered with rq-scheduler.

rq-scheduler keeps scheduled jobs in Redis, so every scheduler start would add another
copy if it simply registered again. `reconcile_nightly` instead makes Redis hold exactly
one nightly job with the current settings, whatever was there before.

rq-scheduler keeps the jobs of every database sharing the Redis in one place, so a
scheduled job's id carries its database's identity (`nightly_job_id`): reconciling one
database's schedule never cancels another's. A copy running the same function under an id
of no database's (from before the ids carried one) is a stray and is removed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time

from rq_scheduler import Scheduler

from jobs.queues import RESULT_TTL_SECONDS, queue_name
from models.business_time import today
from models.db import database_identity
from settings import Settings

NIGHTLY_JOB = "paysystem-nightly"
NIGHTLY_FUNC = "jobs.tasks.nightly_task"
STATEMENTS_JOB = "paysystem-finalize-statements"
STATEMENTS_FUNC = "jobs.tasks.finalize_statements_task"


def _job_id(name: str, settings: Settings) -> str:
    return f"{name}-{database_identity(settings.database_url)}"


def nightly_job_id(settings: Settings) -> str:
    """The scheduled nightly job of this database (`paysystem-nightly-<identity>`)."""
    return _job_id(NIGHTLY_JOB, settings)


def statements_job_id(settings: Settings) -> str:
    return _job_id(STATEMENTS_JOB, settings)


def _ours(job, name: str, func: str, settings: Settings) -> bool:  # type: ignore[no-untyped-def]
    """`job` is this database's `name` job, or a stray copy of `func` that no database owns."""
    return job.id == _job_id(name, settings) or (job.func_name == func and not job.id.startswith(name + "-"))
STATEMENTS_TIME = "03:00"  # §13: business time


def nightly_cron(settings: Settings, now: datetime | None = None) -> str:
    """The UTC cron line of NIGHTLY_TIME in business time (rq-scheduler reads cron in UTC)."""
    hour, minute = (int(part) for part in settings.nightly_time.split(":"))
    local = datetime.combine(today(settings.tz, now), time(hour, minute), tzinfo=settings.tz)
    utc = local.astimezone(UTC)
    return f"{utc.minute} {utc.hour} * * *"


def _reconcile_cron(scheduler: Scheduler, settings: Settings, name: str, func: str, cron: str,
                    description: str) -> str:
    """Leave exactly one job `name` of this database (and no stray copy running `func`) with
    `cron`; returns the cron."""
    keep = None
    job_id = _job_id(name, settings)
    for job in scheduler.get_jobs():
        if not _ours(job, name, func, settings):
            continue
        if keep is None and job.id == job_id and job.meta.get("cron_string") == cron \
                and job.origin == queue_name(settings):
            keep = job
            continue
        scheduler.cancel(job)
        job.delete()
    if keep is None:
        scheduler.cron(cron, func, id=job_id, queue_name=queue_name(settings), result_ttl=RESULT_TTL_SECONDS,
                       timeout=600, description=description)
    return cron


def reconcile_nightly(scheduler: Scheduler, settings: Settings) -> str:
    """Leave exactly one nightly job scheduled, with the configured time; returns its cron line.

    With NIGHTLY_INTERVAL_SECONDS set (tests, demos) the job fires every that many seconds
    instead; enqueue_nightly still starts yesterday's run only once."""
    if settings.nightly_interval_seconds:
        return _reconcile_interval(scheduler, settings)
    return _reconcile_cron(scheduler, settings, NIGHTLY_JOB, NIGHTLY_FUNC, nightly_cron(settings),
                           f"nightly batch for the previous day at {settings.nightly_time} {settings.timezone}")


def statements_cron(settings: Settings, now: datetime | None = None) -> str:
    """Every day at STATEMENTS_TIME business time, in UTC cron. The day of the month is not in
    the cron line: 03:00 in Seoul is the previous UTC day, which has no fixed day number on
    the 1st; jobs.tasks.finalize_statements_task decides in business time whether a month
    is due (from STATEMENT_FINALIZE_DAY on, until it is final)."""
    return nightly_cron(replace(settings, nightly_time=STATEMENTS_TIME), now)


def reconcile_statements(scheduler: Scheduler, settings: Settings) -> str:
    """Leave exactly one statement-finalization job scheduled; returns its cron line."""
    return _reconcile_cron(scheduler, settings, STATEMENTS_JOB, STATEMENTS_FUNC, statements_cron(settings),
                           f"finalize last month's statements from day {settings.statement_finalize_day} at "
                           f"{STATEMENTS_TIME} {settings.timezone}")


def scheduled_statement_jobs(scheduler: Scheduler, settings: Settings) -> list:
    return [job for job in scheduler.get_jobs() if _ours(job, STATEMENTS_JOB, STATEMENTS_FUNC, settings)]


def scheduled_nightly_jobs(scheduler: Scheduler, settings: Settings) -> list:
    return [job for job in scheduler.get_jobs() if _ours(job, NIGHTLY_JOB, NIGHTLY_FUNC, settings)]




def _reconcile_interval(scheduler: Scheduler, settings: Settings) -> str:
    every = settings.nightly_interval_seconds
    for job in scheduler.get_jobs():
        if _ours(job, NIGHTLY_JOB, NIGHTLY_FUNC, settings):
            scheduler.cancel(job)
            job.delete()
    scheduler.schedule(datetime.now(UTC).replace(tzinfo=None), NIGHTLY_FUNC, interval=every, repeat=None,
                       id=nightly_job_id(settings), queue_name=queue_name(settings), result_ttl=RESULT_TTL_SECONDS,
                       timeout=600, description=f"nightly batch for the previous day, every {every} s (testing)")
    return f"every {every} s"

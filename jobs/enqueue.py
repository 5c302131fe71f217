"""How the portal and the command line start batch work: plan runs, enqueue their jobs.

Job ids are deterministic (run id + partition index), so an operator can find a run's
jobs in the RQ dashboard and a retry reuses them. Work is ordered: a new run's
partitions wait for the run enqueued before it, and in a backfill each partition waits
for the same video range of the previous day, so the days' running totals build on
each other while ranges of one day still run in parallel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from redis import Redis
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Dependency, Job
from sqlalchemy import Engine

from jobs import run_state
from jobs.engine import engine_for
from jobs.errors import BatchRequestError
from jobs.job_ids import final_job_id, partition_job_id
from jobs.queues import (
    FAILURE_TTL_SECONDS,
    JOB_TIMEOUT_SECONDS,
    PENDING_STATUSES,
    RESULT_TTL_SECONDS,
    batch_queue,
    queue_connection,
    queue_name,
)
from jobs.run_planning import PlannedRun, nightly_run_exists, plan_days, plan_nightly
from jobs.run_retries import check_retry, reset_for_retry
from jobs.run_state import latest_open_run
from models.batch.tables import RunState, RunTrigger
from models.business_time import days_between, today
from models.db import database_identity
from models.figures.date_window import day_window
from models.redis_conn import key_namespace
from settings import Settings

MAX_BACKFILL_DAYS = 3660
# What the operator is told, on the ops pages and in the API, when the queue Redis refused a request.
QUEUE_DOWN = "The job queue (Redis) cannot be reached right now, so nothing was started; try again shortly."

__all__ = ["BatchRequestError", "batch_queue", "check_closed_days", "enqueue_backfill", "enqueue_day", "enqueue_nightly",
           "enqueue_retry", "enqueue_runs"]


def check_closed_days(settings: Settings, first: date, last: date) -> list[date]:
    """The days `first` … `last`, refusing days that are not over yet in business time."""
    if last < first:
        raise BatchRequestError(f"the range ends ({last}) before it starts ({first})", kind="bad_request",
                                code="backwards_range")
    current = today(settings.tz)
    if last >= current:
        raise BatchRequestError(
            f"{last.isoformat()} is not over yet in business time ({settings.timezone}); "
            f"the latest day that can be computed is {(current - timedelta(days=1)).isoformat()}"
        )
    # Before the date window (models/figures/date_window.py) there is no data, and a run of year 1 was
    # accepted and then failed on its week and month arithmetic: refused (DateOutOfRange, 422).
    day_window(settings, current).check(first, "the first day")
    days = days_between(first, last)
    if len(days) > MAX_BACKFILL_DAYS:
        raise BatchRequestError(f"a backfill covers at most {MAX_BACKFILL_DAYS} days, not {len(days)}",
                                kind="invalid", code="range_too_long")
    return days


def _db(settings: Settings) -> str:
    """This database's identity, which every RQ job id carries (jobs/job_ids.py partition_job_id)."""
    return database_identity(settings.database_url)


def _retry(settings: Settings) -> Retry | None:
    if settings.batch_retries < 1:
        return None
    return Retry(max=settings.batch_retries, interval=list(settings.batch_retry_delays) or 0)


def _pending_job(connection: Redis, job_id: str) -> str | None:
    try:
        status = Job.fetch(job_id, connection=connection).get_status()
    except NoSuchJobError:
        return None
    return job_id if status in PENDING_STATUSES else None


def _tail_job(settings: Settings, engine: Engine, connection: Redis, exclude: Sequence[int]) -> str | None:
    """The final job of the latest run still queued or running, if RQ still has it pending."""
    run_id = latest_open_run(engine, exclude)
    return _pending_job(connection, final_job_id(_db(settings), run_id)) if run_id is not None else None


def _enqueue(queue: Queue, settings: Settings, func: str, arg: int, job_id: str, after: list[str],
             description: str) -> Job:
    # Job ids are deterministic (database + run + partition), so an id can come back: a retry,
    # or a database rebuilt under the same name while Redis kept its keys. RQ keeps a job's
    # dependencies in a set it only ever adds to; a stale member naming a job that never
    # finishes left the new job deferred for good (backfills stopped with idle workers). So
    # whatever RQ still holds under the id is deleted first, through its own API (which drops
    # that set with the job; RQ expires the two together), and the job depends on `after` only.
    _forget_job(queue.connection, job_id)
    return queue.enqueue_call(
        func,
        args=(arg,),
        job_id=job_id,
        depends_on=Dependency(jobs=after, allow_failure=True) if after else None,
        timeout=JOB_TIMEOUT_SECONDS,
        result_ttl=RESULT_TTL_SECONDS,
        failure_ttl=FAILURE_TTL_SECONDS,
        retry=_retry(settings),
        description=description,
    )


def enqueue_runs(settings: Settings, days: list[date], trigger: RunTrigger, requested_by: int | None = None,
                 connection: Redis | None = None) -> list[int]:
    """Plan one run per day (in order) and enqueue its partition jobs and final job."""
    return _enqueue_runs(settings, engine_for(settings.database_url), days, trigger, requested_by, connection)


def _enqueue_runs(settings: Settings, engine: Engine, days: list[date], trigger: RunTrigger,
                  requested_by: int | None, connection: Redis | None) -> list[int]:
    planned = plan_days(engine, days, trigger, partitions=settings.batch_partitions, requested_by=requested_by)
    return _enqueue_planned(settings, engine, planned, connection)


def _enqueue_planned(settings: Settings, engine: Engine, runs: list[PlannedRun],
                     connection: Redis | None) -> list[int]:
    """Enqueue the partition jobs and the final job of runs just planned (in order)."""
    connection = connection or queue_connection(settings)
    queue = batch_queue(settings, connection)
    planned = [(run.run_id, run.day, run.partitions) for run in runs]
    tail = _tail_job(settings, engine, connection, [run_id for run_id, _, _ in planned])
    previous_parts: dict[int, str] = {}
    previous_final = tail
    for run_id, day, parts in planned:
        part_jobs = []
        for partition_id, index in parts:
            after = [previous_parts[index]] if index in previous_parts else ([tail] if tail else [])
            job = _enqueue(queue, settings, "jobs.tasks.partition_task", partition_id,
                           partition_job_id(_db(settings), run_id, index), after,
                           f"batch {day} run {run_id} partition {index}")
            part_jobs.append(job.id)
            previous_parts[index] = job.id
        final_after = part_jobs + ([previous_final] if previous_final else [])
        previous_final = _enqueue(queue, settings, "jobs.tasks.finalize_task", run_id, final_job_id(_db(settings), run_id),
                                  final_after, f"batch {day} run {run_id} final step").id
    return [run_id for run_id, _, _ in planned]


def enqueue_day(settings: Settings, day: date, requested_by: int | None = None,
                trigger: RunTrigger = RunTrigger.MANUAL, connection: Redis | None = None) -> int:
    check_closed_days(settings, day, day)
    return enqueue_runs(settings, [day], trigger, requested_by, connection)[0]


def enqueue_backfill(settings: Settings, first: date, last: date, requested_by: int | None = None,
                     connection: Redis | None = None) -> list[int]:
    days = check_closed_days(settings, first, last)
    return enqueue_runs(settings, days, RunTrigger.BACKFILL, requested_by, connection)


def enqueue_nightly(settings: Settings, connection: Redis | None = None) -> int | None:
    """Yesterday's run, once: a second trigger (scheduler restart, double fire, two at the
    same instant) changes nothing."""
    day = today(settings.tz) - timedelta(days=1)
    engine = engine_for(settings.database_url)
    if nightly_run_exists(engine, day):  # the usual case, without taking the lock
        return None
    planned = plan_nightly(engine, day, partitions=settings.batch_partitions)
    if planned is None:
        return None
    return _enqueue_planned(settings, engine, [planned], connection)[0]


def held_by_rq(settings: Settings, connection: Redis, run_id: int) -> Callable[[int], bool]:
    """`is_pending` for check_retry: RQ still has the partition's job waiting or running."""
    return lambda index: _pending_job(connection, partition_job_id(_db(settings), run_id, index)) is not None


def enqueue_retry(settings: Settings, run_id: int, *, force: bool = False,
                  connection: Redis | None = None) -> list[int]:
    """Re-enqueue only the partitions of a run that did not succeed, then its final step.

    Returns the partition indexes retried; a run whose partitions all succeeded gets
    only its final step again (e.g. after the final step itself failed).
    """
    return _enqueue_retry(settings, engine_for(settings.database_url), run_id, force=force, connection=connection)


def _enqueue_retry(settings: Settings, engine: Engine, run_id: int, *, force: bool,
                   connection: Redis | None) -> list[int]:
    connection = connection or queue_connection(settings)
    queue = batch_queue(settings, connection)
    day, parts = check_retry(engine, run_id, held_by_rq(settings, connection, run_id), force=force)
    reset_for_retry(engine, run_id, [partition_id for partition_id, _ in parts])
    jobs = []
    for partition_id, index in parts:
        job_id = partition_job_id(_db(settings), run_id, index)
        jobs.append(_enqueue(queue, settings, "jobs.tasks.partition_task", partition_id, job_id, [],
                             f"batch {day} run {run_id} partition {index} (retry)").id)
    _enqueue(queue, settings, "jobs.tasks.finalize_task", run_id, final_job_id(_db(settings), run_id), jobs,
             f"batch {day} run {run_id} final step (retry)")
    return [index for _, index in parts]


def _forget_job(connection: Redis, job_id: str) -> None:
    """Drop RQ's record of a job (and its dependency set) so the same id can be enqueued afresh."""
    try:
        job = Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        return
    job.delete(remove_from_queue=True, delete_dependents=False)


# --- Requests from the operations console (issue 12) --------------------------------------
# A button pressed twice, or two admins pressing at once, must start one run: every request
# below checks what is already queued or running and enqueues under one Redis lock, so the
# check and the enqueue cannot interleave between portal processes.

def request_lock_key(settings: Settings) -> str:
    """One lock per database: requests about another database sharing the Redis never wait."""
    return f"{key_namespace(settings.database_url)}:batch:request-lock"


@dataclass(frozen=True)
class BatchRequest:
    """What a request did: runs it started, and runs it found already queued or running."""

    started: list[int]
    already_active: list[int]


def _request_lock(settings: Settings, connection: Redis):  # type: ignore[no-untyped-def]
    return connection.lock(request_lock_key(settings), timeout=120, blocking_timeout=60)


def request_days(settings: Settings, first: date, last: date, *, requested_by: int | None = None,
                 connection: Redis | None = None) -> BatchRequest:
    """Run `first` … `last` (one day: an admin run; more: a backfill), skipping the days that
    already have a run queued or running. The runs of one backfill share `backfill_id`."""
    days = check_closed_days(settings, first, last)
    connection = connection or queue_connection(settings)
    engine = engine_for(settings.database_url)
    trigger = RunTrigger.MANUAL if len(days) == 1 else RunTrigger.BACKFILL
    with _request_lock(settings, connection):
        active = run_state.active_runs(engine, days)
        todo = [day for day in days if day not in active]
        started = _enqueue_runs(settings, engine, todo, trigger, requested_by, connection) if todo else []
    if trigger == RunTrigger.BACKFILL and started:
        run_state.mark_backfill(engine, started)
    return BatchRequest(started, sorted(active.values()))


def request_retry(settings: Settings, run_id: int, *, connection: Redis | None = None) -> list[int]:
    """`enqueue_retry` under the request lock: a second press finds the partitions queued
    again and is refused with a BatchRequestError instead of enqueueing them twice."""
    connection = connection or queue_connection(settings)
    engine = engine_for(settings.database_url)
    with _request_lock(settings, connection):
        state = run_state.run_state(engine, run_id)
        if state in run_state.ACTIVE_STATES:
            raise BatchRequestError(f"batch run {run_id} is already {state.value}; wait for it to finish")
        if state == RunState.CANCELLED:
            raise BatchRequestError(f"batch run {run_id} was cancelled; run its day again instead")
        return _enqueue_retry(settings, engine, run_id, force=False, connection=connection)


def cancel_backfill(settings: Settings, backfill_id: int, *, connection: Redis | None = None) -> list[int]:
    """Cancel the days of a backfill that have not started, latest first; returns their runs.

    The RQ jobs stay: they find their rows cancelled and finish at once, so nothing that
    depends on them (the backfill's next day, a run enqueued later) is stranded.
    """
    connection = connection or queue_connection(settings)
    engine = engine_for(settings.database_url)
    cancelled: list[int] = []
    with _request_lock(settings, connection):
        run_ids = run_state.backfill_runs(engine, backfill_id)
        if not run_ids:
            raise BatchRequestError(f"there is no backfill {backfill_id}", kind="not_found", code="not_found")
        for run_id in run_ids:
            outcome = run_state.cancel_unstarted_run(engine, run_id)
            if outcome is False:
                break
            if outcome:
                cancelled.append(run_id)
    if not cancelled:
        raise BatchRequestError(f"every remaining day of backfill {backfill_id} has already started")
    return cancelled


def next_nightly(settings: Settings, connection: Redis | None = None) -> tuple[str, datetime] | None:
    """(job id, next UTC fire time) of the scheduled nightly job, or None when rq-scheduler
    holds none (the scheduler never started against this Redis)."""
    from rq_scheduler import Scheduler

    from jobs.schedule import scheduled_nightly_jobs

    scheduler = Scheduler(queue_name=queue_name(settings), connection=connection or queue_connection(settings))
    nightly = {job.id for job in scheduled_nightly_jobs(scheduler, settings)}
    times = [(job.id, when.replace(tzinfo=UTC)) for job, when in scheduler.get_jobs(with_times=True)
             if job.id in nightly]
    return min(times, key=lambda item: item[1]) if times else None

"""Running the batch in this process, without workers: the same steps the RQ jobs run.

For the command line (`--inline`), the demo seed and tests. Partitions run one after the
other; transient failures are retried like RQ would, permanent ones are recorded and the
remaining partitions still run, so a retry has as little left to do as possible.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.engine import engine_for
from jobs.errors import is_transient
from jobs.logs import log
from jobs.runs import StepResult, finalize_run, plan_runs, run_partition
from models.batch import BatchPartition, BatchRun, RunState, RunTrigger
from models.db import make_sessionmaker, session_scope
from models.figure_cache import FigureCache
from models.redis_conn import make_redis
from settings import Settings


def _with_retries(settings: Settings, step: Callable[[], StepResult]) -> StepResult | None:
    delays = list(settings.batch_retry_delays) or [0]
    for attempt in range(settings.batch_retries + 1):
        try:
            return step()
        except Exception as exc:
            if attempt >= settings.batch_retries or not is_transient(exc):
                return None
            delay = delays[min(attempt, len(delays) - 1)]
            log.warning("transient failure, retrying in %ss: %s", delay, exc)
            time.sleep(delay)
    return None


def _cache(settings: Settings, use_cache: bool) -> FigureCache | None:
    return FigureCache(make_redis(settings.redis_url)) if use_cache else None


def execute_run(settings: Settings, run_id: int, *, use_cache: bool = True) -> StepResult:
    """Every partition of the run not yet succeeded, then the final step."""
    engine = engine_for(settings.database_url)
    with Session(engine) as session:
        partition_ids = session.scalars(
            select(BatchPartition.id)
            .where(BatchPartition.run_id == run_id, BatchPartition.state != RunState.SUCCEEDED)
            .order_by(BatchPartition.partition_index)
        ).all()
    for partition_id in partition_ids:
        _with_retries(settings, lambda pid=partition_id: run_partition(
            engine, pid, lock_wait_seconds=settings.batch_lock_wait_seconds))
    result = _with_retries(settings, lambda: finalize_run(
        engine, run_id, cache=_cache(settings, use_cache), lock_wait_seconds=settings.batch_lock_wait_seconds))
    if result is None:
        with Session(engine) as session:
            run = session.get(BatchRun, run_id)
            assert run is not None
            return StepResult(run_id, run.day, run.state, run.rows_written)
    return result


def run_days_inline(settings: Settings, days: Iterable[date], trigger: RunTrigger = RunTrigger.MANUAL, *,
                    requested_by: int | None = None, use_cache: bool = True,
                    progress: Callable[[StepResult], None] | None = None) -> list[StepResult]:
    """Plan the days (in order) and run each completely before the next."""
    days = list(days)
    factory = make_sessionmaker(engine_for(settings.database_url))
    with session_scope(factory) as session:
        run_ids = [run.id for run in plan_runs(session, days, trigger, partitions=settings.batch_partitions,
                                                 requested_by=requested_by)]
    results = []
    for run_id in run_ids:
        result = execute_run(settings, run_id, use_cache=use_cache)
        results.append(result)
        if progress is not None:
            progress(result)
    return results


def retry_inline_check(settings: Settings, run_id: int, *, force: bool = False) -> None:
    """Refuse an inline retry that could race a worker still holding the partition."""
    from jobs.enqueue import BatchRequestError, retryable_partitions

    engine = engine_for(settings.database_url)
    with Session(engine) as session:
        run = session.get(BatchRun, run_id)
        if run is None:
            raise BatchRequestError(f"batch run {run_id} does not exist")
        if run.state == RunState.SUCCEEDED:
            raise BatchRequestError(f"batch run {run_id} already succeeded; start a new run of {run.day} instead")
        waiting = {p.partition_index for p in run.partitions if p.state != RunState.SUCCEEDED}
    chosen = {index for _, index in retryable_partitions(settings, run_id, force=force)}
    if waiting - chosen:
        raise BatchRequestError(
            f"partitions {', '.join(map(str, sorted(waiting - chosen)))} of run {run_id} are still queued or "
            "running on a worker; use --force if their worker is gone"
        )

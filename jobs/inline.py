"""Running the batch in this process, without workers: the same steps the RQ jobs run.

For the command line (`--inline`), the demo seed and tests. Partitions run one after the
other; transient failures are retried like RQ would, permanent ones are recorded and the
remaining partitions still run, so a retry has as little left to do as possible.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import date

from sqlalchemy import Engine

from jobs.engine import engine_for
from jobs.enqueue import held_by_rq
from jobs.errors import is_transient
from jobs.logs import log
from jobs.queues import queue_connection
from jobs.run_planning import plan_days
from jobs.run_retries import check_retry, unfinished_partitions
from jobs.run_state import StepResult, run_result
from jobs.run_steps import finalize_run, run_partition
from models.batch.tables import RunTrigger
from models.figures.cache import FigureCache
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


def _cache(settings: Settings, engine: Engine, use_cache: bool) -> FigureCache | None:
    return FigureCache(make_redis(settings.cache_redis_url), engine=engine) if use_cache else None


def execute_run(settings: Settings, engine: Engine, run_id: int, *, use_cache: bool = True) -> StepResult:
    """Every partition of the run not yet succeeded, then the final step."""
    for partition_id in unfinished_partitions(engine, run_id):
        _with_retries(settings, lambda pid=partition_id: run_partition(
            engine, pid, lock_wait_seconds=settings.batch_lock_wait_seconds))
    result = _with_retries(settings, lambda: finalize_run(
        engine, run_id, cache=_cache(settings, engine, use_cache), lock_wait_seconds=settings.batch_lock_wait_seconds))
    return result if result is not None else run_result(engine, run_id)


def run_days_inline(settings: Settings, days: Iterable[date], trigger: RunTrigger = RunTrigger.MANUAL, *,
                    requested_by: int | None = None, use_cache: bool = True,
                    progress: Callable[[StepResult], None] | None = None) -> list[StepResult]:
    """Plan the days (in order) and run each completely before the next."""
    engine = engine_for(settings.database_url)
    planned = plan_days(engine, list(days), trigger, partitions=settings.batch_partitions, requested_by=requested_by)
    results = []
    for run in planned:
        result = execute_run(settings, engine, run.run_id, use_cache=use_cache)
        results.append(result)
        if progress is not None:
            progress(result)
    return results


def retry_inline(settings: Settings, run_id: int, *, force: bool = False) -> StepResult:
    """Finish a run in this process: the same preconditions as an RQ retry, refusing while a
    worker may still hold one of its partitions (unless `force`), then `execute_run`."""
    engine = engine_for(settings.database_url)
    is_pending = (lambda _index: False) if force else held_by_rq(settings, queue_connection(settings), run_id)
    check_retry(engine, run_id, is_pending, force=force, all_or_nothing=True)
    return execute_run(settings, engine, run_id)

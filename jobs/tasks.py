"""The functions RQ workers execute. Each reads settings from the environment, so a job
carries only ids (never a database URL or password) through Redis."""

from __future__ import annotations

from rq import get_current_job

from jobs.engine import engine_for
from jobs.errors import is_transient
from jobs.logs import log
from jobs.run_steps import finalize_run, run_partition
from models.figures.cache import FigureCache
from models.redis_conn import make_redis
from settings import load_settings


def _no_retry_unless_transient(exc: BaseException) -> None:
    """RQ retries every exception; a permanent one (no price plan, bad id) would only fail again."""
    job = get_current_job()
    if job is not None and not is_transient(exc):
        job.retries_left = 0


def partition_task(partition_id: int) -> dict:
    settings = load_settings()
    job = get_current_job()
    try:
        return run_partition(engine_for(settings.database_url), partition_id,
                             job_id=job.id if job else None, worker=job.worker_name if job else None,
                             lock_wait_seconds=settings.batch_lock_wait_seconds).as_dict()
    except BaseException as exc:
        _no_retry_unless_transient(exc)
        raise


def finalize_task(run_id: int) -> dict:
    settings = load_settings()
    try:
        engine = engine_for(settings.database_url)
        return finalize_run(engine, run_id, cache=FigureCache(make_redis(settings.cache_redis_url), engine=engine),
                            lock_wait_seconds=settings.batch_lock_wait_seconds).as_dict()
    except BaseException as exc:
        _no_retry_unless_transient(exc)
        raise


def nightly_task() -> int | None:
    """Enqueue yesterday's run (business time) unless a nightly run of it already exists."""
    from jobs.enqueue import enqueue_nightly

    run_id = enqueue_nightly(load_settings())
    if run_id is None:
        log.info("nightly run already enqueued for yesterday; nothing to do")
    return run_id


def finalize_statements_task() -> dict:
    """The scheduled finalization (daily at 03:00 business time): last month, once it is due."""
    from jobs.statements import finalize_due

    return finalize_due(load_settings())

"""The steps of a run: computing one partition, then the final step (rollups, Top-5, run state).

Each step records what it did so an operator can see state, attempt, timings, rows and
errors, and retry exactly what failed. The data of a partition is written in the same
transaction that marks it succeeded: either both happen or neither does, whatever kills the
process. The RQ path (jobs/tasks.py) and the in-process runner (jobs/inline.py) call the same
functions here and differ only in who calls them.
"""

from __future__ import annotations

import time
import traceback
from datetime import date

from sqlalchemy import Connection, Engine, func, select, text, update

from jobs import pipeline
from jobs.errors import PermanentJobError
from jobs.logs import job_context, log
from jobs.run_state import StepResult
from models.base import utcnow
from models.batch.tables import BatchPartition, BatchRun, RunState
from models.business_time import days_between
from models.figures.cache import FigureCache
from models.figures.period_calendar import rollup_periods
from models.figures.rankings import materialize_top
from models.figures.tables import PeriodKind
from models.money.pricing import as_date, plan_for_day

ERROR_LIMIT = 4000


def _error_text(exc: BaseException) -> str:
    text_ = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return text_[:ERROR_LIMIT]


def run_partition(engine: Engine, partition_id: int, *, job_id: str | None = None,
                  lock_wait_seconds: int = 60, worker: str | None = None) -> StepResult:
    """Compute one partition; raises on failure after recording it. A partition an admin
    cancelled is skipped: the claim below only takes a row that is not cancelled."""
    now = utcnow()
    with engine.begin() as conn:
        row = conn.execute(
            select(BatchPartition.run_id, BatchPartition.partition_index, BatchPartition.state,
                   BatchPartition.video_id_lo, BatchPartition.video_id_hi, BatchPartition.rows_written,
                   BatchRun.day)
            .join(BatchRun, BatchRun.id == BatchPartition.run_id)
            .where(BatchPartition.id == partition_id)
        ).first()
        if row is None:
            raise PermanentJobError(f"batch partition {partition_id} does not exist")
        day = as_date(row.day)
        if row.state == RunState.SUCCEEDED:
            # Delivered twice (a requeue of a finished job): its rows are already there.
            with job_context(row.run_id, day, row.partition_index):
                log.info("partition already succeeded; nothing to do")
            return StepResult(row.run_id, day, RunState.SUCCEEDED, row.rows_written, skipped=True)
        claimed = conn.execute(
            update(BatchPartition).where(BatchPartition.id == partition_id,
                                         BatchPartition.state != RunState.CANCELLED).values(
                state=RunState.RUNNING, attempt=BatchPartition.attempt + 1, started_at=now,
                finished_at=None, error=None, **({"job_id": job_id} if job_id else {}),
                **({"worker": worker} if worker else {}))
        ).rowcount
        if not claimed:
            return StepResult(row.run_id, day, RunState.CANCELLED, 0, skipped=True)
        conn.execute(
            update(BatchRun).where(BatchRun.id == row.run_id).values(
                state=RunState.RUNNING, started_at=func.coalesce(BatchRun.started_at, now), error=None,
                finished_at=None)
        )
    with job_context(row.run_id, day, row.partition_index):
        log.info("partition started: videos %s-%s", row.video_id_lo, row.video_id_hi)
        try:
            with _writer(engine, lock_wait_seconds) as conn:
                pipeline.lock_videos(conn, row.video_id_lo, row.video_id_hi)
                plan = plan_for_day(conn, day)
                if plan is None:
                    raise PermanentJobError(f"no price plan is in force on {day.isoformat()}")
                result = pipeline.compute_partition(conn, day, row.video_id_lo, row.video_id_hi, plan,
                                                   run_id=row.run_id)
                conn.execute(
                    update(BatchPartition).where(BatchPartition.id == partition_id).values(
                        state=RunState.SUCCEEDED, finished_at=utcnow(), rows_written=result.rows_written)
                )
        except BaseException as exc:
            _record_partition_failure(engine, partition_id, exc)
            log.error("partition failed: %s", _error_text(exc))
            raise
        log.info("partition succeeded: %d stats rows, %d settlement rows, %d later rows updated",
                 result.stats_rows, result.settlement_rows, result.later_rows)
        return StepResult(row.run_id, day, RunState.SUCCEEDED, result.rows_written)


class _writer:
    """A write transaction: READ COMMITTED and a bounded lock wait on MariaDB/MySQL."""

    def __init__(self, engine: Engine, lock_wait_seconds: int) -> None:
        self.engine = engine
        self.lock_wait_seconds = lock_wait_seconds

    def __enter__(self) -> Connection:
        conn = self.engine.connect()
        mysql = conn.dialect.name in ("mysql", "mariadb")
        if mysql:
            conn = conn.execution_options(isolation_level="READ COMMITTED")
        self.conn = conn
        self.tx = conn.begin()
        if mysql:
            conn.exec_driver_sql(f"SET SESSION innodb_lock_wait_timeout = {int(self.lock_wait_seconds)}")
        return conn

    def __exit__(self, exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        try:
            if exc_type is None:
                self.tx.commit()
            else:
                self.tx.rollback()
        finally:
            self.conn.close()


# Waits between attempts to record a partition's failure: a database that restarted under the
# partition is usually back within seconds, and the run should then say FAILED, not RUNNING.
RECORD_FAILURE_WAITS = (0.5, 1, 2, 4, 4)


def _record_partition_failure(engine: Engine, partition_id: int, exc: BaseException) -> None:
    for wait in (*RECORD_FAILURE_WAITS, None):
        try:
            with engine.begin() as conn:
                conn.execute(update(BatchPartition).where(BatchPartition.id == partition_id).values(
                    state=RunState.FAILED, finished_at=utcnow(), error=_error_text(exc)))
            return
        except Exception:  # the database may be what failed; the job failure itself is still reported
            if wait is None:
                log.exception("could not record the failure of partition %s", partition_id)
                return
            log.warning("could not record the failure of partition %s yet; trying again in %ss", partition_id, wait)
            time.sleep(wait)


def finalize_run(engine: Engine, run_id: int, *, cache: FigureCache | None = None,
                 lock_wait_seconds: int = 60) -> StepResult:
    """Rollups, Top-5 and run state once every partition of the run is done, then drop the
    cached figures of what changed (after the commit, so no reader can cache old rows anew)."""
    with engine.begin() as conn:
        run = conn.execute(select(BatchRun.day, BatchRun.state).where(BatchRun.id == run_id)).first()
        if run is None:
            raise PermanentJobError(f"batch run {run_id} does not exist")
        day = as_date(run.day)
        if run.state == RunState.CANCELLED:
            return StepResult(run_id, day, RunState.CANCELLED, 0, skipped=True)
        parts = conn.execute(
            select(BatchPartition.partition_index, BatchPartition.state, BatchPartition.rows_written)
            .where(BatchPartition.run_id == run_id).order_by(BatchPartition.partition_index)
        ).all()
        now = utcnow()
        unfinished = [p.partition_index for p in parts if p.state != RunState.SUCCEEDED]
        if unfinished:
            error = f"partitions {', '.join(map(str, unfinished))} did not succeed; retry them to finish the day"
            conn.execute(update(BatchRun).where(BatchRun.id == run_id).values(
                state=RunState.FAILED, finished_at=now, error=error))
        else:
            conn.execute(update(BatchRun).where(BatchRun.id == run_id).values(
                state=RunState.RUNNING, finalize_started_at=now, started_at=func.coalesce(BatchRun.started_at, now)))
    with job_context(run_id, day):
        if unfinished:
            log.error("run failed: %s", error)
            return StepResult(run_id, day, RunState.FAILED, 0)
        log.info("final step started")
        try:
            with _writer(engine, lock_wait_seconds) as conn:
                rows, touched = _final_writes(conn, day)
                total = rows + sum(p.rows_written for p in parts)
                conn.execute(update(BatchRun).where(BatchRun.id == run_id).values(
                    state=RunState.SUCCEEDED, finished_at=utcnow(), rows_written=total, error=None))
        except BaseException as exc:
            with engine.begin() as conn:
                conn.execute(update(BatchRun).where(BatchRun.id == run_id).values(
                    state=RunState.FAILED, finished_at=utcnow(), error=_error_text(exc)))
            log.error("final step failed: %s", _error_text(exc))
            raise
        if cache is not None and not cache.invalidate(touched):
            log.warning("could not invalidate the cached figures (database unavailable); they expire on their own")
        log.info("run succeeded: %d rows written", total)
        return StepResult(run_id, day, RunState.SUCCEEDED, total)


def _final_writes(conn: Connection, day: date) -> tuple[int, list[tuple[str, date]]]:
    """Top-5 of the day, its week and its month; which cached figures the run changed.

    The partitions already brought the rollups up to date. A re-run of a past day also
    moved the running totals (and `lifetime` amounts) of every later day, so their cached
    figures go too.
    """
    rows = materialize_top(conn, PeriodKind.DAY, day)
    for period, start, _ in rollup_periods(day):
        rows += materialize_top(conn, PeriodKind(period.value), start)
    last_day = conn.execute(text("SELECT MAX(day) FROM video_daily_stats")).scalar()
    later = days_between(day, as_date(last_day)) if last_day is not None else [day]
    return rows, [("day", d) for d in later or [day]]

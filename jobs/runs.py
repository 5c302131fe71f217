"""Runs and partitions: planning them, and executing one partition or the final step.

Each step records what it did in `batch_runs` / `batch_partitions` so an operator can
see state, attempt, timings, rows and errors, and retry exactly what failed. The data
of a partition is written in the same transaction that marks it succeeded: either both
happen or neither does, whatever kills the process.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, Engine, func, select, text, update
from sqlalchemy.orm import Session

from jobs import pipeline
from jobs.errors import PermanentJobError
from jobs.logs import job_context, log
from models.base import utcnow
from models.batch import BatchPartition, BatchRun, RunState, RunTrigger
from models.business_time import days_between
from models.catalog import Video
from models.figure_cache import FigureCache
from models.stats import PeriodKind

ERROR_LIMIT = 4000


def partition_job_id(run_id: int, index: int) -> str:
    return f"batch-run-{run_id}-part-{index}"


def final_job_id(run_id: int) -> str:
    return f"batch-run-{run_id}-final"


def partition_ranges(session: Session, partitions: int) -> list[tuple[int, int]]:
    """Contiguous video-id ranges with about the same number of videos each (NTILE)."""
    bucket = func.ntile(partitions).over(order_by=Video.id).label("bucket")
    numbered = select(Video.id, bucket).subquery()
    rows = session.execute(
        select(func.min(numbered.c.id), func.max(numbered.c.id))
        .group_by(numbered.c.bucket)
        .order_by(numbered.c.bucket)
    ).all()
    ranges: list[tuple[int, int]] = []
    for index, (_, hi) in enumerate(rows):
        # Start where the previous range ended so no id between two buckets is ever left out.
        lo = 0 if index == 0 else ranges[-1][1] + 1
        ranges.append((lo, int(hi)))
    return ranges


def plan_runs(session: Session, days: list[date], trigger: RunTrigger, *, partitions: int,
              requested_by: int | None = None) -> list[BatchRun]:
    """One queued run per day with its partitions (the same ranges for every day)."""
    ranges = partition_ranges(session, partitions)
    runs: list[BatchRun] = []
    for day in days:
        run = BatchRun(day=day, trigger=trigger, state=RunState.QUEUED, requested_by=requested_by,
                       partitions_total=len(ranges), rows_written=0, created_at=utcnow())
        run.partitions = [
            BatchPartition(partition_index=i, video_id_lo=lo, video_id_hi=hi, state=RunState.QUEUED,
                           attempt=0, rows_written=0)
            for i, (lo, hi) in enumerate(ranges)
        ]
        session.add(run)
        runs.append(run)
    session.flush()
    for run in runs:
        for part in run.partitions:
            part.job_id = partition_job_id(run.id, part.partition_index)
    session.flush()
    return runs


@dataclass(frozen=True)
class StepResult:
    run_id: int
    day: date
    state: RunState
    rows_written: int
    skipped: bool = False

    def as_dict(self) -> dict:
        return {"run_id": self.run_id, "day": self.day.isoformat(), "state": self.state.value,
                "rows_written": self.rows_written, "skipped": self.skipped}


def _error_text(exc: BaseException) -> str:
    text_ = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return text_[:ERROR_LIMIT]


def run_partition(engine: Engine, partition_id: int, *, job_id: str | None = None,
                  lock_wait_seconds: int = 60) -> StepResult:
    """Compute one partition; raises on failure after recording it."""
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
        day = pipeline._as_date(row.day)
        if row.state == RunState.SUCCEEDED:
            # Delivered twice (a requeue of a finished job): its rows are already there.
            with job_context(row.run_id, day, row.partition_index):
                log.info("partition already succeeded; nothing to do")
            return StepResult(row.run_id, day, RunState.SUCCEEDED, row.rows_written, skipped=True)
        conn.execute(
            update(BatchPartition).where(BatchPartition.id == partition_id).values(
                state=RunState.RUNNING, attempt=BatchPartition.attempt + 1, started_at=now,
                finished_at=None, error=None, **({"job_id": job_id} if job_id else {}))
        )
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
                plan = pipeline.plan_for_day(conn, day)
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


def _record_partition_failure(engine: Engine, partition_id: int, exc: BaseException) -> None:
    try:
        with engine.begin() as conn:
            conn.execute(update(BatchPartition).where(BatchPartition.id == partition_id).values(
                state=RunState.FAILED, finished_at=utcnow(), error=_error_text(exc)))
    except Exception:  # the database may be what failed; the job failure itself is still reported
        log.exception("could not record the failure of partition %s", partition_id)


def finalize_run(engine: Engine, run_id: int, *, cache: FigureCache | None = None,
                 lock_wait_seconds: int = 60) -> StepResult:
    """Rollups, Top-5 and run state once every partition of the run is done, then drop the
    cached figures of what changed (after the commit, so no reader can cache old rows anew)."""
    with engine.begin() as conn:
        run = conn.execute(select(BatchRun.day, BatchRun.state).where(BatchRun.id == run_id)).first()
        if run is None:
            raise PermanentJobError(f"batch run {run_id} does not exist")
        day = pipeline._as_date(run.day)
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
            log.warning("could not invalidate the cached figures (Redis unavailable); they expire on their own")
        log.info("run succeeded: %d rows written", total)
        return StepResult(run_id, day, RunState.SUCCEEDED, total)


def _final_writes(conn: Connection, day: date) -> tuple[int, list[tuple[str, date]]]:
    """Top-5 of the day, its week and its month; which cached figures the run changed.

    The partitions already brought the rollups up to date. A re-run of a past day also
    moved the running totals (and `lifetime` amounts) of every later day, so their cached
    figures go too.
    """
    rows = pipeline.write_top(conn, PeriodKind.DAY, day)
    for period, start, _ in pipeline.periods_of(day):
        rows += pipeline.write_top(conn, PeriodKind(period.value), start)
    last_day = conn.execute(text("SELECT MAX(day) FROM video_daily_stats")).scalar()
    later = days_between(day, pipeline._as_date(last_day)) if last_day is not None else [day]
    return rows, [("day", d) for d in later or [day]]

"""Runs and partitions: the one owner of the batch's bookkeeping (`batch_runs` /
`batch_partitions`) — planning runs, executing one partition or the final step, the
preconditions of a retry, and every read of run and partition state the enqueuer, the
in-process runner and the command line need.

Each step records what it did so an operator can see state, attempt, timings, rows and
errors, and retry exactly what failed. The data of a partition is written in the same
transaction that marks it succeeded: either both happen or neither does, whatever kills the
process. The RQ path (jobs/enqueue.py, jobs/tasks.py) and the in-process runner
(jobs/inline.py) call the same functions here and differ only in who calls them.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, Engine, func, select, text, update
from sqlalchemy.orm import Session

from jobs import pipeline
from jobs.errors import BatchRequestError, PermanentJobError
from jobs.logs import job_context, log
from models.base import utcnow
from models.batch.named_lock import LockBusy, named_lock
from models.batch.tables import BatchPartition, BatchRun, RunState, RunTrigger
from models.business_time import days_between
from models.catalog.tables import Video
from models.db import database_identity
from models.figures.cache import FigureCache
from models.money.pricing import as_date, plan_for_day
from models.figures.rankings import materialize_top
from models.figures.tables import PeriodKind

ERROR_LIMIT = 4000


def partition_job_id(database: str, run_id: int, index: int) -> str:
    """The RQ job id of a run's partition. Run ids restart with every database, so the id
    carries the database's identity (models/db.py `database_identity`): a run of another
    database sharing the Redis — an earlier test session, a database rebuilt from scratch —
    is never taken for this one's."""
    return f"batch-{database}-run-{run_id}-part-{index}"


def final_job_id(database: str, run_id: int) -> str:
    return f"batch-{database}-run-{run_id}-final"


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
    database = database_identity(session.get_bind().url)
    for run in runs:
        for part in run.partitions:
            part.job_id = partition_job_id(database, run.id, part.partition_index)
    session.flush()
    return runs


@dataclass(frozen=True)
class PlannedRun:
    run_id: int
    day: date
    partitions: list[tuple[int, int]]  # (partition id, index)


def plan_days(engine: Engine, days: list[date], trigger: RunTrigger, *, partitions: int,
              requested_by: int | None = None) -> list[PlannedRun]:
    """Plan one run per day (in order) and commit them, for the RQ path and the inline runner alike."""
    with Session(engine) as session, session.begin():
        runs = plan_runs(session, days, trigger, partitions=partitions, requested_by=requested_by)
        return [PlannedRun(run.id, run.day, [(p.id, p.partition_index) for p in run.partitions]) for run in runs]


def latest_open_run(engine: Engine, exclude: Sequence[int]) -> int | None:
    """The latest run still queued or running, other than `exclude`."""
    with engine.connect() as conn:
        return conn.scalar(
            select(BatchRun.id)
            .where(BatchRun.state.in_([RunState.QUEUED, RunState.RUNNING]), BatchRun.id.not_in(list(exclude) or [0]))
            .order_by(BatchRun.id.desc())
            .limit(1)
        )


def _nightly_run_of(day: date):  # type: ignore[no-untyped-def]
    return select(BatchRun.id).where(BatchRun.day == day, BatchRun.trigger == RunTrigger.NIGHTLY).limit(1)


def nightly_run_exists(engine: Engine, day: date) -> bool:
    with engine.connect() as conn:
        return conn.scalar(_nightly_run_of(day)) is not None


NIGHTLY_LOCK_WAIT_SECONDS = 60


@contextmanager
def _nightly_lock(engine: Engine, day: date) -> Iterator[None]:
    """On MariaDB/MySQL, a cluster-wide named lock (a lease row, models/batch/named_lock.py) for
    planning `day`'s nightly run, taken and released in transactions of its own so it spans the
    planning transaction's commit. Not GET_LOCK: under Galera each node grants that on its own.
    SQLite needs none: `plan_nightly` takes its database write lock before looking."""
    if engine.dialect.name not in ("mysql", "mariadb"):
        yield
        return
    try:
        with named_lock(engine, f"paysystem:nightly:{day.isoformat()}", wait=NIGHTLY_LOCK_WAIT_SECONDS):
            yield
    except LockBusy as exc:
        raise BatchRequestError(f"the nightly run of {day} is being planned elsewhere; gave up after "
                                f"{NIGHTLY_LOCK_WAIT_SECONDS} s") from exc


def plan_nightly(engine: Engine, day: date, *, partitions: int) -> PlannedRun | None:
    """Plan the nightly run of `day` (committed) unless one exists; None when it does.

    Several copies of the nightly job can run at the same instant — a scheduler restarted
    while a copy was still queued, two workers taking them — and a plain "exists? then
    insert" let each of them start a run (issue 13). The look and the insert are therefore
    serialised: by a named lock on MariaDB, by SQLite's single write lock there.
    """
    with _nightly_lock(engine, day), Session(engine) as session, session.begin():
        if engine.dialect.name == "sqlite":  # a write first: BEGIN + the database's write lock
            session.execute(update(BatchRun).where(BatchRun.id == -1).values(error=None))
        if session.scalar(_nightly_run_of(day)) is not None:
            return None
        [run] = plan_runs(session, [day], RunTrigger.NIGHTLY, partitions=partitions)
        return PlannedRun(run.id, run.day, [(p.id, p.partition_index) for p in run.partitions])


def check_retry(engine: Engine, run_id: int, is_pending: Callable[[int], bool], *, force: bool = False,
                all_or_nothing: bool = False) -> tuple[date, list[tuple[int, int]]]:
    """The preconditions of a retry, for both paths; the run's day and the (partition id, index)
    of the partitions to run again.

    The run must exist and not have succeeded. A partition that did not succeed is run again
    unless RQ still holds its job (`is_pending(index)`), which `force` overrides (its worker
    is gone). The RQ path refuses only when every such partition is still held; the
    in-process runner (`all_or_nothing`) runs every unfinished partition, so it refuses when
    any is still held, rather than race a worker.
    """
    with engine.connect() as conn:
        run = conn.execute(select(BatchRun.day, BatchRun.state).where(BatchRun.id == run_id)).first()
        if run is None:
            raise BatchRequestError(f"batch run {run_id} does not exist")
        parts = conn.execute(
            select(BatchPartition.id, BatchPartition.partition_index)
            .where(BatchPartition.run_id == run_id, BatchPartition.state != RunState.SUCCEEDED)
            .order_by(BatchPartition.partition_index)
        ).all()
    day = as_date(run.day)
    if run.state == RunState.SUCCEEDED:
        raise BatchRequestError(f"batch run {run_id} already succeeded; start a new run of {day} to recompute it")
    chosen = [(p.id, p.partition_index) for p in parts if force or not is_pending(p.partition_index)]
    held = sorted({p.partition_index for p in parts} - {index for _, index in chosen})
    if held and (all_or_nothing or not chosen):
        raise BatchRequestError(
            f"partitions {', '.join(map(str, held))} of run {run_id} are still queued or running on a worker; "
            "use --force if their worker is gone"
        )
    return day, chosen


def reset_for_retry(engine: Engine, run_id: int, partition_ids: Sequence[int]) -> None:
    """Mark a run and the partitions about to run again as queued."""
    with engine.begin() as conn:
        conn.execute(update(BatchRun).where(BatchRun.id == run_id).values(
            state=RunState.QUEUED, finished_at=None, error=None))
        if partition_ids:
            conn.execute(update(BatchPartition).where(BatchPartition.id.in_(list(partition_ids))).values(
                state=RunState.QUEUED, error=None))


def unfinished_partitions(engine: Engine, run_id: int) -> list[int]:
    """Ids of the run's partitions that have not succeeded, in partition order."""
    with engine.connect() as conn:
        return list(conn.scalars(
            select(BatchPartition.id)
            .where(BatchPartition.run_id == run_id, BatchPartition.state != RunState.SUCCEEDED)
            .order_by(BatchPartition.partition_index)
        ))


def run_result(engine: Engine, run_id: int) -> StepResult:
    """Where a run stands, as a step result."""
    with engine.connect() as conn:
        run = conn.execute(select(BatchRun.day, BatchRun.state, BatchRun.rows_written)
                           .where(BatchRun.id == run_id)).one()
    return StepResult(run_id, as_date(run.day), RunState(run.state), run.rows_written)


ACTIVE_STATES = (RunState.QUEUED, RunState.RUNNING)


def active_runs(engine: Engine, days: Sequence[date]) -> dict[date, int]:
    """The latest queued or running run of each of `days` that has one."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(BatchRun.day, BatchRun.id)
            .where(BatchRun.day.in_(list(days)), BatchRun.state.in_(ACTIVE_STATES)).order_by(BatchRun.id)
        ).all()
    return {as_date(day): run_id for day, run_id in rows}


def mark_backfill(engine: Engine, run_ids: Sequence[int]) -> None:
    """The runs of one backfill share `backfill_id` (its first run's id), so it can be cancelled whole."""
    with engine.begin() as conn:
        conn.execute(update(BatchRun).where(BatchRun.id.in_(list(run_ids))).values(backfill_id=run_ids[0]))


def run_state(engine: Engine, run_id: int) -> RunState | None:
    with engine.connect() as conn:
        return conn.execute(select(BatchRun.state).where(BatchRun.id == run_id)).scalar()


def backfill_runs(engine: Engine, backfill_id: int) -> list[int]:
    """A backfill's runs, latest day first (the order in which they are cancelled)."""
    with engine.connect() as conn:
        return list(conn.execute(
            select(BatchRun.id).where(BatchRun.backfill_id == backfill_id).order_by(BatchRun.day.desc())
        ).scalars())


def cancel_unstarted_run(engine: Engine, run_id: int) -> bool | None:
    """Cancel a run none of whose partitions has started: True when cancelled now, None when
    it already was, False when it has started (then it runs whole).

    The partition rows are locked and checked in one transaction, and a worker claims a
    partition only if it is not cancelled (`run_partition`), so a day is either cancelled
    whole or runs whole.
    """
    with engine.begin() as conn:
        state = conn.execute(select(BatchRun.state).where(BatchRun.id == run_id).with_for_update()).scalar()
        parts = conn.execute(
            select(BatchPartition.state, BatchPartition.attempt)
            .where(BatchPartition.run_id == run_id).with_for_update()
        ).all()
        if state == RunState.CANCELLED:
            return None
        if state != RunState.QUEUED or any(p.state != RunState.QUEUED or p.attempt for p in parts):
            return False
        now = utcnow()
        conn.execute(update(BatchPartition).where(BatchPartition.run_id == run_id).values(
            state=RunState.CANCELLED, finished_at=now))
        conn.execute(update(BatchRun).where(BatchRun.id == run_id).values(
            state=RunState.CANCELLED, finished_at=now, error="cancelled by an admin before it started"))
    return True


def run_states(engine: Engine, run_ids: Sequence[int]) -> dict[int, RunState]:
    with engine.connect() as conn:
        rows = conn.execute(select(BatchRun.id, BatchRun.state).where(BatchRun.id.in_(list(run_ids)))).all()
    return {r.id: RunState(r.state) for r in rows}


def failed_runs(engine: Engine, run_ids: Sequence[int]) -> list[tuple[int, date, str | None]]:
    """(run id, day, error) of the runs among `run_ids` that failed."""
    with engine.connect() as conn:
        rows = conn.execute(select(BatchRun.id, BatchRun.day, BatchRun.error)
                            .where(BatchRun.id.in_(list(run_ids)), BatchRun.state == RunState.FAILED)).all()
    return [(r.id, as_date(r.day), r.error) for r in rows]


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
            log.warning("could not invalidate the cached figures (Redis unavailable); they expire on their own")
        log.info("run succeeded: %d rows written", total)
        return StepResult(run_id, day, RunState.SUCCEEDED, total)


def _final_writes(conn: Connection, day: date) -> tuple[int, list[tuple[str, date]]]:
    """Top-5 of the day, its week and its month; which cached figures the run changed.

    The partitions already brought the rollups up to date. A re-run of a past day also
    moved the running totals (and `lifetime` amounts) of every later day, so their cached
    figures go too.
    """
    rows = materialize_top(conn, PeriodKind.DAY, day)
    for period, start, _ in pipeline.periods_of(day):
        rows += materialize_top(conn, PeriodKind(period.value), start)
    last_day = conn.execute(text("SELECT MAX(day) FROM video_daily_stats")).scalar()
    later = days_between(day, as_date(last_day)) if last_day is not None else [day]
    return rows, [("day", d) for d in later or [day]]

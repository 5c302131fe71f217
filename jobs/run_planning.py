"""Planning runs: the partitions of a day, one queued run per day, and the nightly run that
must exist once whatever number of copies of the nightly job ask for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from jobs.job_ids import partition_job_id
from jobs.nightly_lock import nightly_lock
from models.base import utcnow
from models.batch.tables import BatchPartition, BatchRun, RunState, RunTrigger
from models.catalog.tables import Video
from models.db import database_identity


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


def _nightly_run_of(day: date):  # type: ignore[no-untyped-def]
    return select(BatchRun.id).where(BatchRun.day == day, BatchRun.trigger == RunTrigger.NIGHTLY).limit(1)


def nightly_run_exists(engine: Engine, day: date) -> bool:
    with engine.connect() as conn:
        return conn.scalar(_nightly_run_of(day)) is not None


def plan_nightly(engine: Engine, day: date, *, partitions: int) -> PlannedRun | None:
    """Plan the nightly run of `day` (committed) unless one exists; None when it does.

    Several copies of the nightly job can run at the same instant — a scheduler restarted
    while a copy was still queued, two workers taking them — and a plain "exists? then
    insert" let each of them start a run (issue 13). The look and the insert are therefore
    serialised: by a named lock on MariaDB, by SQLite's single write lock there.
    """
    with nightly_lock(engine, day), Session(engine) as session, session.begin():
        if engine.dialect.name == "sqlite":  # a write first: BEGIN + the database's write lock
            session.execute(update(BatchRun).where(BatchRun.id == -1).values(error=None))
        if session.scalar(_nightly_run_of(day)) is not None:
            return None
        [run] = plan_runs(session, [day], RunTrigger.NIGHTLY, partitions=partitions)
        return PlannedRun(run.id, run.day, [(p.id, p.partition_index) for p in run.partitions])

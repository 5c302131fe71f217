"""Where runs stand: the reads of run state the enqueuer, the in-process runner and the command
line need, and the state changes made outside a step (a backfill's mark, an admin's cancel)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, select, update

from models.base import utcnow
from models.batch.tables import BatchPartition, BatchRun, RunState
from models.money.pricing import as_date


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


ACTIVE_STATES = (RunState.QUEUED, RunState.RUNNING)


def latest_open_run(engine: Engine, exclude: Sequence[int]) -> int | None:
    """The latest run still queued or running, other than `exclude`."""
    with engine.connect() as conn:
        return conn.scalar(
            select(BatchRun.id)
            .where(BatchRun.state.in_([RunState.QUEUED, RunState.RUNNING]), BatchRun.id.not_in(list(exclude) or [0]))
            .order_by(BatchRun.id.desc())
            .limit(1)
        )


def run_result(engine: Engine, run_id: int) -> StepResult:
    """Where a run stands, as a step result."""
    with engine.connect() as conn:
        run = conn.execute(select(BatchRun.day, BatchRun.state, BatchRun.rows_written)
                           .where(BatchRun.id == run_id)).one()
    return StepResult(run_id, as_date(run.day), RunState(run.state), run.rows_written)


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

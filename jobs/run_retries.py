"""The preconditions of a retry and what it resets, one home for the RQ path (jobs/enqueue.py)
and the in-process runner (jobs/inline.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from sqlalchemy import Engine, select, update

from jobs.errors import BatchRequestError
from models.batch.tables import BatchPartition, BatchRun, RunState
from models.money.pricing import as_date


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
            raise BatchRequestError(f"batch run {run_id} does not exist", kind="not_found", code="not_found")
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

"""How far a running backfill has got (issue 21, item 13): days done of its total, and when
it should end, from the average duration of its days so far.

A backfill is many runs sharing `backfill_id`, one a day, run one after another; on the runs
page they used to sit among the other runs of their days, far down, with nothing saying how
far the whole had got. Read from the run bookkeeping only, so it is right whichever worker
host runs the days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.batch.tables import BatchRun, RunState

_ACTIVE = (RunState.QUEUED, RunState.RUNNING)
_DONE = (RunState.SUCCEEDED, RunState.FAILED)


def _aware(instant: datetime) -> datetime:
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


@dataclass(frozen=True)
class BackfillProgress:
    """One backfill that still has days queued or running. Cancelled days are not counted."""

    backfill_id: int
    first_day: date
    last_day: date
    total: int  # days that will be computed (cancelled ones left out)
    done: int  # days finished, succeeded or failed
    failed: int
    running_day: date | None
    average_seconds: float | None  # of the finished days; None before the first one ends
    running_seconds: float  # how long the running day has taken so far

    @property
    def percent(self) -> int:
        return 0 if not self.total else round(100 * self.done / self.total)

    @property
    def eta_seconds(self) -> int | None:
        """Seconds until the last day should finish: the average day for every day not done,
        less what the running day has already taken. None until a day has finished."""
        if self.average_seconds is None:
            return None
        left = self.average_seconds * (self.total - self.done) - min(self.running_seconds, self.average_seconds)
        return max(0, round(left))


def active_backfills(session: Session, now: datetime | None = None) -> list[BackfillProgress]:
    """Every backfill with a day queued or running, newest first (usually none or one)."""
    ids = session.scalars(select(BatchRun.backfill_id).distinct().where(
        BatchRun.backfill_id.is_not(None), BatchRun.state.in_(_ACTIVE))).all()
    if not ids:
        return []
    now = now or datetime.now(UTC)
    rows = session.execute(select(BatchRun.backfill_id, BatchRun.day, BatchRun.state, BatchRun.started_at,
                                  BatchRun.finished_at).where(BatchRun.backfill_id.in_(ids))).all()
    result = []
    for backfill_id in sorted(ids, reverse=True):
        runs = [row for row in rows if row.backfill_id == backfill_id and row.state != RunState.CANCELLED]
        finished = [row for row in runs if row.state in _DONE and row.started_at and row.finished_at]
        seconds = [(_aware(row.finished_at) - _aware(row.started_at)).total_seconds() for row in finished]
        running = [row for row in runs if row.state == RunState.RUNNING]
        running_seconds = max(((now - _aware(row.started_at)).total_seconds() for row in running if row.started_at),
                              default=0.0)
        result.append(BackfillProgress(
            backfill_id=int(backfill_id), first_day=min(row.day for row in runs), last_day=max(row.day for row in runs),
            total=len(runs), done=sum(row.state in _DONE for row in runs),
            failed=sum(row.state == RunState.FAILED for row in runs),
            running_day=min((row.day for row in running), default=None),
            average_seconds=sum(seconds) / len(seconds) if seconds else None, running_seconds=running_seconds))
    return result

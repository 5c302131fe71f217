"""The retry preconditions exist once (jobs/run_retries.py check_retry) and both paths use them:
the RQ path refuses only when every unfinished partition is still held by RQ; the
in-process runner refuses when any is, since it would run them all."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import update

from jobs.errors import BatchRequestError
from jobs.run_planning import plan_days
from jobs.run_retries import check_retry, reset_for_retry, unfinished_partitions
from jobs.run_state import run_result
from models import BatchPartition, BatchRun, Role, RunState, RunTrigger
from tests.watching_support import add_video


def test_retry_preconditions(engine, make_user, session_factory):
    seller = make_user(Role.SELLER)
    for _ in range(3):
        add_video(session_factory, seller, seconds=5)
    [run] = plan_days(engine, [date(2020, 1, 6)], RunTrigger.MANUAL, partitions=3)
    assert len(run.partitions) == 3
    first, second, third = run.partitions
    with engine.begin() as conn:
        conn.execute(update(BatchPartition).where(BatchPartition.id == first[0]).values(state=RunState.SUCCEEDED))
        conn.execute(update(BatchRun).where(BatchRun.id == run.run_id).values(state=RunState.FAILED))
    nothing_held = lambda _index: False  # noqa: E731
    held_second = lambda index: index == second[1]  # noqa: E731
    assert check_retry(engine, run.run_id, nothing_held) == (run.day, [second, third])
    assert check_retry(engine, run.run_id, held_second) == (run.day, [third])
    with pytest.raises(BatchRequestError, match="still queued or running"):
        check_retry(engine, run.run_id, held_second, all_or_nothing=True)
    with pytest.raises(BatchRequestError, match="still queued or running"):
        check_retry(engine, run.run_id, lambda _index: True)
    assert check_retry(engine, run.run_id, lambda _index: True, force=True, all_or_nothing=True)[1] == [second, third]
    with pytest.raises(BatchRequestError, match="does not exist"):
        check_retry(engine, 10**9, nothing_held)

    reset_for_retry(engine, run.run_id, [third[0]])
    assert run_result(engine, run.run_id).state == RunState.QUEUED
    assert unfinished_partitions(engine, run.run_id) == [second[0], third[0]]
    with engine.begin() as conn:
        conn.execute(update(BatchRun).where(BatchRun.id == run.run_id).values(state=RunState.SUCCEEDED))
    with pytest.raises(BatchRequestError, match="already succeeded"):
        check_retry(engine, run.run_id, nothing_held)
    with engine.begin() as conn:  # leave the shared test database as it was
        conn.execute(BatchPartition.__table__.delete().where(BatchPartition.run_id == run.run_id))
        conn.execute(BatchRun.__table__.delete().where(BatchRun.id == run.run_id))

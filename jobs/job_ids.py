"""The RQ job ids of a run's steps: recorded when a run is planned, enqueued under by
jobs/enqueue.py, looked up to tell whether RQ still holds a step."""

from __future__ import annotations


def partition_job_id(database: str, run_id: int, index: int) -> str:
    """The RQ job id of a run's partition. Run ids restart with every database, so the id
    carries the database's identity (models/db.py `database_identity`): a run of another
    database sharing the Redis — an earlier test session, a database rebuilt from scratch —
    is never taken for this one's."""
    return f"batch-{database}-run-{run_id}-part-{index}"


def final_job_id(database: str, run_id: int) -> str:
    return f"batch-{database}-run-{run_id}-final"

"""A batch job id that comes back (retry, a database started again, databases sharing one Redis)
starts with only its own dependencies (jobs/enqueue.py `_enqueue`)."""

from __future__ import annotations

import uuid

from rq import Queue
from rq.job import JobStatus


def test_a_reused_job_id_forgets_the_dependencies_of_its_earlier_life(redis, settings):
    from jobs.enqueue import _enqueue

    queue = Queue(f"reuse-{uuid.uuid4().hex[:8]}", connection=redis)
    job_id = f"batch-run-9-part-0-{queue.name}"
    # What an earlier life left behind: the job, deferred behind a job that never finishes.
    stale = queue.enqueue_call("builtins.len", args=("x",), job_id=f"{queue.name}-stale")
    stale.set_status(JobStatus.DEFERRED)
    earlier = queue.enqueue_call("builtins.len", args=("y",), job_id=job_id, depends_on=stale)
    assert earlier.get_status() == JobStatus.DEFERRED and redis.smembers(earlier.dependencies_key)

    parent = queue.enqueue_call("builtins.len", args=("a",), job_id=f"{queue.name}-parent")
    job = _enqueue(queue, settings, "builtins.len", 1, job_id, [parent.id], "reused id")
    assert job.get_status() == JobStatus.DEFERRED
    assert redis.smembers(job.dependencies_key) == {parent.id.encode()}
    parent.set_status(JobStatus.FINISHED)
    assert job.dependencies_are_met()


def test_job_ids_carry_the_database_so_another_databases_runs_are_never_taken_for_ours(redis, settings):
    """A run of another database (an earlier test session on the same Redis DB number, a database
    rebuilt from scratch) with the same run id used to make a retry answer "already queued"
    (tests/test_ops_runs.py failed in full runs, passed alone)."""
    from dataclasses import replace

    from jobs.enqueue import held_by_rq
    from jobs.job_ids import partition_job_id
    from models.db import database_identity

    ours = database_identity(settings.database_url)
    assert ours == database_identity(settings.database_url.replace("mysql+pymysql://", "mysql://"))
    other_settings = replace(settings, database_url=settings.database_url.rsplit("/", 1)[0] + "/another_db")
    theirs = database_identity(other_settings.database_url)
    assert theirs != ours and "another_db" not in theirs  # a hash: no names or passwords in Redis
    queue = Queue(f"ids-{uuid.uuid4().hex[:8]}", connection=redis)
    run_id = 10**9 + uuid.uuid4().int % 10**6
    queue.enqueue_call("builtins.len", args=("x",), job_id=partition_job_id(theirs, run_id, 0))
    assert held_by_rq(other_settings, redis, run_id)(0) is True
    assert held_by_rq(settings, redis, run_id)(0) is False

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
    # What an earlier life left behind: a dependency on a job that never finishes.
    stale = queue.enqueue_call("builtins.len", args=("x",), job_id=f"{queue.name}-stale")
    stale.set_status(JobStatus.DEFERRED)
    redis.sadd(f"rq:job::{job_id}:dependencies", stale.id)

    parent = queue.enqueue_call("builtins.len", args=("a",), job_id=f"{queue.name}-parent")
    job = _enqueue(queue, settings, "builtins.len", 1, job_id, [parent.id], "reused id")
    assert job.get_status() == JobStatus.DEFERRED
    assert redis.smembers(job.dependencies_key) == {parent.id.encode()}
    parent.set_status(JobStatus.FINISHED)
    assert job.dependencies_are_met()

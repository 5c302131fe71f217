"""Deferred batch jobs whose dependencies finished but which RQ never enqueued (jobs/stranded.py)."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

from rq import Queue
from rq.job import Dependency, JobStatus


def _queue(redis) -> Queue:
    return Queue(f"stranded-{uuid.uuid4().hex[:8]}", connection=redis)


def _finish_without_dependents(job, seconds_ago: float) -> None:
    """What the stranded backfills looked like: the job is done, its dependents still deferred."""
    Queue(job.origin, connection=job.connection).remove(job)
    job.ended_at = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    job.save()
    job.set_status(JobStatus.FINISHED)


def test_a_deferred_job_whose_dependencies_finished_is_enqueued_once(redis):
    from jobs.stranded import release_stranded

    queue = _queue(redis)
    first = queue.enqueue_call("builtins.len", args=("a",), job_id=f"{queue.name}-a")
    second = queue.enqueue_call("builtins.len", args=("b",), job_id=f"{queue.name}-b")
    waiting = queue.enqueue_call("builtins.len", args=("c",), job_id=f"{queue.name}-c",
                                 depends_on=Dependency(jobs=[first.id, second.id], allow_failure=True))
    assert waiting.get_status() == JobStatus.DEFERRED

    _finish_without_dependents(first, seconds_ago=30)
    assert release_stranded(queue) == []  # `second` is still queued
    _finish_without_dependents(second, seconds_ago=1)
    assert release_stranded(queue) == []  # RQ's own path gets a few seconds first
    _finish_without_dependents(second, seconds_ago=30)

    # Two workers sweeping at the same moment put it on the queue once.
    results: list[list[str]] = []
    threads = [threading.Thread(target=lambda: results.append(release_stranded(queue))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(sum(results, [])) == [waiting.id]
    assert waiting.get_status(refresh=True) == JobStatus.QUEUED
    assert queue.job_ids == [waiting.id]
    assert waiting.id not in queue.deferred_job_registry.get_job_ids()
    assert release_stranded(queue) == []


def test_a_failed_dependency_counts_when_failures_are_allowed_and_not_otherwise(redis):
    from jobs.stranded import release_stranded

    queue = _queue(redis)
    parent = queue.enqueue_call("builtins.len", args=("a",), job_id=f"{queue.name}-p")
    tolerant = queue.enqueue_call("builtins.len", args=("b",), job_id=f"{queue.name}-t",
                                  depends_on=Dependency(jobs=[parent.id], allow_failure=True))
    strict = queue.enqueue_call("builtins.len", args=("c",), job_id=f"{queue.name}-s", depends_on=parent.id)
    _finish_without_dependents(parent, seconds_ago=30)
    parent.set_status(JobStatus.FAILED)
    assert release_stranded(queue) == [tolerant.id]
    assert strict.get_status(refresh=True) == JobStatus.DEFERRED

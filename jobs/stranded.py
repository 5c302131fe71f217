"""Deferred batch jobs whose dependencies are all done, put on the queue after all.

RQ puts a job's dependents on the queue when the job finishes. In full test runs on a busy
machine we saw, about once in three runs, a backfill stop with every worker idle: the next
day's partitions and a run's final step stayed deferred although every job they wait for had
finished (tests/test_batch_workers.py and tests/test_ops_browser.py, 60 s without progress).
Whatever RQ's race is, the cure is the same, and it belongs to whoever watches the queue:
every worker looks at the queue's deferred jobs now and then and enqueues those whose
dependencies are met (by RQ's own rule, `allow_failure` included) and have been for a while,
so RQ's normal path always goes first. The enqueue is optimistic (WATCH on the job), so two
workers sweeping at once, or RQ enqueueing the job meanwhile, put it on the queue once.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from redis.exceptions import RedisError, WatchError
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

log = logging.getLogger(__name__)

# How long a job's dependencies must have been done before the sweep enqueues it: RQ's own
# path does it within milliseconds of the last dependency finishing.
SETTLE_SECONDS = 3.0
SWEEP_INTERVAL_SECONDS = 2.0


def _ended(job: Job) -> datetime | None:
    ended = job.ended_at
    if ended is not None and ended.tzinfo is None:
        ended = ended.replace(tzinfo=UTC)
    return ended


def release_stranded(queue: Queue, settle_seconds: float = SETTLE_SECONDS, now: datetime | None = None) -> list[str]:
    """Enqueue the queue's deferred jobs whose dependencies are met since `settle_seconds`."""
    now = now or datetime.now(UTC)
    registry = queue.deferred_job_registry
    released: list[str] = []
    for job_id in registry.get_job_ids():
        try:
            job = Job.fetch(job_id, connection=queue.connection, serializer=queue.serializer)
        except NoSuchJobError:
            continue
        if job.get_status() != JobStatus.DEFERRED or not job.dependencies_are_met():
            continue
        dependencies = job.fetch_dependencies()
        if any((ended := _ended(d)) is None or now - ended < timedelta(seconds=settle_seconds) for d in dependencies):
            continue
        with queue.connection.pipeline() as pipe:
            try:
                pipe.watch(job.key)
                if Job.fetch(job_id, connection=pipe, serializer=queue.serializer).get_status() != JobStatus.DEFERRED:
                    continue
                pipe.multi()
                registry.remove(job, pipeline=pipe)
                queue._enqueue_job(job, pipeline=pipe, at_front=bool(job.enqueue_at_front))
                pipe.execute()
            except (WatchError, NoSuchJobError):
                continue
        log.warning("batch job %s was left deferred although its dependencies finished; enqueued it", job_id)
        released.append(job_id)
    return released


def start_sweeper(queue: Queue, stop: threading.Event, interval: float = SWEEP_INTERVAL_SECONDS) -> threading.Thread:
    """A daemon thread of the worker process sweeping `queue` every `interval` seconds."""

    def sweep() -> None:
        while not stop.wait(interval):
            try:
                release_stranded(queue)
            except RedisError as exc:  # Redis away: the worker itself waits for it
                log.debug("stranded-job sweep skipped: %s", exc)
            except Exception:  # never let the sweep take the worker down
                log.exception("stranded-job sweep failed")

    thread = threading.Thread(target=sweep, name="stranded-job-sweeper", daemon=True)
    thread.start()
    return thread

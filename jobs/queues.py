"""RQ queues, their Redis connection and how long their jobs and results are kept."""

from __future__ import annotations

from redis import Redis
from rq import Queue
from rq.job import JobStatus

from models.db import database_identity
from models.redis_conn import make_redis
from settings import Settings

# A partition of a huge day may take minutes; a hung one is stopped after this long.
JOB_TIMEOUT_SECONDS = 30 * 60
# Results are kept a day (the database keeps the history); failures a week, for the operator.
RESULT_TTL_SECONDS = 24 * 3600
FAILURE_TTL_SECONDS = 7 * 24 * 3600
# A job in one of these states will still run (or is running).
PENDING_STATUSES = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}


def queue_connection(settings: Settings) -> Redis:
    return make_redis(settings.queue_redis_url, for_queue=True)


def queue_name(settings: Settings) -> str:
    """The RQ queue of this database's batch jobs: BATCH_QUEUE and the database's identity
    (`batch-1a2b3c4d5e`). A worker takes any job of the queue it listens to and runs it on its
    own database, so two databases sharing a Redis must never share a queue."""
    return f"{settings.batch_queue}-{database_identity(settings.database_url)}"


def batch_queue(settings: Settings, connection: Redis | None = None) -> Queue:
    return Queue(queue_name(settings), connection=connection or queue_connection(settings))

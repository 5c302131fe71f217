"""RQ queues and their Redis connection."""

from __future__ import annotations

from redis import Redis
from rq import Queue

from models.redis_conn import make_redis
from settings import Settings


def queue_connection(settings: Settings) -> Redis:
    return make_redis(settings.redis_url, for_queue=True)


def batch_queue(settings: Settings, connection: Redis | None = None) -> Queue:
    return Queue(settings.batch_queue, connection=connection or queue_connection(settings))

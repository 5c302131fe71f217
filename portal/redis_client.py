"""The portal's Redis clients and the process's mirror of revoked API tokens.

Two roles that may be two Redis instances (issue 23): the cache Redis (figures, cached answers,
token revocations, rate limits; REDIS_CACHE_URL) and the queue Redis (RQ's queues and workers,
read by /metrics and the RQ pages; REDIS_QUEUE_URL). Both default to REDIS_URL."""

from __future__ import annotations

from flask import Flask, current_app
from redis import Redis

from models.redis_conn import key_namespace, make_redis
from portal.database import session_factory
from portal.revocations import RevocationMirror

_EXTENSION = "paysystem.redis"
_QUEUE = "paysystem.redis_queue"
_REVOCATIONS = "paysystem.revocations"


def init_redis(app: Flask, url: str, *, queue_url: str | None = None) -> None:
    """After `init_database`: the revocation mirror falls back to the database. `url` is the
    cache Redis; `queue_url` (default: the same) the one RQ's queues live in."""
    client = make_redis(url)
    app.extensions[_EXTENSION] = client
    # Short timeouts like the cache client: the portal only counts and lists jobs (enqueueing
    # goes through jobs/enqueue.py with its own connection).
    app.extensions[_QUEUE] = client if queue_url in (None, url) else make_redis(queue_url)
    sessions = session_factory(app)
    # Its keys and channel carry the database's namespace (models/redis_conn.py `key_namespace`).
    app.extensions[_REVOCATIONS] = RevocationMirror(client, sessions, key_namespace(sessions.kw["bind"].url))


def redis_client() -> Redis:
    """The cache Redis."""
    return current_app.extensions[_EXTENSION]


def queue_redis_client(app: Flask | None = None) -> Redis:
    """The queue Redis (the cache Redis unless REDIS_QUEUE_URL names another)."""
    return (app or current_app).extensions[_QUEUE]


def revocations(app: Flask | None = None) -> RevocationMirror:
    return (app or current_app).extensions[_REVOCATIONS]

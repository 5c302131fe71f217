"""Redis connections with short timeouts: a slow or absent Redis must not stall a page."""

from __future__ import annotations

from functools import lru_cache

from redis import Redis
from sqlalchemy.engine import URL

from models.db import database_identity


def make_redis(url: str, *, for_queue: bool = False) -> Redis:
    """A client for `url`.

    Queue clients (RQ) need blocking reads, so they get no socket timeout; cache and
    health clients give up quickly so the portal can fall back to the database.
    """
    if for_queue:
        return Redis.from_url(url, socket_connect_timeout=5, health_check_interval=30)
    return Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1.0)


@lru_cache(maxsize=64)
def _namespace(rendered: str) -> str:
    return f"paysystem:{database_identity(rendered)}"


def key_namespace(database_url: str | URL) -> str:
    """`paysystem:<database identity>`: the start of every Redis key the app writes (figure and
    answer caches, token denylist and its channel, sign-in limits, the batch request lock).

    Redis is shared more often than databases are (test sessions and workers, a staging and a
    production database on one Redis, a database rebuilt from scratch is a new identity only
    if renamed): keyed by the database they describe, two apps on two databases never read
    or delete each other's entries. The identity is a hash of server and schema, never the
    password (models/db.py `database_identity`)."""
    rendered = database_url.render_as_string(hide_password=False) if isinstance(database_url, URL) else database_url
    return _namespace(rendered)

"""Redis connections with short timeouts: a slow or absent Redis must not stall a page."""

from __future__ import annotations

from redis import Redis


def make_redis(url: str, *, for_queue: bool = False) -> Redis:
    """A client for `url`.

    Queue clients (RQ) need blocking reads, so they get no socket timeout; cache and
    health clients give up quickly so the portal can fall back to the database.
    """
    if for_queue:
        return Redis.from_url(url, socket_connect_timeout=5, health_check_interval=30)
    return Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1.0)

"""The portal's Redis client (cache, token denylist, rate-limit storage) and the process's
mirror of revoked API tokens fed by it."""

from __future__ import annotations

from flask import Flask, current_app
from redis import Redis

from models.redis_conn import make_redis
from portal.revocations import RevocationMirror

_EXTENSION = "paysystem.redis"
_REVOCATIONS = "paysystem.revocations"


def init_redis(app: Flask, url: str) -> None:
    client = make_redis(url)
    app.extensions[_EXTENSION] = client
    app.extensions[_REVOCATIONS] = RevocationMirror(client)


def redis_client() -> Redis:
    return current_app.extensions[_EXTENSION]


def revocations(app: Flask | None = None) -> RevocationMirror:
    return (app or current_app).extensions[_REVOCATIONS]

"""The portal's Redis client (cache, token denylist, rate-limit storage)."""

from __future__ import annotations

from flask import Flask, current_app
from redis import Redis

from models.redis_conn import make_redis

_EXTENSION = "paysystem.redis"


def init_redis(app: Flask, url: str) -> None:
    app.extensions[_EXTENSION] = make_redis(url)


def redis_client() -> Redis:
    return current_app.extensions[_EXTENSION]

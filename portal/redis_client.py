"""The portal's Redis client (cache, token denylist, rate-limit storage) and the process's
mirror of revoked API tokens fed by it (and by the database, their record of truth)."""

from __future__ import annotations

from flask import Flask, current_app
from redis import Redis

from models.redis_conn import key_namespace, make_redis
from portal.database import session_factory
from portal.revocations import RevocationMirror

_EXTENSION = "paysystem.redis"
_REVOCATIONS = "paysystem.revocations"


def init_redis(app: Flask, url: str) -> None:
    """After `init_database`: the revocation mirror falls back to the database, and its keys
    and channel carry that database's namespace (models/redis_conn.py `key_namespace`)."""
    client = make_redis(url)
    app.extensions[_EXTENSION] = client
    sessions = session_factory(app)
    app.extensions[_REVOCATIONS] = RevocationMirror(client, sessions, key_namespace(sessions.kw["bind"].url))


def redis_client() -> Redis:
    return current_app.extensions[_EXTENSION]


def revocations(app: Flask | None = None) -> RevocationMirror:
    return (app or current_app).extensions[_REVOCATIONS]

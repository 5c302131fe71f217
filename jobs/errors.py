"""Errors of batch work: which failures are worth retrying (the ones a second attempt can get
past), and the refusal of a batch request."""

from __future__ import annotations

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import OperationalError

from models.db import is_transient_error
from models.errors import DomainError


class BatchRequestError(DomainError, ValueError):
    """A batch request that cannot be honoured; the message is safe to show. Mostly a clash with
    what runs or has run (409 `conflict`, the code the API has always answered it with); the raise
    says when it is a bad range or a missing run or backfill (404 `not_found`, as the API's other
    404s) instead."""

    kind = "conflict"
    code = "conflict"


class PermanentJobError(RuntimeError):
    """A failure that retrying cannot fix (missing price plan, bad request); the message says why."""


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (RedisConnectionError, RedisTimeoutError)):
        return True
    # MariaDB: a lost connection or node (models/db.py), a deadlock, lock wait timeout or
    # failed Galera certification; every batch step is idempotent, so it may run again.
    if is_transient_error(exc):
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)

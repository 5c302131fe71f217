"""Errors of batch work: which failures are worth retrying (the ones a second attempt can get
past), and the refusal of a batch request."""

from __future__ import annotations

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, OperationalError

from models.errors import DomainError

# MariaDB/MySQL: lock wait timeout, deadlock, too many connections, cannot connect,
# server gone away, lost connection, query interrupted by a shutdown.
TRANSIENT_MYSQL_CODES = {1205, 1213, 1040, 2003, 2006, 2013, 1053}


class BatchRequestError(DomainError, ValueError):
    """A batch request that cannot be honoured; the message is safe to show."""


class PermanentJobError(RuntimeError):
    """A failure that retrying cannot fix (missing price plan, bad request); the message says why."""


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (RedisConnectionError, RedisTimeoutError)):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        orig = exc.orig
        args = getattr(orig, "args", ())
        if args and isinstance(args[0], int) and args[0] in TRANSIENT_MYSQL_CODES:
            return True
        if isinstance(exc, OperationalError) and "database is locked" in str(orig):
            return True
    return False

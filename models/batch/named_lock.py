"""A named lock that holds across every node of a database cluster: a lease row.

MariaDB's GET_LOCK lives in one server's memory. Under Galera every node has its own, so
two workers connected to two nodes (or to one node, then another after a failover) both
get "the" lock. A row does not have that problem: taking the lock is a committed INSERT
of the name's primary key (or an UPDATE of an expired lease), and Galera's certification
lets exactly one of two concurrent commits of the same key through — the other fails
(deadlock 1213, or a duplicate key when it comes later), which here just means "held
elsewhere". On a single server InnoDB's row locks give the same answer.

A lease expires (`ttl`), so a holder that died — killed worker, lost node — does not keep
the name forever; the holder must finish its work well within `ttl`. Expiry is judged on
the clock of the process asking, so app hosts need roughly synchronised clocks (NTP); the
default lease of 5 minutes leaves a wide margin.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import Engine, String, delete, insert, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TABLE_ARGS, Base, UTCDateTime, utcnow
from models.db import is_transient_error
from models.errors import DomainError

DEFAULT_TTL = timedelta(minutes=5)


class NamedLock(Base):
    """One held lock: its name, who holds it, until when."""

    __tablename__ = "named_locks"
    __table_args__ = (TABLE_ARGS,)

    name: Mapped[str] = mapped_column(String(191), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LockBusy(DomainError):
    """The lock stayed held by someone else for the whole wait."""

    kind = "conflict"
    code = "lock_busy"


def try_acquire(engine: Engine, name: str, holder: str, ttl: timedelta = DEFAULT_TTL) -> bool:
    """Take the lease now, in a committed transaction of its own, or say it is held: the
    INSERT of a free name, or the UPDATE of a lease that expired (or that `holder` already
    has: re-entry renews it). A commit refused by the cluster counts as "held"."""
    now = utcnow()
    try:
        with engine.begin() as conn:
            conn.execute(insert(NamedLock).values(name=name, holder=holder, expires_at=now + ttl))
        return True
    except IntegrityError:
        pass  # the name is taken; maybe by a lease that ran out
    except DBAPIError as exc:
        if is_transient_error(exc):
            return False  # a concurrent taker won certification (1213) or the node went away
        raise
    try:
        with engine.begin() as conn:
            taken = conn.execute(
                update(NamedLock)
                .where(NamedLock.name == name, (NamedLock.expires_at < now) | (NamedLock.holder == holder))
                .values(holder=holder, expires_at=now + ttl)
            ).rowcount
        return taken == 1
    except DBAPIError as exc:
        if is_transient_error(exc):
            return False
        raise


def release(engine: Engine, name: str, holder: str) -> None:
    """Give the lease back (only if `holder` still has it: an expired lease may have moved on)."""
    with engine.begin() as conn:
        conn.execute(delete(NamedLock).where(NamedLock.name == name, NamedLock.holder == holder))


@contextmanager
def named_lock(engine: Engine, name: str, *, wait: float, ttl: timedelta = DEFAULT_TTL,
               poll: float = 0.1) -> Iterator[str]:
    """Hold `name` for the block, waiting up to `wait` seconds for it; LockBusy when it stays
    held. Yields the holder id (unique per acquisition)."""
    holder = uuid.uuid4().hex
    deadline = time.monotonic() + wait
    while not try_acquire(engine, name, holder, ttl):
        if time.monotonic() >= deadline:
            raise LockBusy(f"{name} is held elsewhere; gave up after {wait:g} s")
        time.sleep(poll)
    try:
        yield holder
    finally:
        try:
            release(engine, name, holder)
        except DBAPIError as exc:
            if not is_transient_error(exc):
                raise
            # The node went away: the lease runs out by itself after `ttl`.

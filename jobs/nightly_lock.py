"""The lock that serialises planning one day's nightly run (jobs/run_planning.py plan_nightly).

Kept in this one function so the kind of lock can change without touching the planning around it.
It is a lease row of this database (models/batch/named_lock.py), not GET_LOCK: under Galera each
node grants GET_LOCK on its own, and on one server GET_LOCK is shared by every database on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from sqlalchemy import Engine

from jobs.errors import BatchRequestError
from models.batch.named_lock import LockBusy, named_lock

NIGHTLY_LOCK_WAIT_SECONDS = 60


@contextmanager
def nightly_lock(engine: Engine, day: date) -> Iterator[None]:
    """On MariaDB/MySQL, a cluster-wide named lock for planning `day`'s nightly run, taken and
    released in transactions of its own so it spans the planning transaction's commit. SQLite
    needs none: `plan_nightly` takes its database write lock before looking."""
    if engine.dialect.name not in ("mysql", "mariadb"):
        yield
        return
    try:
        with named_lock(engine, f"paysystem:nightly:{day.isoformat()}", wait=NIGHTLY_LOCK_WAIT_SECONDS):
            yield
    except LockBusy as exc:
        raise BatchRequestError(f"the nightly run of {day} is being planned elsewhere; gave up after "
                                f"{NIGHTLY_LOCK_WAIT_SECONDS} s") from exc

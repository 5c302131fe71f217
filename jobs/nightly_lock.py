"""The lock that serialises planning one day's nightly run (jobs/run_planning.py plan_nightly).

Kept in this one function so the kind of lock can change (a named database lock today) without
touching the planning around it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from sqlalchemy import Engine, text

from jobs.errors import BatchRequestError

NIGHTLY_LOCK_WAIT_SECONDS = 60


@contextmanager
def nightly_lock(engine: Engine, day: date) -> Iterator[None]:
    """On MariaDB/MySQL, a named lock (GET_LOCK) for planning `day`'s nightly run, held on a
    connection of its own so it spans the planning transaction's commit. SQLite needs none:
    `plan_nightly` takes its database write lock before looking."""
    if engine.dialect.name not in ("mysql", "mariadb"):
        yield
        return
    name = f"paysystem:nightly:{day.isoformat()}"
    with engine.connect() as conn:
        got = conn.scalar(text("SELECT GET_LOCK(:name, :wait)"), {"name": name, "wait": NIGHTLY_LOCK_WAIT_SECONDS})
        if got != 1:
            raise BatchRequestError(f"the nightly run of {day} is being planned elsewhere; gave up after "
                                    f"{NIGHTLY_LOCK_WAIT_SECONDS} s")
        try:
            yield
        finally:
            conn.scalar(text("SELECT RELEASE_LOCK(:name)"), {"name": name})
            conn.rollback()

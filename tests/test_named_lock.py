"""The cluster-wide named lock (models/batch/named_lock.py): a lease row, not GET_LOCK.

GET_LOCK is granted by each Galera node on its own; these tests hold the lease's promises on
the real MariaDB (tests/test_cluster.py holds them again through the Galera cluster)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import Engine, delete, inspect, select, text

from models import Base
from models.batch.named_lock import LockBusy, NamedLock, named_lock, release, try_acquire


@pytest.fixture(autouse=True)
def _no_leases(engine: Engine):
    yield
    with engine.begin() as conn:
        conn.execute(delete(NamedLock))


def test_a_held_name_is_refused_until_released(engine: Engine):
    assert try_acquire(engine, "t:a", "one")
    assert not try_acquire(engine, "t:a", "two")
    assert try_acquire(engine, "t:a", "one")  # the holder renews its lease
    release(engine, "t:a", "two")  # not the holder: nothing happens
    assert not try_acquire(engine, "t:a", "two")
    release(engine, "t:a", "one")
    assert try_acquire(engine, "t:a", "two")


def test_an_expired_lease_is_taken_over(engine: Engine):
    assert try_acquire(engine, "t:b", "dead worker", ttl=timedelta(seconds=-1))
    assert try_acquire(engine, "t:b", "next")
    with engine.connect() as conn:
        assert conn.scalar(select(NamedLock.holder).where(NamedLock.name == "t:b")) == "next"
    # The dead holder's late release does not free the new holder's lease.
    release(engine, "t:b", "dead worker")
    assert not try_acquire(engine, "t:b", "third")


def test_waiting_gives_up_with_lock_busy(engine: Engine):
    assert try_acquire(engine, "t:c", "other")
    started = time.monotonic()
    with pytest.raises(LockBusy), named_lock(engine, "t:c", wait=0.5):
        pass
    assert 0.5 <= time.monotonic() - started < 3


def test_one_holder_at_a_time_among_threads(engine: Engine):
    inside = 0
    most = 0
    guard = threading.Lock()

    def work() -> None:
        nonlocal inside, most
        for _ in range(5):
            with named_lock(engine, "t:d", wait=30, poll=0.01):
                with guard:
                    inside += 1
                    most = max(most, inside)
                time.sleep(0.005)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 1
    with engine.connect() as conn:
        assert conn.scalar(select(NamedLock.name)) is None  # all released


def test_planning_the_nightly_run_waits_for_the_lease(engine: Engine, monkeypatch):
    """The nightly plan of a day is serialised by the lease row: held elsewhere (another node's
    worker), planning gives up cleanly instead of planning a second run."""
    from datetime import date

    from jobs import nightly_lock, run_planning
    from jobs.errors import BatchRequestError

    monkeypatch.setattr(nightly_lock, "NIGHTLY_LOCK_WAIT_SECONDS", 0.3)
    day = date(2001, 2, 3)
    assert try_acquire(engine, f"paysystem:nightly:{day.isoformat()}", "a worker on another node")
    with pytest.raises(BatchRequestError, match="being planned elsewhere"):
        run_planning.plan_nightly(engine, day, partitions=2)
    assert not run_planning.nightly_run_exists(engine, day)


def test_every_table_has_a_primary_key(engine: Engine):
    """Galera replicates row changes by primary key; a table without one is replicated badly
    (or refused, with innodb_force_primary_key). Checked on the models and the migrated database."""
    assert [t.name for t in Base.metadata.sorted_tables if not t.primary_key.columns] == []
    inspector = inspect(engine)
    tables = [name for name in inspector.get_table_names()]
    assert "named_locks" in tables
    assert [name for name in tables if not inspector.get_pk_constraint(name)["constrained_columns"]] == []
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT COUNT(*) FROM alembic_version")) == 1

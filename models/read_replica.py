"""When a MariaDB read replica may answer figure reads, and when the primary must (issue 23).

The seller pages and the stats API only read computed figures; their cache misses may go to a
replica (`DATABASE_READ_URL`). A replica is used only while all of these hold, otherwise the
primary answers (the reason is reported, for /metrics):

- it replicates: both replication threads run (`SHOW REPLICA STATUS`). A replica whose I/O
  thread is stopped (or that is unreachable) is "stopped": its figures are frozen; one that
  receives but does not apply (SQL thread stopped) is "lagging", by an unknown amount;
- it is at most `max_lag_seconds` behind (`Seconds_Behind_Master`, else "lagging");
- it holds the last finished batch run: the primary's newest finished run (its id and end)
  is on the replica too. `Seconds_Behind_Master` is measured in event time and is 0 between
  events, so it cannot tell whether the run a seller was just told about has arrived;
  comparing the run marker can. GTID positions cannot serve either: the primary's moves with
  every progress report, so a replica under load would always look behind.

Figures and their cache versions are read on the same (replica) connection, so a lagging
replica can only refill the cache under the versions it holds (old rows under old version
keys, never old rows under new keys).

The check costs three small queries; its answer is kept `check_seconds` per process.
Generic plumbing next to models/db.py: it knows the `batch_runs` table, nothing else.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

# Why a read went where it went: the closed set of label values of the reads counter.
REPLICA = "replica"
STOPPED = "stopped"
LAGGING = "lagging"
BEHIND_RUN = "behind_run"
UNREACHABLE = "unreachable"
REASONS = (REPLICA, STOPPED, LAGGING, BEHIND_RUN, UNREACHABLE)

_RUN_MARKER = text(
    "SELECT id, finished_at FROM batch_runs WHERE finished_at IS NOT NULL ORDER BY finished_at DESC, id DESC LIMIT 1")


@dataclass(frozen=True)
class ReplicaState:
    """What the last check found: `usable` with `reason` REPLICA, or why not."""

    reason: str
    lag_seconds: float | None  # Seconds_Behind_Master; None when not replicating or unreachable

    @property
    def usable(self) -> bool:
        return self.reason == REPLICA


def replication_status(replica: Engine) -> dict[str, object] | None:
    """The replica's `SHOW REPLICA STATUS` row (None: not configured as a replica), with
    MySQL 8's column names (`Replica_IO_Running`, `Seconds_Behind_Source`) also under MariaDB's
    (`Slave_IO_Running`, `Seconds_Behind_Master`), which the checks use. MariaDB 10.5+ and
    MySQL 8.0.22+ know the statement; the user needs REPLICATION CLIENT (MariaDB: SLAVE MONITOR)."""
    with replica.connect() as conn:
        row = conn.exec_driver_sql("SHOW REPLICA STATUS").mappings().first()
    if row is None:
        return None
    status = dict(row)
    for mysql, mariadb in (("Replica_IO_Running", "Slave_IO_Running"), ("Replica_SQL_Running", "Slave_SQL_Running"),
                           ("Seconds_Behind_Source", "Seconds_Behind_Master")):
        if mysql in status and mariadb not in status:
            status[mariadb] = status[mysql]
    return status


def check_replica(primary: Engine, replica: Engine, max_lag_seconds: float) -> ReplicaState:
    """Whether `replica` may answer figure reads now (see the module's rules)."""
    try:
        status = replication_status(replica)
        if status is None or status.get("Slave_IO_Running") != "Yes":
            return ReplicaState(STOPPED, None)  # not receiving: frozen wherever it stopped
        behind = status.get("Seconds_Behind_Master")
        lag = float(behind) if behind is not None else None
        if status.get("Slave_SQL_Running") != "Yes" or lag is None:
            return ReplicaState(LAGGING, None)  # receiving but not applying: falls further behind
        if lag > max_lag_seconds:
            return ReplicaState(LAGGING, lag)
        with replica.connect() as conn:
            on_replica = conn.execute(_RUN_MARKER).first()
    except SQLAlchemyError:
        return ReplicaState(UNREACHABLE, None)
    with primary.connect() as conn:  # the primary failing is the request's own error, not ours
        on_primary = conn.execute(_RUN_MARKER).first()
    if on_primary is not None and (on_replica is None or tuple(on_replica) != tuple(on_primary)):
        return ReplicaState(BEHIND_RUN, lag)
    return ReplicaState(REPLICA, lag)


class ReadReplica:
    """A replica engine with its per-process, briefly kept verdict."""

    def __init__(self, primary: Engine, replica: Engine, *, max_lag_seconds: float,
                 check_seconds: float = 1.0) -> None:
        self.primary = primary
        self.engine = replica
        self.max_lag_seconds = max_lag_seconds
        self.check_seconds = check_seconds
        self._lock = threading.Lock()
        self._state: ReplicaState | None = None
        self._checked_at = 0.0

    def state(self, *, fresh: bool = False) -> ReplicaState:
        """The verdict, checked again when older than `check_seconds` (or when `fresh`). While
        one thread checks (an unreachable replica takes up to its connect timeout), the others
        go on with the previous verdict instead of queueing behind it."""
        stale = self._state is None or time.monotonic() - self._checked_at >= self.check_seconds
        if not (fresh or stale):
            return self._state  # type: ignore[return-value]
        if not self._lock.acquire(blocking=fresh or self._state is None):
            return self._state  # type: ignore[return-value]
        try:
            if fresh or self._state is None or time.monotonic() - self._checked_at >= self.check_seconds:
                self._state = check_replica(self.primary, self.engine, self.max_lag_seconds)
                self._checked_at = time.monotonic()
            return self._state
        finally:
            self._lock.release()

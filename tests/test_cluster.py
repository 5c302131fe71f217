"""The code on a real 3-node MariaDB Galera cluster behind HAProxy (issue 23, items 1 and 2).

Runs only with PAYSYSTEM_CLUSTER_TESTS=1 and TEST_DATABASE_URL pointing at HAProxy's writer
address — `scripts/test-cluster.sh` starts the cluster (paysystem/galera.py) and sets both.
The tests reach the nodes directly too (a node's own port) to make a write conflict between
two nodes, and kill the writer node for the failover test (restarted at the end).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from jobs.errors import is_transient
from jobs.inline import _with_retries, run_days_inline
from jobs.logs import LOGGER_NAME
from models import PlaySession, Role, RunState, RunTrigger
from models.batch.named_lock import NamedLock, try_acquire
from models.db import is_conflict_error, is_transient_error
from paysystem.galera import (
    Layout,
    current_writer,
    node_pid,
    start_node,
    status,
    stop_node,
    wait_synced,
)
from tests.batch_support import DAY0, Backend, busy_world, plan_ids, reference, snapshot
from tests.watching_support import add_video, bearer

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(os.environ.get("PAYSYSTEM_CLUSTER_TESTS") != "1",
                       reason="needs the Galera cluster: scripts/test-cluster.sh"),
]

MEASUREMENTS = Path(os.environ.get("PAYSYSTEM_CLUSTER_MEASUREMENTS", "var/cluster-measurements.jsonl"))


@pytest.fixture(scope="module")
def layout() -> Layout:
    layout = Layout.from_env()
    for n in range(1, layout.nodes + 1):
        wait_synced(layout, n, cluster_size=layout.nodes, timeout=60)
    return layout


def _node_engine(layout: Layout, database_url: str, n: int) -> Engine:
    database = make_url(database_url).database
    # Causal reads: a node applies other nodes' committed writesets a moment later; without
    # wsrep_sync_wait a read on node 2 right after the migration on node 1 may not see its tables.
    return create_engine(f"mysql+pymysql://root@127.0.0.1:{layout.sql_port(n)}/{database}", pool_pre_ping=True,
                         connect_args={"init_command": "SET SESSION wsrep_sync_wait = 1"})


def test_get_lock_is_node_local_but_the_lease_row_is_cluster_wide(layout, database_url):
    one, two = _node_engine(layout, database_url, 1), _node_engine(layout, database_url, 2)
    try:
        with one.connect() as a, two.connect() as b:
            # Why GET_LOCK had to go: each node grants the same name to its own client.
            assert a.scalar(text("SELECT GET_LOCK('paysystem:cluster-test', 0)")) == 1
            assert b.scalar(text("SELECT GET_LOCK('paysystem:cluster-test', 0)")) == 1
            a.scalar(text("SELECT RELEASE_LOCK('paysystem:cluster-test')"))
            b.scalar(text("SELECT RELEASE_LOCK('paysystem:cluster-test')"))

        # The lease: node 2 inserts the name but has not committed yet when node 1 takes it;
        # certification lets node 1's commit through and fails node 2's (deadlock 1213).
        with two.connect() as b:
            b.execute(text("INSERT INTO named_locks (name, holder, expires_at) "
                           "VALUES ('cluster:race', 'on node 2', UTC_TIMESTAMP() + INTERVAL 1 HOUR)"))
            assert try_acquire(one, "cluster:race", "on node 1")
            with pytest.raises(DBAPIError) as lost:
                b.commit()
        assert is_conflict_error(lost.value) and is_transient_error(lost.value)
        assert not try_acquire(two, "cluster:race", "on node 2")
        with two.connect() as b:
            assert b.scalar(select(NamedLock.holder).where(NamedLock.name == "cluster:race")) == "on node 1"
        with one.begin() as a:
            a.execute(text("DELETE FROM named_locks WHERE name = 'cluster:race'"))
    finally:
        one.dispose()
        two.dispose()


def test_a_step_that_fails_certification_is_run_again(layout, database_url, settings):
    """A batch step whose commit loses to a write on another node (1213) is transient for the
    batch's retry loop, which runs the same idempotent unit of work again."""
    from jobs.run_state import StepResult

    one, two = _node_engine(layout, database_url, 1), _node_engine(layout, database_url, 2)
    attempts = []

    def step() -> StepResult:
        attempts.append(time.monotonic())
        with two.connect() as b:
            b.execute(text("UPDATE named_locks SET holder = 'step' WHERE name = 'cluster:step'"))
            if len(attempts) == 1:  # a conflicting write commits on node 1 meanwhile
                with one.begin() as a:
                    a.execute(text("UPDATE named_locks SET holder = 'other' WHERE name = 'cluster:step'"))
            b.commit()
        return StepResult(run_id=0, day=DAY0, state=RunState.SUCCEEDED, rows_written=1)

    try:
        with one.begin() as a:
            a.execute(text("INSERT INTO named_locks (name, holder, expires_at) "
                           "VALUES ('cluster:step', 'nobody', UTC_TIMESTAMP())"))
        from dataclasses import replace

        result = _with_retries(replace(settings, batch_retries=2, batch_retry_delays=(0,)), step)
        assert result is not None and len(attempts) == 2
        with one.connect() as a:
            assert a.scalar(text("SELECT holder FROM named_locks WHERE name = 'cluster:step'")) == "step"
        with one.begin() as a:
            a.execute(text("DELETE FROM named_locks WHERE name = 'cluster:step'"))
    finally:
        one.dispose()
        two.dispose()


def test_conflict_errors_count_as_transient_for_the_batch(layout, database_url):
    one, two = _node_engine(layout, database_url, 1), _node_engine(layout, database_url, 2)
    try:
        with one.begin() as a:
            a.execute(text("INSERT INTO named_locks VALUES ('cluster:t', 'x', UTC_TIMESTAMP())"))
        with two.connect() as b:
            b.execute(text("UPDATE named_locks SET holder = 'b' WHERE name = 'cluster:t'"))
            with one.begin() as a:
                a.execute(text("UPDATE named_locks SET holder = 'a' WHERE name = 'cluster:t'"))
            with pytest.raises(DBAPIError) as lost:
                b.commit()
        assert is_transient(lost.value)
        with one.begin() as a:
            a.execute(text("DELETE FROM named_locks WHERE name = 'cluster:t'"))
    finally:
        one.dispose()
        two.dispose()


class _Count(logging.Handler):
    """Counts the log records whose message starts with `prefix`."""

    def __init__(self, prefix: str) -> None:
        super().__init__(logging.WARNING)
        self.prefix, self.count = prefix, 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith(self.prefix):
            self.count += 1


class Player(threading.Thread):
    """A viewer playing a video in real time through the portal's API: a progress report every
    `every` seconds, its position the time since the session opened. Remembers what the
    portal acknowledged (200) and every status it got."""

    def __init__(self, base: str, video_id: int, auth: dict[str, str], stop: threading.Event,
                 every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.base, self.video_id, self.auth, self.stop_event, self.every = base, video_id, auth, stop, every
        self.acked: list[int] = []
        self.statuses: list[tuple[float, int]] = []
        self.session_id: int | None = None

    def _post(self, path: str, body: dict | None) -> tuple[int, dict]:
        request = urllib.request.Request(f"{self.base}/api/v1/videos/{self.video_id}{path}",
                                         data=json.dumps(body or {}).encode(), method="POST",
                                         headers={**self.auth, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, {}

    def run(self) -> None:
        status, body = self._post("/sessions", {})
        assert status in (200, 201), (status, body)
        self.session_id = body["session_id"]
        opened = time.monotonic()
        while True:
            stopping = self.stop_event.is_set()
            position = int((time.monotonic() - opened) * 1000)
            status, _ = self._post(f"/sessions/{self.session_id}/progress",
                                   {"position_ms": position, "state": "playing"})
            self.statuses.append((time.time(), status))
            if status == 200:
                self.acked.append(position)
                if stopping:
                    return  # the last report was acknowledged
            time.sleep(self.every)


class Probe(threading.Thread):
    """Asks a page that reads the database every 100 ms and records each status."""

    def __init__(self, url: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.url, self.stop_event = url, stop
        self.statuses: list[tuple[float, int]] = []

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=30) as resp:
                    status = resp.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError:
                status = 0
            self.statuses.append((time.time(), status))
            time.sleep(0.1)


def test_the_writer_node_dies_during_a_backfill_and_while_players_report(
        layout, tmp_path, redis_url, settings, live_server, make_user, session_factory, engine):
    deadline = time.monotonic() + 30  # a previous run's node 1 may still be rising in HAProxy
    while current_writer(layout) != "node1" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert current_writer(layout) == "node1", status(layout)
    days = [DAY0 + timedelta(days=i) for i in range(30)]
    # The undisturbed run: the same world, its own database, nothing killed.
    calm = Backend("mariadb", redis_url, tmp_path)
    busy_world(calm, days=30, sessions=900)
    calm_started = time.monotonic()
    run_days_inline(calm.settings, days, RunTrigger.BACKFILL, use_cache=False)
    calm_seconds = time.monotonic() - calm_started
    undisturbed = snapshot(calm.engine)
    calm.engine.dispose()

    backend = Backend("mariadb", redis_url, tmp_path)
    world = busy_world(backend, days=30, sessions=900)
    batch = backend.with_settings(batch_retries=12, batch_retry_delays=(1, 1, 2, 2, 3))
    retries = _Count("transient failure")
    logging.getLogger(LOGGER_NAME).addHandler(retries)

    seller = make_user(Role.SELLER)
    video = add_video(session_factory, seller, seconds=3600)
    stop = threading.Event()
    players = [Player(live_server.url, video.id, bearer(make_user(), settings), stop) for _ in range(6)]
    probe = Probe(f"{live_server.url}/api/v1/videos/{video.id}", stop)
    for thread in [*players, probe]:
        thread.start()

    results: list = []
    started = time.monotonic()
    backfill = threading.Thread(target=lambda: results.extend(
        run_days_inline(batch, days, RunTrigger.BACKFILL, use_cache=False)), daemon=True)
    backfill.start()
    # Kill the writer once the 30 runs are planned and about a third of them are done.
    while True:
        with backend.engine.connect() as conn:
            done = conn.scalar(text("SELECT COUNT(*) FROM batch_runs WHERE state = 'succeeded'"))
        if done >= 10:
            break
        assert backfill.is_alive(), "the backfill ended before the failover"
        time.sleep(0.2)
    killed_at = time.time()
    stop_node(layout, 1, sig=9)
    while current_writer(layout) != "node2":
        time.sleep(0.05)
    switched_at = time.time()

    backfill.join(timeout=900)
    assert not backfill.is_alive()
    backfill_seconds = time.monotonic() - started
    time.sleep(3)  # players and probe keep going after the switch: the portal has recovered
    stop.set()
    for thread in [*players, probe]:
        thread.join(timeout=60)

    try:
        backend.engine.dispose()
        with backend.engine.connect() as conn:
            states = conn.execute(text("SELECT state, COUNT(*) FROM batch_runs GROUP BY state")).all()
        assert dict(states) == {"succeeded": 30}, states
        assert len(results) == 30
        # No duplicate or missing row: every batch table equals the undisturbed run's, and the
        # independent computation in plain Python (tests/batch_support.py reference).
        disturbed = snapshot(backend.engine)
        assert disturbed == undisturbed
        assert disturbed == reference(world, set(days), plan_ids(backend.engine))

        # Progress acknowledged = progress credited: each session's stored position is its last
        # acknowledged report, and its credited watch time what those positions earned.
        with engine.connect() as conn:
            for player in players:
                row = conn.execute(select(PlaySession.last_position_ms, PlaySession.watch_ms)
                                   .where(PlaySession.id == player.session_id)).one()
                assert row.last_position_ms == player.acked[-1]
                assert row.watch_ms == player.acked[-1], (row, player.acked[-5:])

        answers = [(at, status) for player in players for at, status in player.statuses] + probe.statuses
        assert {status for _, status in answers} <= {200, 503}, sorted({status for _, status in answers})
        refused = sorted(at for at, status in answers if status != 200)
        # The portal refuses (503, never 500) only around the switch, then answers again
        # without a restart: every answer after it is 200.
        window = round(refused[-1] - refused[0], 2) if refused else 0.0
        assert window <= 15, refused
        assert all(at - killed_at < 15 for at in refused), [round(at - killed_at, 2) for at in refused]
        assert probe.statuses[-1][1] == 200 and all(p.statuses[-1][1] == 200 for p in players)
        measured = {
            "switch_seconds": round(switched_at - killed_at, 2),
            "refused_window_seconds": window,
            "last_503_after_kill_seconds": round(refused[-1] - killed_at, 2) if refused else None,
            "progress_503_answers": sum(1 for p in players for _, s in p.statuses if s == 503),
            "progress_reports": sum(len(p.statuses) for p in players),
            "page_503_answers": sum(1 for _, s in probe.statuses if s == 503),
            "page_requests": len(probe.statuses),
            "backfill_seconds": round(backfill_seconds, 1),
            "undisturbed_backfill_seconds": round(calm_seconds, 1),
            "batch_step_retries": retries.count,
        }
        print("failover:", measured)
        MEASUREMENTS.parent.mkdir(parents=True, exist_ok=True)
        with MEASUREMENTS.open("a") as out:
            out.write(json.dumps({"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **measured}) + "\n")
    finally:
        logging.getLogger(LOGGER_NAME).removeHandler(retries)
        backend.engine.dispose()
        # Node 1 rejoins (IST from a donor) and HAProxy moves the writer back to it.
        if node_pid(layout, 1) is None:
            start_node(layout, 1)
        wait_synced(layout, 1, cluster_size=layout.nodes, timeout=120)
        deadline = time.monotonic() + 30
        while current_writer(layout) != "node1" and time.monotonic() < deadline:
            time.sleep(0.2)

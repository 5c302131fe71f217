"""Issue 23, the read replica: the seller figures of the stats API are read on a real MariaDB
replica (GTID replication from a private primary) while it replicates, keeps up and holds the
last finished batch run; a stopped, lagging or behind replica falls back to the primary, and
/metrics shows the lag and the reads by target. Two private mariadbd processes (~20 s)."""

from __future__ import annotations

import re
import time
from datetime import timedelta

from redis import Redis
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from jobs.inline import run_days_inline
from models import User
from models.accounts.service import change_password
from models.read_replica import (
    BEHIND_RUN,
    LAGGING,
    REPLICA,
    STOPPED,
    check_replica,
    replication_status,
)
from portal import create_app
from portal.read_replica import read_replica
from tests.batch_support import DAY0, Backend, busy_world
from tests.mariadb_support import needs_mariadb_server
from tests.replica_support import ReplicaPair
from tests.support import TEST_PASSWORD
from tests.test_login_limits import page_sign_in
from tests.watching_support import bearer

METRICS_TOKEN = "replica-test-metrics-token-0123456789"
DAYS = [DAY0 + timedelta(days=i) for i in range(3)]


def _metric(body: str, name: str, labels: str = "") -> float | None:
    match = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", body, re.MULTILINE)
    return float(match.group(1)) if match else None


def _days(answer: dict) -> set[str]:
    return {line["period_start"] for line in answer["rows"]}


def _wait_for(what, predicate, timeout: float = 20):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, what
        time.sleep(0.2)
    return value


@needs_mariadb_server
def test_figure_reads_go_to_the_replica_only_while_it_is_current(tmp_path, redis_url):
    pair = ReplicaPair(tmp_path)
    app = None
    try:
        url, read_url = pair.database("paysystem_replica")
        backend = Backend("mariadb", redis_url, tmp_path, url=url)
        world = busy_world(backend, days=3)
        settings = backend.with_settings(database_read_url=read_url, read_replica_max_lag_seconds=30,
                                         figure_status_ttl_seconds=0, metrics_token=METRICS_TOKEN)
        run_days_inline(settings, DAYS[:1])
        pair.caught_up()
        seller_id = sorted(set(world.sellers.values()))[0]
        with Session(backend.engine) as s:
            seller = s.scalars(select(User).where(User.id == seller_id)).one()
            change_password(s, seller, TEST_PASSWORD)  # commits: the seller signs in to the pages below
            s.expunge(seller)
        app = create_app(settings)
        client = app.test_client()
        replica = read_replica(app)
        assert replica is not None
        query = f"/api/v1/settlements?from={DAYS[0]}&to={DAYS[2]}&per_page=500"

        def settlements() -> dict:
            answer = client.get(query, headers=bearer(seller, settings))
            assert answer.status_code == 200, answer.get_data(as_text=True)
            return answer.get_json()

        def metrics() -> str:
            return client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).get_data(as_text=True)

        def reads(target: str, reason: str) -> float:
            return _metric(metrics(), "paysystem_figure_reads_total", f'{{reason="{reason}",target="{target}"}}') or 0

        # Caught up: read on the replica; the lag is in /metrics.
        assert replica.state(fresh=True).reason == REPLICA
        assert _days(settlements()) == {str(DAYS[0])}
        assert reads("replica", "replica") == 1
        body = metrics()
        assert _metric(body, "paysystem_read_replica_lag_seconds") == 0
        assert _metric(body, "paysystem_read_replica_usable", '{reason="replica"}') == 1

        # Stopped: the primary answers the same figures.
        pair.run(pair.replica_admin, "STOP SLAVE")
        assert replica.state(fresh=True).reason == STOPPED
        assert _days(settlements()) == {str(DAYS[0])}
        assert reads("primary", "stopped") == 1
        body = metrics()
        assert _metric(body, "paysystem_read_replica_lag_seconds") == -1
        assert _metric(body, "paysystem_read_replica_usable", '{reason="stopped"}') == 0

        # Lagging (the SQL thread stopped, the relay log still filling): the next run's figures
        # are on the primary only, and the answer has them.
        pair.run(pair.replica_admin, "START SLAVE")
        pair.caught_up()
        pair.run(pair.replica_admin, "STOP SLAVE SQL_THREAD")
        run_days_inline(settings, DAYS[1:2])
        with pair.replica_admin.connect() as conn:
            on_replica = conn.execute(text(
                "SELECT COUNT(*) FROM paysystem_replica.video_daily_settlements WHERE day = :d"), {"d": DAYS[1]})
            assert on_replica.scalar_one() == 0
        assert replica.state(fresh=True).reason == LAGGING
        assert _days(settlements()) == {str(DAYS[0]), str(DAYS[1])}
        assert reads("primary", "lagging") == 1

        # Replicating, but applying events 10 minutes late: within the lag bound the replica is
        # still not read, because it lacks the last finished run; past the bound it is lagging.
        pair.replicate(delay_seconds=600)
        run_days_inline(settings, DAYS[2:3])
        status = _wait_for("the delayed replica reports its lag", lambda: (
            (s := replication_status(replica.engine)) and s["Slave_SQL_Running"] == "Yes"
            and (s["Seconds_Behind_Master"] or 0) >= 1 and s))
        assert status["Slave_IO_Running"] == "Yes"
        assert check_replica(replica.primary, replica.engine, max_lag_seconds=3600).reason == BEHIND_RUN
        assert check_replica(replica.primary, replica.engine, max_lag_seconds=0).reason == LAGGING
        assert replica.state(fresh=True).reason == BEHIND_RUN
        assert _days(settlements()) == set(map(str, DAYS))
        assert reads("primary", "behind_run") == 1

        # Caught up again: back on the replica, with every run's figures.
        pair.replicate(delay_seconds=0)
        pair.caught_up()
        assert replica.state(fresh=True).reason == REPLICA
        assert _days(settlements()) == set(map(str, DAYS))
        assert reads("replica", "replica") == 2

        # The seller pages read there too (signing in writes on the primary, then it replicates).
        browser = app.test_client()
        assert page_sign_in(browser, seller.email, TEST_PASSWORD).status_code == 302
        pair.caught_up()
        page = f"/settlements?from={DAYS[0]}&to={DAYS[2]}"
        assert browser.get(page).status_code == 200
        assert reads("replica", "replica") == 3

        # Proof that the figures really come from the replica: a row changed on the replica only
        # (last, nothing replicates after it) shows in the next uncached answer and page.
        with pair.replica_admin.begin() as conn:
            conn.execute(text("UPDATE paysystem_replica.video_daily_settlements SET views = 987654 "
                              "WHERE day = :d AND seller_id = :s"), {"d": DAYS[0], "s": seller_id})
        Redis.from_url(redis_url).flushdb()
        lines = settlements()["rows"]
        assert {line["views"] for line in lines if line["period_start"] == str(DAYS[0])} == {987654}
        assert "987,654" in browser.get(page).get_data(as_text=True)
    finally:
        if app is not None:
            from portal.redis_client import revocations

            revocations(app).stop()
        pair.stop()

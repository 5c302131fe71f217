"""Two apps on two databases and one Redis never meet (issue 19, item 5): every key either
writes carries its database's namespace (models/redis_conn.py `key_namespace`), RQ job ids
and scheduled job ids carry its identity, and a run with the same id in the other database
is neither taken for its own nor touched."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from datetime import date

from redis import Redis
from rq import Queue
from rq.job import Job
from rq_scheduler import Scheduler
from sqlalchemy.orm import Session

from jobs.enqueue import request_retry
from jobs.job_ids import partition_job_id
from jobs.queues import queue_connection, queue_name
from jobs.schedule import reconcile_nightly, scheduled_nightly_jobs
from models import Role
from models.accounts.service import create_user
from models.base import utcnow
from models.batch.tables import BatchPartition, BatchRun, RunState, RunTrigger
from models.db import database_identity
from models.figures.cache import FigureCache
from models.redis_conn import key_namespace
from portal import create_app
from portal.redis_client import revocations
from tests.support import TEST_PASSWORD, unique_email


def _failed_run(engine, run_id: int, day: date) -> None:  # type: ignore[no-untyped-def]
    """The same run id in each database: what two databases' id sequences give sooner or later."""
    with Session(engine) as session:
        now = utcnow()
        session.add(BatchRun(id=run_id, day=day, trigger=RunTrigger.NIGHTLY, state=RunState.FAILED,
                             partitions_total=2, rows_written=0, created_at=now, started_at=now,
                             finished_at=now, error="boom",
                             partitions=[BatchPartition(partition_index=i, video_id_lo=i * 10, video_id_hi=i * 10 + 9,
                                                        state=RunState.FAILED, attempt=1, rows_written=0)
                                         for i in range(2)]))
        session.commit()


def _sign_in_fails(app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    page = client.get("/auth/signin").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    client.post("/auth/signin", data={"csrf_token": token, "email": "nobody@example.test", "password": "wrong"})


def test_two_apps_on_two_databases_and_one_redis_never_see_each_others_keys_or_jobs(settings, engine, backend,
                                                                                       redis_url):
    ours = replace(settings, batch_queue="namespaces-test")
    theirs = replace(backend.settings, batch_queue="namespaces-test")  # even the same queue name
    assert key_namespace(ours.database_url) != key_namespace(theirs.database_url)
    redis = Redis.from_url(redis_url)
    run_id, day = 10**8 + int(time.time()) % 10**6, date(2020, 1, 25)
    _failed_run(engine, run_id, day)
    _failed_run(backend.engine, run_id, day)

    scheduler = Scheduler(queue_name=queue_name(ours), connection=queue_connection(ours))
    try:
        # Their retry leaves jobs queued under the run id; ours is not refused as "still queued"
        # (the full-run failure of tests/test_ops_runs.py) and leaves theirs alone.
        assert request_retry(theirs, run_id) == [0, 1]
        assert request_retry(ours, run_id) == [0, 1]
        for config in (ours, theirs):
            for index in (0, 1):
                job = Job.fetch(partition_job_id(database_identity(config.database_url), run_id, index), connection=redis)
                assert job.get_status() == "queued" and job.args == (_partition_id(config, run_id, index),)
                assert job.origin == queue_name(config)  # a worker of the other database never takes it
        assert queue_name(ours) != queue_name(theirs)

        # Each database's schedule is reconciled without cancelling the other's.
        reconcile_nightly(scheduler, ours)
        reconcile_nightly(scheduler, theirs)
        reconcile_nightly(scheduler, ours)  # a restart of our scheduler
        assert len(scheduled_nightly_jobs(scheduler, ours)) == 1 == len(scheduled_nightly_jobs(scheduler, theirs))
        assert scheduled_nightly_jobs(scheduler, ours)[0].id != scheduled_nightly_jobs(scheduler, theirs)[0].id

        # Figures, sign-in limits and revoked tokens of each app.
        for config, db_engine in ((ours, engine), (theirs, backend.engine)):
            app = create_app(config)
            FigureCache(redis, engine=db_engine).get_or_compute("day:2020-01-25", "probe", lambda: 1)
            _sign_in_fails(app)
            with Session(db_engine) as session:
                user = create_user(session, email=unique_email(), password=TEST_PASSWORD, role=Role.VIEWER)
                session.commit()
                user_id = user.id
            revocations(app).revoke(f"probe-{database_identity(config.database_url)}", user_id, time.time() + 60)
        for config, other in ((ours, theirs), (theirs, ours)):
            mine = {key.decode() for key in redis.scan_iter(match=f"*{key_namespace(config.database_url)}:*")}
            kinds = {kind for kind in ("figures", "login", "jwt:deny") if any(f":{kind}" in key for key in mine)}
            assert kinds == {"figures", "login", "jwt:deny"}, mine
            assert not any(key_namespace(other.database_url) in key for key in mine)

    finally:
        for config in (ours, theirs):
            for job in scheduled_nightly_jobs(scheduler, config):
                scheduler.cancel(job)
                job.delete()
        for config in (ours, theirs):
            Queue(queue_name(config), connection=redis).empty()


def _partition_id(config, run_id: int, index: int) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from jobs.engine import engine_for

    with engine_for(config.database_url).connect() as conn:
        return conn.scalar(select(BatchPartition.id).where(BatchPartition.run_id == run_id,
                                                           BatchPartition.partition_index == index))

"""The nightly schedule is registered from one module and reconciled, never duplicated."""

from __future__ import annotations

import uuid
from dataclasses import replace

from jobs.queues import queue_name
from jobs.schedule import (
    NIGHTLY_FUNC,
    nightly_cron,
    nightly_job_id,
    reconcile_nightly,
    scheduled_nightly_jobs,
)
from jobs.scheduler import make_scheduler


def test_nightly_cron_is_business_time_in_utc(settings):
    assert nightly_cron(settings) == "30 15 * * *"  # 00:30 Asia/Seoul is 15:30 UTC the day before
    assert nightly_cron(replace(settings, nightly_time="03:05", timezone="UTC")) == "5 3 * * *"


def test_reconcile_keeps_exactly_one_nightly_job(settings):
    settings = replace(settings, batch_queue=f"sched-{uuid.uuid4().hex[:6]}")
    scheduler = make_scheduler(settings)
    for job in scheduled_nightly_jobs(scheduler, settings):
        scheduler.cancel(job)
    reconcile_nightly(scheduler, settings)
    reconcile_nightly(scheduler, settings)  # a scheduler restart
    scheduler.cron("0 0 * * *", NIGHTLY_FUNC, id="stray-copy", queue_name=settings.batch_queue)
    assert len(scheduled_nightly_jobs(scheduler, settings)) == 2
    reconcile_nightly(scheduler, settings)
    [job] = scheduled_nightly_jobs(scheduler, settings)
    assert job.id == nightly_job_id(settings) and job.meta["cron_string"] == "30 15 * * *"
    assert job.origin == queue_name(settings)

    later = replace(settings, nightly_time="01:45")
    reconcile_nightly(scheduler, later)
    [job] = scheduled_nightly_jobs(scheduler, settings)
    assert job.meta["cron_string"] == "45 16 * * *"
    scheduler.cancel(job)

"""The job-runs page: who may see and press what, and a double or concurrent press
starting one run (real parallel HTTP requests against a live server)."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from jobs.enqueue import request_days
from models import Role
from models.batch.tables import BatchRun, RunState, RunTrigger
from tests.conftest import LiveServer
from tests.ops_support import (
    add_run,
    assert_admin_only_page,
    clients_by_role,
    forget_runs,
    http_signed_in,
    make_account,
    ops_app,
)

PAGES = ["/admin/runs/", "/admin/status/", "/admin/status/?month=2020-02"]
ACTIONS = [("/admin/runs/day", {"day": "2020-01-05"}),
           ("/admin/runs/backfill", {"first": "2020-01-06", "last": "2020-01-07"}),
           ("/admin/runs/999999/retry", {}),
           ("/admin/runs/backfills/999999/cancel", {})]


@pytest.fixture(scope="module")
def app(settings):
    return ops_app(settings)


@pytest.fixture(scope="module")
def by_role(app, session_factory):
    return clients_by_role(app, session_factory)


def runs_of(factory, day: date) -> list:
    with factory() as session:
        return session.execute(select(BatchRun.id, BatchRun.state, BatchRun.trigger, BatchRun.backfill_id)
                               .where(BatchRun.day == day).order_by(BatchRun.id)).all()


@pytest.mark.parametrize("url", PAGES)
def test_ops_pages_are_for_admins_only(by_role, url):
    assert_admin_only_page(by_role, url)


@pytest.mark.parametrize(("url", "form"), ACTIONS)
def test_run_buttons_are_for_admins_only_and_need_csrf(by_role, session_factory, url, form):
    anonymous = by_role["anonymous"].post(url, data=form)
    assert anonymous.status_code in (302, 400)  # no session: sign-in page, or refused for its missing token
    for role in ("viewer", "seller"):
        client = by_role[role]
        assert client.post(url, data={**form, "csrf_token": client.csrf}).status_code == 403
    assert by_role["admin"].post(url, data=form).status_code == 400  # no CSRF token
    assert runs_of(session_factory, date(2020, 1, 5)) == [] and runs_of(session_factory, date(2020, 1, 6)) == []


def test_bad_input_is_a_4xx_with_a_message(by_role):
    admin = by_role["admin"]
    bad = admin.post("/admin/runs/day", data={"day": "yesterday", "csrf_token": admin.csrf})
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.get_data(as_text=True)
    future = admin.post("/admin/runs/day", data={"day": "2999-01-01", "csrf_token": admin.csrf})
    assert future.status_code == 409 and "not over yet" in future.get_data(as_text=True)
    backwards = admin.post("/admin/runs/backfill", data={"first": "2020-02-02", "last": "2020-02-01",
                                                         "csrf_token": admin.csrf})
    assert backwards.status_code == 400 and "before it starts" in backwards.get_data(as_text=True)
    assert admin.get("/admin/runs/?page=zero").status_code == 422
    assert admin.get("/admin/status/?month=13").status_code == 422
    assert admin.get("/admin/runs/999999").status_code == 404
    assert admin.post("/admin/runs/999999/retry", data={"csrf_token": admin.csrf}).status_code == 404


def test_pressing_run_twice_starts_one_run(by_role, session_factory):
    day = date(2020, 1, 10)
    forget_runs(session_factory, day)
    admin = by_role["admin"]
    first = admin.post("/admin/runs/day", data={"day": day.isoformat(), "csrf_token": admin.csrf},
                       headers={"HX-Request": "true", "HX-Target": "runs"})
    assert first.status_code == 200 and "Started a run of 2020-01-10" in first.get_data(as_text=True)
    assert 'data-state="queued"' in first.get_data(as_text=True)  # the fragment shows the new run
    assert "HX-Request" in first.headers["Vary"]
    second = admin.post("/admin/runs/day", data={"day": day.isoformat(), "csrf_token": admin.csrf},
                        headers={"HX-Request": "true", "HX-Target": "runs"})
    assert "Already queued or running" in second.get_data(as_text=True)
    runs = runs_of(session_factory, day)
    assert len(runs) == 1 and runs[0].trigger == RunTrigger.MANUAL and runs[0].state == RunState.QUEUED
    page = admin.get("/admin/runs/", headers={"HX-Request": "true", "HX-Target": "runs"}).get_data(as_text=True)
    assert page.startswith('<section id="runs"') and 'hx-trigger="every 2s"' in page  # polls while queued
    forget_runs(session_factory, day)


def test_two_admins_pressing_at_once_start_one_run(app, session_factory):
    day, backfill_last = date(2020, 1, 20), date(2020, 1, 22)
    forget_runs(session_factory, day, date(2020, 1, 21), backfill_last)
    server = LiveServer(app).start()
    try:
        admins = [http_signed_in(server.url, make_account(session_factory, Role.ADMIN)) for _ in range(4)]
        barrier = threading.Barrier(len(admins))
        answers: list[int] = []

        def press(http, url, form):  # type: ignore[no-untyped-def]
            barrier.wait()
            answers.append(http.post(server.url + url, data={**form, "csrf_token": http.csrf},
                                     allow_redirects=False).status_code)

        for url, form in (("/admin/runs/day", {"day": day.isoformat()}),
                          ("/admin/runs/backfill", {"first": day.isoformat(), "last": backfill_last.isoformat()})):
            threads = [threading.Thread(target=press, args=(http, url, form)) for http in admins]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
    finally:
        server.stop()
    assert answers == [303] * 8
    with session_factory() as session:
        per_day = dict(session.execute(select(BatchRun.day, func.count()).where(
            BatchRun.day.between(day, backfill_last)).group_by(BatchRun.day)).all())
    assert per_day == {day: 1, date(2020, 1, 21): 1, backfill_last: 1}
    forget_runs(session_factory, day, date(2020, 1, 21), backfill_last)


def test_retry_of_a_failed_run_and_a_second_press(app, by_role, session_factory):
    day = date(2020, 1, 25)
    forget_runs(session_factory, day)
    run_id = add_run(session_factory, day, RunState.FAILED, partitions=2)
    admin = by_role["admin"]
    page = admin.get("/admin/runs/").get_data(as_text=True)
    assert f'action="/admin/runs/{run_id}/retry"' in page
    first = admin.post(f"/admin/runs/{run_id}/retry", data={"csrf_token": admin.csrf})
    assert first.status_code == 303
    second = admin.post(f"/admin/runs/{run_id}/retry", data={"csrf_token": admin.csrf})
    assert second.status_code == 409 and "already queued" in second.get_data(as_text=True)
    assert [r.state for r in runs_of(session_factory, day)] == [RunState.QUEUED]
    forget_runs(session_factory, day)


def test_cancel_the_days_of_a_backfill_that_have_not_started(app, by_role, session_factory):
    first, last = date(2020, 3, 1), date(2020, 3, 3)
    forget_runs(session_factory, first, date(2020, 3, 2), last)
    config = app.config["PAYSYSTEM_SETTINGS"]
    started = request_days(config, first, last).started
    assert len(started) == 3
    admin = by_role["admin"]
    assert "Cancel the backfill" in admin.get("/admin/runs/").get_data(as_text=True)
    answer = admin.post(f"/admin/runs/backfills/{started[0]}/cancel", data={"csrf_token": admin.csrf},
                        headers={"HX-Request": "true"})
    assert "Cancelled 3 days" in answer.get_data(as_text=True)
    states = [runs_of(session_factory, d)[0].state for d in (first, date(2020, 3, 2), last)]
    assert states == [RunState.CANCELLED] * 3
    again = admin.post(f"/admin/runs/backfills/{started[0]}/cancel", data={"csrf_token": admin.csrf})
    assert again.status_code == 409
    forget_runs(session_factory, first, date(2020, 3, 2), last)


def test_cancel_stops_at_a_day_that_has_started(app, session_factory):
    from jobs.enqueue import cancel_backfill
    from models.batch.tables import BatchPartition

    first, last = date(2020, 3, 10), date(2020, 3, 12)
    days = [first + timedelta(days=i) for i in range(3)]
    forget_runs(session_factory, *days)
    config = app.config["PAYSYSTEM_SETTINGS"]
    started = request_days(config, first, last).started
    with session_factory() as session:  # the middle day's run has begun (as a worker would mark it)
        session.get(BatchRun, started[1]).state = RunState.RUNNING
        for part in session.scalars(select(BatchPartition).where(BatchPartition.run_id == started[1])):
            part.state, part.attempt = RunState.RUNNING, 1
        session.commit()
    assert cancel_backfill(config, started[0]) == [started[2]]
    assert [runs_of(session_factory, d)[0].state for d in days] == [RunState.QUEUED, RunState.RUNNING,
                                                                     RunState.CANCELLED]
    forget_runs(session_factory, *days)


def test_runs_page_shows_the_next_nightly_run_or_that_none_is_scheduled(app, by_role):
    from jobs.schedule import nightly_job_id, reconcile_nightly, scheduled_nightly_jobs
    from jobs.scheduler import make_scheduler

    config = app.config["PAYSYSTEM_SETTINGS"]
    scheduler = make_scheduler(config)
    for job in scheduled_nightly_jobs(scheduler, config):
        scheduler.cancel(job)
    assert "No nightly run is scheduled" in by_role["admin"].get("/admin/runs/").get_data(as_text=True)
    reconcile_nightly(scheduler, config)
    try:
        page = by_role["admin"].get("/admin/runs/").get_data(as_text=True)
        assert "Next nightly run:" in page and "00:30:00 KST" in page
        assert f"/admin/rq/0/view/job/{nightly_job_id(config)}" in page
    finally:
        for job in scheduled_nightly_jobs(scheduler, config):
            scheduler.cancel(job)


def test_a_run_page_is_for_admins_and_follows_the_run(by_role, session_factory):
    day = date(2020, 4, 1)
    forget_runs(session_factory, day)
    run_id = add_run(session_factory, day, RunState.RUNNING, partitions=2)
    try:
        assert_admin_only_page(by_role, f"/admin/runs/{run_id}")
        page = by_role["admin"].get(f"/admin/runs/{run_id}").get_data(as_text=True)
        assert 'hx-trigger="every 2s"' in page and f'id="run-{run_id}"' in page
        fragment = by_role["admin"].get(f"/admin/runs/{run_id}", headers={"HX-Request": "true"})
        assert fragment.get_data(as_text=True).startswith('<div id="run-detail" hx-get=')
        with session_factory() as session:
            session.get(BatchRun, run_id).state = RunState.SUCCEEDED
            session.commit()
        ended = by_role["admin"].get(f"/admin/runs/{run_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
        assert ended.startswith('<div id="run-detail" data-polling="off">')  # polling stops by itself
    finally:
        forget_runs(session_factory, day)


def test_buttons_answer_503_with_a_message_when_the_queue_is_down(settings, session_factory):
    from dataclasses import replace

    from portal import create_app
    from tests.ops_support import signed_in
    from tests.support import free_port

    down = create_app(replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    admin = signed_in(down, make_account(session_factory, Role.ADMIN))
    answer = admin.post("/admin/runs/day", data={"day": "2020-05-01", "csrf_token": admin.csrf})
    assert answer.status_code == 503 and "cannot be reached" in answer.get_data(as_text=True)
    assert runs_of(session_factory, date(2020, 5, 1)) == []
    assert admin.get("/admin/runs/").status_code == 200  # the page itself reads the database

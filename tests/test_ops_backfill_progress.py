"""Issue 21, item 13: a running backfill is shown at the top of /admin/runs with its progress
(days done of the total, a progress bar, the time left from the average day so far), inside
the runs fragment that polls itself, so it can be watched live."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete

from models import Role
from models.batch.backfill_progress import active_backfills
from models.batch.tables import BatchRun, RunState, RunTrigger
from tests.browser_support import axe_findings, screenshot, sign_in_browser, wait_for_js
from tests.ops_support import add_run, make_account, signed_in

FIRST = date(2019, 3, 1)  # older than every other test's runs: the backfill's days are not on page 1


def _backfill(factory, states: list[tuple[RunState, float | None]], now: datetime) -> list[int]:  # type: ignore[no-untyped-def]
    """Runs of one backfill, a day each from FIRST; (state, seconds it took or has taken so far)."""
    ids = []
    with factory() as session:
        for offset, (state, seconds) in enumerate(states):
            started = now - timedelta(seconds=seconds) if seconds is not None else None
            finished = now if state in (RunState.SUCCEEDED, RunState.FAILED) else None
            if finished is not None and seconds is not None:
                started = now - timedelta(seconds=seconds + 600 * (len(states) - offset))
                finished = started + timedelta(seconds=seconds)
            run = BatchRun(day=FIRST + timedelta(days=offset), trigger=RunTrigger.BACKFILL, state=state,
                           partitions_total=0, rows_written=0, created_at=now - timedelta(hours=1),
                           started_at=started, finished_at=finished)
            session.add(run)
            session.flush()
            ids.append(run.id)
        for run_id in ids:
            session.get(BatchRun, run_id).backfill_id = ids[0]
        session.commit()
    return ids


@pytest.fixture
def backfill(session_factory):
    """Five days: two done (60 s and 120 s), one running for 200 s, two queued."""
    with session_factory() as session:
        session.execute(delete(BatchRun).where(BatchRun.day.between(FIRST, FIRST + timedelta(days=10))))
        session.commit()
    now = datetime.now(UTC)
    ids = _backfill(session_factory, [(RunState.SUCCEEDED, 60), (RunState.FAILED, 120), (RunState.RUNNING, 200),
                                      (RunState.QUEUED, None), (RunState.QUEUED, None)], now)
    newer = add_run(session_factory, date(2030, 1, 1), RunState.SUCCEEDED)  # a newer day above it by date
    yield ids
    with session_factory() as session:
        session.execute(delete(BatchRun).where(BatchRun.id.in_([*ids, newer])))
        session.commit()


def test_progress_and_time_left_from_the_average_day(session_factory, backfill):
    with session_factory() as session:
        now = datetime.now(UTC)
        (progress,) = [p for p in active_backfills(session, now) if p.backfill_id == backfill[0]]
    assert (progress.first_day, progress.last_day) == (FIRST, FIRST + timedelta(days=4))
    assert (progress.done, progress.total, progress.failed, progress.percent) == (2, 5, 1, 40)
    assert progress.running_day == FIRST + timedelta(days=2)
    assert progress.average_seconds == pytest.approx(90)
    # three days left at 90 s, the running one already past its average: 270 - 90
    assert progress.eta_seconds == 180


def test_a_cancelled_day_is_not_counted_and_no_eta_before_a_day_ends(session_factory):
    now = datetime.now(UTC)
    ids = _backfill(session_factory, [(RunState.RUNNING, 10), (RunState.QUEUED, None), (RunState.CANCELLED, None)],
                    now)
    try:
        with session_factory() as session:
            (progress,) = [p for p in active_backfills(session, now) if p.backfill_id == ids[0]]
        assert (progress.done, progress.total, progress.eta_seconds) == (0, 2, None)
    finally:
        with session_factory() as session:
            session.execute(delete(BatchRun).where(BatchRun.id.in_(ids)))
            session.commit()


def test_the_runs_page_shows_a_running_backfill_at_the_top_and_keeps_polling(app, session_factory, backfill):
    admin = signed_in(app, make_account(session_factory, Role.ADMIN))
    html = admin.get("/admin/runs/").get_data(as_text=True)
    top = html.index(f'id="backfill-{backfill[0]}"')
    assert top < html.index('class="ops-day"'), "the backfill is not above the days"
    assert "2 of 5 days done" in html and "1 failed" in html
    assert '<progress class="ops-backfill-bar" max="5" value="2"' in html
    assert "about 3 min left" in html and "a day takes 1 min 30 s on average" in html
    assert f"now computing {(FIRST + timedelta(days=2)).isoformat()}" in html
    fragment = admin.get("/admin/runs/", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.startswith('<section id="runs"') and 'data-polling="on"' in fragment
    assert f'id="backfill-{backfill[0]}"' in fragment


@pytest.mark.slow
@pytest.mark.browser
def test_the_backfill_progress_in_chromium(page, live_server, session_factory, backfill):
    admin = make_account(session_factory, Role.ADMIN)
    sign_in_browser(page, live_server.url, admin, "/admin/runs/")
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(live_server.url + "/admin/runs/")
        bar = page.locator(f"#backfill-{backfill[0]} progress")
        assert bar.get_attribute("value") == "2" and bar.is_visible()
        assert axe_findings(page) == []
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        screenshot(page, f"ops-backfill-progress-{width}")
    # the fragment polls: a day finishing shows up without a reload
    page.evaluate("window.notReloaded = true")
    with session_factory() as session:
        run = session.get(BatchRun, backfill[2])
        run.state, run.finished_at = RunState.SUCCEEDED, datetime.now(UTC)
        session.commit()
    wait_for_js(page, f"document.querySelector('#backfill-{backfill[0]} [data-days-done]')"
                      ".textContent.includes('3 of 5 days done')")
    assert page.evaluate("window.notReloaded") is True

"""Headless Chromium: an admin starts a three-day backfill from the runs page and watches it
reach `succeeded` without reloading (htmx polling, a real worker process); the data-status
calendar then shows those days final; the RQ dashboard renders the jobs. Screenshots go to
tests/artifacts/."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from jobs.queues import queue_name
from models import Role
from portal import create_app
from tests.batch_support import DAY0, busy_world
from tests.browser_support import wait_for_js
from tests.conftest import LiveServer
from tests.ops_support import make_account, start_process, stop_process
from tests.support import TEST_PASSWORD

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.mark.slow
def test_admin_backfills_three_days_and_watches_them_succeed(page, backend, media_root):
    ARTIFACTS.mkdir(exist_ok=True)
    busy_world(backend, days=3)
    settings = replace(backend.with_settings(batch_queue=f"ops-browser-{uuid.uuid4().hex[:8]}"), media_root=media_root)
    from sqlalchemy.orm import sessionmaker

    from models.db import make_sessionmaker

    factory: sessionmaker = make_sessionmaker(backend.engine)
    admin = make_account(factory, Role.ADMIN)
    server = LiveServer(create_app(settings)).start()
    worker = start_process(settings, "worker", "--name", f"{settings.batch_queue}-worker")
    log = ""
    try:
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(server.url + "/auth/signin?next=/admin/runs/")
        page.get_by_label("E-mail").fill(admin.email)
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_url("**/admin/runs/")
        page.evaluate("window.notReloaded = true")
        form = page.locator("#backfill-form")
        form.get_by_label("From").fill(DAY0.isoformat())
        form.get_by_label("To").fill((DAY0 + timedelta(days=2)).isoformat())
        form.get_by_role("button", name="Start backfill").click()
        page.locator("#runs .flash", has_text="Started a backfill").wait_for()
        wait_for_js(page,
            "document.querySelectorAll('#runs article.ops-run[data-state=succeeded]').length === 3", timeout=60_000)
        assert page.evaluate("window.notReloaded") is True  # followed live, no reload
        assert page.locator("#runs").get_attribute("data-polling") == "off"  # polling stopped by itself
        assert page.locator("#runs td", has_text=f"{settings.batch_queue}-worker").count() >= 3
        page.screenshot(path=str(ARTIFACTS / "ops_runs_backfill.png"), full_page=True)
        page.locator("#runs article.ops-run header a").first.click()
        page.wait_for_url("**/admin/runs/*")
        assert page.locator("#run-detail").get_attribute("data-polling") == "off"
        page.screenshot(path=str(ARTIFACTS / "ops_run_detail.png"), full_page=True)

        page.get_by_role("link", name="Data status").first.click()
        page.wait_for_url("**/admin/status/")
        page.goto(server.url + f"/admin/status/?month={DAY0.strftime('%Y-%m')}")
        for offset in range(3):
            cell = page.locator(f".calendar .cell[data-day='{(DAY0 + timedelta(days=offset)).isoformat()}']")
            assert cell.get_attribute("data-status") == "final"
        assert page.locator(".calendar .cell[data-status=final]").count() == 3
        page.screenshot(path=str(ARTIFACTS / "ops_status_calendar.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})  # a phone
        page.screenshot(path=str(ARTIFACTS / "ops_status_calendar_phone.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})

        page.goto(server.url + f"/admin/rq/0/view/jobs/{queue_name(settings)}/finished/100/asc/1")
        page.locator("text=-run-").first.wait_for(timeout=20_000)  # job ids: batch-<database>-run-<id>-…
        page.screenshot(path=str(ARTIFACTS / "ops_rq_dashboard.png"), full_page=True)
        # Its actions work from its own page: the script sends the CSRF token from our cookie.
        with page.expect_response(lambda r: "/admin/rq/job/" in r.url and r.url.endswith("/delete")) as deleted:
            page.locator("[data-role=delete-job-btn]").first.click()
            page.locator("#confirmation-modal-yes").click()
        assert deleted.value.status == 200 and deleted.value.json()["status"] == "OK"

        # A plan dated in the past: the page offers the backfill that re-prices the days it covers.
        page.goto(server.url + "/admin/plans/")
        plan_form = page.locator("#plan-form")
        plan_form.get_by_label("Name").fill("Retroactive")
        plan_form.get_by_label("In force from").fill((DAY0 + timedelta(days=1)).isoformat())
        plan_form.get_by_label("bracket 1 first unit").fill("1")
        plan_form.get_by_label("bracket 1 won per view").fill("2.5")
        plan_form.get_by_label("bracket 1 won per ad view").fill("20")
        plan_form.get_by_role("button", name="Add plan").click()
        offer = page.locator("#repricing")
        offer.wait_for()
        assert "2 computed days" in offer.inner_text()
        page.screenshot(path=str(ARTIFACTS / "ops_price_plans.png"), full_page=True)
        offer.get_by_role("button").click()
        page.wait_for_url("**/admin/runs/")
        wait_for_js(page,
            "document.querySelectorAll('#runs article.ops-run[data-state=succeeded]').length === 5", timeout=60_000)
        page.goto(server.url + f"/admin/status/?month={DAY0.strftime('%Y-%m')}")
        assert page.locator(".calendar .cell[data-status=final]").count() == 3
    finally:
        log = stop_process(worker)
        server.stop()
    assert "run succeeded" in log
